"""Rule-driven notifications: "when an opportunity enters stage X, or its amount reaches N,
tell everyone with role Y", as set by the [[notify]] tables of the pipeline rules file.

A sweep every few minutes reads committed changes instead of a hook in `record_stage_change`.
A visit note moves the stage before it adds the products, amount and activity that the
message lists, so a hook would send half the requirements. Each firing is recorded in
`rule_notices` under a unique (rule, event) key in the same transaction as its messages, so a
sweep that runs twice, or overlaps the previous one's window, sends nothing twice. The sweep
looks back a fixed window rather than keeping an id watermark, because stage changes commit
out of id order when several workers record notes at once.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.orm import Session

from handlers.outcome import Notification, Text
from handlers.stage_limits import insert_new_rows
from handlers.wording import stage_rules as wording
from handlers.wording.format import local_day
from models.activity import Activity
from models.base import UTCDateTime
from models.discipline import RuleNotice
from models.org import User
from models.pipeline import Opportunity, OpportunityStatus, StageChange
from models.rules import NotifyRule, PipelineRules
from models.stages import Stage

log = logging.getLogger(__name__)

LATEST_NOTE_CHARS = 200


@dataclass(frozen=True)
class Requirements:
    """The customer's requirements on one opportunity, as a rule's message lists them."""

    customer: str
    region: str | None
    title: str
    stage: Stage
    owner: str
    lines: list[tuple[str, Decimal | None, str | None]]
    amount: Decimal | None
    competitors: list[str]
    latest_note: str | None
    latest_note_on: object
    latest_note_author: str | None


def notify_by_rules(session: Session, rules: PipelineRules, now: datetime, lookback: timedelta) -> list[Notification]:
    """Fire every rule on the changes of the last `lookback` and return one message per recipient."""
    batch = uuid.uuid4().hex
    since = now - lookback
    fired = 0
    for rule in rules.notify:
        fired += _record_firings(session, rule, batch, now, since)
    if not fired:
        return []
    log.info("notification rules fired: notices=%d batch=%s", fired, batch)
    return _notifications(session, rules, batch, now)


def _record_firings(session: Session, rule: NotifyRule, batch: str, now: datetime, since: datetime) -> int:
    """Insert a notice for each new event of `rule`, in one statement; return how many."""
    if rule.stage is not None:
        event_key = literal("change:") + cast(StageChange.id, String)
        opportunity_id = StageChange.opportunity_id
        condition = and_(
            StageChange.to_stage == rule.stage.value,
            StageChange.changed_at >= since,
            exists().where(Opportunity.id == StageChange.opportunity_id, Opportunity.status == OpportunityStatus.OPEN),
        )
    else:
        event_key = literal("opportunity:") + cast(Opportunity.id, String)
        opportunity_id = Opportunity.id
        condition = and_(
            Opportunity.status == OpportunityStatus.OPEN,
            Opportunity.updated_at >= since,
            getattr(Opportunity, rule.field) >= rule.at_least,
        )
    events = select(
        literal(rule.name), event_key, opportunity_id, literal(batch), literal(now, UTCDateTime())
    ).where(condition)
    # An event that fired before hits the unique (rule, event_key) and is skipped.
    return insert_new_rows(session, RuleNotice, ["rule", "event_key", "opportunity_id", "batch", "sent_at"], events)


def _notifications(session: Session, rules: PipelineRules, batch: str, now: datetime) -> list[Notification]:
    notices = session.scalars(select(RuleNotice).where(RuleNotice.batch == batch).order_by(RuleNotice.id)).all()
    by_name = {rule.name: rule for rule in rules.notify}
    roles = {role for notice in notices for role in by_name[notice.rule].roles}
    recipients = session.scalars(
        select(User)
        .where(User.role.in_(roles), User.active.is_(True), User.on_leave.is_(False))
        .order_by(User.id)
    ).unique().all()

    # Several rules, or several events of one opportunity, reach a recipient as one message.
    sections: dict[str, dict[tuple[str, int], Requirements]] = defaultdict(dict)
    first_notice: dict[str, int] = {}
    requirements: dict[int, Requirements] = {}
    for notice in notices:
        rule = by_name[notice.rule]
        targets = [user for user in recipients if user.role in rule.roles]
        if not targets:
            log.warning("notification rule has no recipient: rule=%s notice_id=%d", rule.name, notice.id)
            continue
        if notice.opportunity_id not in requirements:
            requirements[notice.opportunity_id] = _requirements(session, notice.opportunity_id)
        for user in targets:
            sections[user.userid][(rule.title or rule.name, notice.opportunity_id)] = requirements[notice.opportunity_id]
            first_notice.setdefault(user.userid, notice.id)

    today = local_day(now)
    notifications = []
    for userid, listed in sections.items():
        text = wording.rule_notice(list(listed.items()), today)
        key = f"stage-rule:{userid}:{first_notice[userid]}"
        notifications.append(Notification(userid, Text(text), dedup_key=key))
    return notifications


def _requirements(session: Session, opportunity_id: int) -> Requirements:
    # NOTE: this runs two queries per opportunity. A sweep reads the few opportunities changed
    # since the previous run five minutes before, so the count stays small.
    opportunity = session.get(Opportunity, opportunity_id)
    latest = session.scalars(
        select(Activity)
        .where(Activity.opportunity_id == opportunity_id)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        latest = session.scalars(
            select(Activity)
            .where(Activity.customer_id == opportunity.customer_id)
            .order_by(Activity.created_at.desc(), Activity.id.desc())
            .limit(1)
        ).first()
    author = session.get(User, latest.author_id) if latest else None
    note = latest.raw_text if latest else None
    if note and len(note) > LATEST_NOTE_CHARS:
        note = note[:LATEST_NOTE_CHARS] + "…"
    return Requirements(
        customer=opportunity.customer.name,
        region=opportunity.customer.region,
        title=opportunity.title,
        stage=Stage(opportunity.stage),
        owner=opportunity.owner.name,
        lines=[(line.product_name, line.quantity, line.unit) for line in opportunity.lines],
        amount=opportunity.amount,
        competitors=list(opportunity.competitors or []),
        latest_note=note,
        latest_note_on=(latest.occurred_on or local_day(latest.created_at)) if latest else None,
        latest_note_author=author.name if author else None,
    )
