"""Storing replies and notifications in the outbox, and delivering them to WeCom.

A row is written in the same transaction as the change that caused it, so a crash or a WeCom
outage delays a message but never loses it. A sender marks each row sent or failed with
WeCom's errcode.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.wecom.client import SendResult, WeComClient, WeComUnavailable
from bot.wecom.text import split_text
from handlers.outcome import Outcome, Reply, Text
from models.base import utcnow
from models.db import Database
from models.messages import OutboundMessage, OutboxStatus

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
RETRY_ERRCODES = {-1}  # WeCom's "system busy"
RATE_LIMIT_ERRCODES = {45009, 45033}
RATE_LIMIT_BACKOFF = timedelta(seconds=60)


def _payloads(reply: Reply) -> list[dict]:
    if isinstance(reply, Text):
        return [{"msgtype": "text", "text": {"content": part}} for part in split_text(reply.text)]
    # TODO: cards, images and files are rendered once the approval and report features send them.
    raise NotImplementedError(f"outbox cannot render {type(reply).__name__} yet")


def enqueue_reply(
    session: Session, recipient: str, reply: Reply, *, dedup_key: str | None = None,
    in_reply_to: int | None = None, not_before: datetime | None = None,
) -> list[OutboundMessage]:
    rows = []
    for index, payload in enumerate(_payloads(reply)):
        row = OutboundMessage(
            recipient=recipient, kind=payload["msgtype"], payload=payload,
            dedup_key=f"{dedup_key}:{index}" if dedup_key else None,
            in_reply_to=in_reply_to, not_before=not_before or utcnow(),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def enqueue_outcome(session: Session, sender: str, outcome: Outcome, in_reply_to: int | None) -> int:
    """Store the outcome's replies to the sender and its notifications, and return the row count."""
    count = 0
    for index, reply in enumerate(outcome.replies):
        key = f"reply:{in_reply_to}:{index}" if in_reply_to else None
        count += len(enqueue_reply(session, sender, reply, dedup_key=key, in_reply_to=in_reply_to))
    for notification in outcome.notifications:
        rows = enqueue_reply(session, notification.recipient, notification.reply, dedup_key=notification.dedup_key)
        count += len(rows)
    return count


def cancel(session: Session, row_ids: list[int]) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(row_ids), OutboundMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )


def _claim_due(db: Database, limit: int) -> list[OutboundMessage]:
    now = utcnow()
    claimed = []
    with db.session() as session:
        query = (
            select(OutboundMessage)
            .where(
                or_(
                    (OutboundMessage.status == OutboxStatus.PENDING) & (OutboundMessage.not_before <= now),
                    (OutboundMessage.status == OutboxStatus.SENDING) & (OutboundMessage.claimed_at <= now - SEND_LEASE),
                )
            )
            .order_by(OutboundMessage.not_before, OutboundMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for row in session.scalars(query).all():
            result = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row.id, OutboundMessage.status == row.status)
                .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboundMessage.attempts + 1)
            )
            if result.rowcount == 1:
                claimed.append(row)
    return claimed


def _next_state(row: OutboundMessage, result: SendResult | None, attempts: int) -> dict:
    now = utcnow()
    if result is not None and result.ok:
        return {"status": OutboxStatus.SENT, "sent_at": now, "errcode": 0, "errmsg": None}
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


def deliver_due(db: Database, client: WeComClient, limit: int = 20) -> int:
    """Send due outbox rows once each, and return how many were attempted."""
    # NOTE: a process that dies after WeCom accepted a message but before the row is marked
    # sent resends it once the lease expires; only the sent mark below prevents a repeat.
    rows = _claim_due(db, limit)
    for row in rows:
        result: SendResult | None
        try:
            result = client.send_message(row.recipient, row.payload)
        except WeComUnavailable as exc:
            log.warning("outbox send failed: outbox_id=%d reason=%s", row.id, exc.reason)
            result = None
        state = _next_state(row, result, row.attempts + 1)
        with db.session() as session:
            session.execute(update(OutboundMessage).where(OutboundMessage.id == row.id).values(**state))
        if state["status"] == OutboxStatus.SENT:
            log.info("outbox sent: outbox_id=%d", row.id)
        else:
            log.warning("outbox not sent: outbox_id=%d status=%s errcode=%s", row.id, state["status"], state["errcode"])
    return len(rows)
