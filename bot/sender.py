"""Delivering outbox rows to WeCom: rendering, per-member limits, retries and card updates.

WeCom drops messages beyond 30 a minute and 1,000 an hour per member without an error, so
the sender counts what it sent from the outbox itself and delays (or merges texts) instead.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot import kf_channel
from bot.outbox import claim_due, enqueue_reply
from bot.wecom.client import SendResult, WeComClient, WeComUnavailable
from bot.wecom.groups import MediaTooLarge, send_group_payload
from bot.wecom.text import TEXT_MAX_BYTES
from handlers.outcome import Text
from handlers.wording import common as wording
from models.base import utcnow
from models.db import Database
from models.messages import OutboundMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_ERRCODES = {-1}  # WeCom's "system busy"
RATE_LIMIT_ERRCODES = {45009, 45033}
RATE_LIMIT_BACKOFF = timedelta(seconds=60)


@dataclass(frozen=True)
class MemberLimit:
    count: int
    window: timedelta


# WeCom's per-member limits for one app.
MEMBER_LIMITS = (MemberLimit(30, timedelta(minutes=1)), MemberLimit(1000, timedelta(hours=1)))
# WeCom's limits per app group chat and per group robot; their recipients are `appchat:<chatid>`
# and `robot:<name>`, so these windows never mix with a member's.
GROUP_LIMITS = {
    "appchat": (MemberLimit(200, timedelta(minutes=1)),),
    "robot": (MemberLimit(20, timedelta(minutes=1)),),
}


def _free_at(
    db: Database, recipient: str, now: datetime, limits: tuple[MemberLimit, ...] = MEMBER_LIMITS
) -> datetime | None:
    """Return when the recipient may receive another message, or None when they may now."""
    with db.session() as session:
        for limit in limits:
            sent = session.scalars(
                select(OutboundMessage.sent_at)
                .where(
                    OutboundMessage.recipient == recipient,
                    OutboundMessage.status == OutboxStatus.SENT,
                    OutboundMessage.kind != "card_update",
                    OutboundMessage.sent_at > now - limit.window,
                )
                .order_by(OutboundMessage.sent_at.desc())
                .limit(limit.count)
            ).all()
            if len(sent) >= limit.count:
                return sent[-1] + limit.window
    return None


def _defer(db: Database, row: OutboundMessage, free_at: datetime) -> None:
    """Hold a row until the member may receive again, folding a text into one already waiting.

    Texts to one member that wait for the same window go out as one message (up to WeCom's
    text size), so a burst of notifications costs the member one message, not dozens.
    """
    with db.session() as session:
        if row.kind == "text":
            waiting = session.scalars(
                select(OutboundMessage)
                .where(
                    OutboundMessage.recipient == row.recipient,
                    OutboundMessage.kind == "text",
                    OutboundMessage.status == OutboxStatus.PENDING,
                    OutboundMessage.not_before > utcnow(),
                    OutboundMessage.id < row.id,
                )
                .order_by(OutboundMessage.id.desc())
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if waiting is not None:
                combined = waiting.payload["text"]["content"] + "\n\n" + row.payload["text"]["content"]
                if len(combined.encode("utf-8")) <= TEXT_MAX_BYTES:
                    waiting.payload = {"msgtype": "text", "text": {"content": combined}}
                    session.execute(
                        update(OutboundMessage).where(OutboundMessage.id == row.id)
                        .values(status=OutboxStatus.CANCELLED, errmsg=f"merged into outbox row {waiting.id}")
                    )
                    return
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == row.id)
            .values(status=OutboxStatus.PENDING, not_before=free_at, attempts=OutboundMessage.attempts - 1)
        )


def _send(client: WeComClient, row: OutboundMessage) -> SendResult:
    payload = row.payload
    if row.kind in GROUP_LIMITS:
        return send_group_payload(client, row.kind, payload)
    if row.kind in ("image", "file"):
        media = client.upload_media(row.kind, payload["path"])
        if not media.ok:
            return SendResult(ok=False, errcode=media.errcode, errmsg=media.errmsg, msgid=None)
        return client.send_message(row.recipient, {"msgtype": row.kind, row.kind: {"media_id": media.media_id}})
    return client.send_message(row.recipient, payload)


def _update_card(db: Database, client: WeComClient, row: OutboundMessage) -> SendResult:
    """Grey out the card; when the click's code is missing or rejected, tell each recipient in text."""
    payload = row.payload
    if payload.get("response_code"):
        result = client.update_template_card(payload["recipients"], payload["response_code"], payload["label"])
        if result.ok or result.errcode in RETRY_ERRCODES | RATE_LIMIT_ERRCODES:
            return result
        log.warning("card update rejected: outbox_id=%d errcode=%s", row.id, result.errcode)
    with db.session() as session:
        for recipient in payload["recipients"]:
            notice = Text(wording.CARD_DECIDED.format(label=payload["label"]))
            enqueue_reply(session, recipient, notice, dedup_key=f"card-notice:{payload['task_id']}:{recipient}")
    return SendResult(ok=True, errcode=0, errmsg="sent as text notices", msgid=None)


