"""Keeping photos, voice messages, files and locations against the rep's latest activity."""

import logging
from datetime import timedelta

from sqlalchemy import select

from handlers.changes import ChangeBatch
from handlers.context import Context
from handlers.outcome import Outcome
from handlers.wording import media as wording
from models.activity import Activity, Attachment

log = logging.getLogger(__name__)

# An attachment sent within this time after a note belongs to that note's visit.
ATTACH_WINDOW = timedelta(hours=12)
# An attachment kept unlinked belongs to the next note sent within this time: reps often send
# the photos from the site first and type the note afterwards. Longer, and a photo of one
# visit would land on the next visit's note.
LINK_BEFORE_NOTE = timedelta(hours=2)


def _latest_activity(ctx: Context) -> Activity | None:
    query = (
        select(Activity)
        .where(Activity.author_id == ctx.actor.id, Activity.created_at >= ctx.now - ATTACH_WINDOW)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(1)
    )
    return ctx.session.scalars(query).unique().first()


def keep_attachment(ctx: Context, kind: str, fields: dict) -> Outcome:
    """Store the attachment against the latest activity of the last 12 hours, or unlinked."""
    activity = _latest_activity(ctx)
    attachment = Attachment(
        activity_id=activity.id if activity else None,
        author_id=ctx.actor.id,
        kind=kind,
        media_id=fields.get("media_id"),
        url=fields.get("url"),
        latitude=fields.get("latitude"),
        longitude=fields.get("longitude"),
        label=fields.get("label"),
        source_message_id=ctx.source_message_id,
        created_at=ctx.now,
    )
    ctx.session.add(attachment)
    batch = ChangeBatch(ctx.session, ctx.actor.id, "attachment", ctx.source_message_id)
    batch.created(attachment)
    batch.finish()
    log.info("attachment kept: kind=%s activity_id=%s", kind, attachment.activity_id)
    return Outcome.text(wording.kept(kind, activity, fields.get("label")))


def link_earlier_attachments(ctx: Context, batch: ChangeBatch, activity: Activity) -> int:
    """Link the actor's unlinked attachments of the last LINK_BEFORE_NOTE to `activity`, and return how many.

    The batch records each change, so undoing the note unlinks them again.
    """
    query = select(Attachment).where(
        Attachment.author_id == ctx.actor.id, Attachment.activity_id.is_(None),
        Attachment.created_at >= ctx.now - LINK_BEFORE_NOTE,
    )
    attachments = list(ctx.session.scalars(query))
    for attachment in attachments:
        batch.updating(attachment)
        attachment.activity = activity
    if attachments:
        log.info("earlier attachments linked: activity_id=%s count=%d", activity.id, len(attachments))
    return len(attachments)
