"""Storing callback messages in the inbox and claiming them for processing."""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.db import Database
from models.messages import InboundMessage, InboxStatus

log = logging.getLogger(__name__)

# A message claimed longer ago than this is taken to belong to a worker that died.
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3


def dedup_key(fields: dict[str, str]) -> str:
    """Return the key that identifies one WeCom delivery across retries.

    Messages carry a MsgId. Events have none, so they are keyed by sender, time and event, plus
    the card's task id and button key for card clicks, and the sync token for
    customer-service events, which carry no sender.
    """
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    parts = [fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", "")]
    parts += [fields[key] for key in ("TaskId", "EventKey", "Token") if fields.get(key)]
    return "evt:" + ":".join(parts)


def store_message(db: Database, fields: dict[str, str]) -> int | None:
    """Store a decrypted message and return its id, or None when it was stored before."""
    created = datetime.fromtimestamp(int(fields.get("CreateTime") or 0), UTC)
    agent_id = fields.get("AgentID")
    row = InboundMessage(
        dedup_key=dedup_key(fields),
        msg_type=fields.get("MsgType", "").lower(),
        event=(fields.get("Event") or "").lower() or None,
        from_user=fields.get("FromUserName", ""),
        agent_id=int(agent_id) if agent_id and agent_id.isdigit() else None,
        create_time=created,
        payload=fields,
    )
    try:
        with db.session() as session:
            session.add(row)
        return row.id
    except IntegrityError:
        return None


def _claimable(session: Session, limit: int) -> list[int]:
    """Return ids of pending messages whose sender has no earlier message still unfinished.

    Each sender's messages run in order, because `改 金额 90万` must run after the note it
    corrects. The oldest unfinished message per sender is found with one grouped scan of the
    unfinished rows, so the cost grows with the backlog, not with its square. PostgreSQL skips
    rows other workers hold, and SQLite has one process.
    """
    oldest_per_sender = (
        select(func.min(InboundMessage.id))
        .where(InboundMessage.status.in_([InboxStatus.PENDING, InboxStatus.PROCESSING]))
        .group_by(InboundMessage.from_user)
    )
    query = (
        select(InboundMessage.id)
        .where(InboundMessage.status == InboxStatus.PENDING, InboundMessage.id.in_(oldest_per_sender))
        .order_by(InboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def claim_messages(db: Database, worker: str, limit: int = 5) -> list[int]:
    """Mark up to `limit` pending messages as this worker's and return their ids."""
    claimed = []
    with db.session() as session:
        for message_id in _claimable(session, limit):
            result = session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == message_id, InboundMessage.status == InboxStatus.PENDING)
                .values(
                    status=InboxStatus.PROCESSING,
                    claimed_by=worker,
                    claimed_at=utcnow(),
                    attempts=InboundMessage.attempts + 1,
                )
            )
            if result.rowcount == 1:
                claimed.append(message_id)
    return claimed


def release_stale_claims(db: Database, lease: timedelta = CLAIM_LEASE) -> int:
    """Reset messages claimed by workers that died to pending, and return how many.

    A process that is the only worker (SQLite) passes a zero lease at start-up, because every
    claim it finds then was left by its own previous run.
    """
    with db.session() as session:
        result = session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.status == InboxStatus.PROCESSING,
                InboundMessage.claimed_at <= utcnow() - lease,
            )
            .values(status=InboxStatus.PENDING, claimed_by=None)
        )
    if result.rowcount:
        log.warning("released %d stale inbox claims", result.rowcount)
    return result.rowcount


def release_own_claims(db: Database, worker: str) -> int:
    """Reset this worker's unfinished claims to pending at a clean shutdown."""
    with db.session() as session:
        result = session.execute(
            update(InboundMessage)
            .where(InboundMessage.status == InboxStatus.PROCESSING, InboundMessage.claimed_by == worker)
            .values(status=InboxStatus.PENDING, claimed_by=None)
        )
    return result.rowcount
