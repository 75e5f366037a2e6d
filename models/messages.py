"""The inbox of received WeCom messages and the outbox of messages to send."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class InboxStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class InboundMessage(Base):
    """A decrypted callback message, stored before WeCom gets its answer.

    `dedup_key` is the MsgId for messages and FromUserName + CreateTime + Event (+ card keys)
    for events, so a retried delivery hits the unique constraint and stores nothing new.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_status_sender", "status", "from_user", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="wecom")
    msg_type: Mapped[str] = mapped_column(String(30))
    event: Mapped[str | None] = mapped_column(String(50))
    from_user: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None]
    create_time: Mapped[datetime]
    payload: Mapped[dict] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboundMessage(Base):
    """A reply or notification, stored in the same transaction as the change that caused it."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_status_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.PENDING)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    errcode: Mapped[int | None]
    errmsg: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


KEY_BATCH = 500  # dedup keys per IN list


def queued_keys(session: Session, dedup_keys: list[str]) -> set[str]:
    """Return those of `dedup_keys` that name a message in the outbox.

    A message stored in parts has keys `<dedup_key>:<part>`, and part 0 always exists. The
    lookup uses exact keys, not a LIKE prefix, so that PostgreSQL reads the unique index
    whatever the collation.
    """
    found = set()
    for start in range(0, len(dedup_keys), KEY_BATCH):
        first_parts = [f"{key}:0" for key in dedup_keys[start:start + KEY_BATCH]]
        stored = session.scalars(select(OutboundMessage.dedup_key).where(OutboundMessage.dedup_key.in_(first_parts)))
        found.update(key.removesuffix(":0") for key in stored)
    return found