def _next_state(result: SendResult | None, attempts: int) -> dict:
    now = utcnow()
    if result is not None and result.ok:
        return {"status": OutboxStatus.SENT, "sent_at": now, "errcode": 0, "errmsg": result.errmsg or None}
    errcode = result.errcode if result is not None else None
    errmsg = result.errmsg if result is not None else "WeCom unreachable"
    if attempts >= MAX_ATTEMPTS:
        return {"status": OutboxStatus.FAILED, "errcode": errcode, "errmsg": errmsg}
    if result is None or errcode in RETRY_ERRCODES:
        delay = timedelta(seconds=min(2**attempts, 300))
    elif errcode in RATE_LIMIT_ERRCODES:
        delay = RATE_LIMIT_BACKOFF
    else:
        return {"status": OutboxStatus.FAILED, "errcode": errcode, "errmsg": errmsg}
    return {"status": OutboxStatus.PENDING, "not_before": now + delay, "errcode": errcode, "errmsg": errmsg}


def _deliver_one(db: Database, client: WeComClient, row: OutboundMessage) -> None:
    if row.kind == "kf":
        # Customer service replies follow WeCom's kf window instead of the member limits.
        if not kf_channel.may_send(db, row):
            log.info("outbox handed over: outbox_id=%d", row.id)
            return
    elif row.kind != "card_update":
        free_at = _free_at(db, row.recipient, utcnow(), GROUP_LIMITS.get(row.kind, MEMBER_LIMITS))
        if free_at is not None:
            _defer(db, row, free_at)
            log.info("outbox delayed by member limit: outbox_id=%d", row.id)
            return

    result: SendResult | None
    try:
        if row.kind == "kf":
            result = kf_channel.send(db, client, row)
        else:
            result = _update_card(db, client, row) if row.kind == "card_update" else _send(client, row)
    except WeComUnavailable as exc:
        log.warning("outbox send failed: outbox_id=%d reason=%s", row.id, exc.reason)
        result = None
    except OSError as exc:
        log.error("outbox file unreadable: outbox_id=%d error=%s", row.id, exc)
        with db.session() as session:
            session.execute(
                update(OutboundMessage).where(OutboundMessage.id == row.id)
                .values(status=OutboxStatus.FAILED, errcode=None, errmsg=f"file unreadable: {exc}")
            )
        return
    except MediaTooLarge as exc:
        log.error("outbox file too large: outbox_id=%d error=%s", row.id, exc)
        with db.session() as session:
            session.execute(
                update(OutboundMessage).where(OutboundMessage.id == row.id)
                .values(status=OutboxStatus.FAILED, errcode=None, errmsg=str(exc))
            )
        return

    state = _next_state(result, row.attempts)
    with db.session() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == row.id).values(**state))
    if state["status"] == OutboxStatus.SENT:
        log.info("outbox sent: outbox_id=%d kind=%s", row.id, row.kind)
    else:
        log.warning("outbox not sent: outbox_id=%d status=%s errcode=%s", row.id, state["status"], state["errcode"])


def deliver_due(db: Database, client: WeComClient, limit: int = 20) -> int:
    """Send due outbox rows once each, and return how many were attempted."""
    # NOTE: a process can die after WeCom accepted a message but before the row is marked sent.
    # The row is then sent again once its lease expires, because only that mark prevents a repeat.
    rows = claim_due(db, limit)
    for row in rows:
        _deliver_one(db, client, row)
    return len(rows)

