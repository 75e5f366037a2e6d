"""The history of the public pool (公海): every release, claim, assignment and take-back."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class PoolEventKind(StrEnum):
    RELEASE = "release"  # by the scheduler, after too long without a follow-up
    CLAIM = "claim"  # a rep took a pool customer
    ASSIGN = "assign"  # a director gave a customer to someone
    TAKE_BACK = "take_back"  # a director moved an owned customer to the pool


class PoolEvent(Base):
    """One change of a customer's owner through the pool; `to_owner_id` None means into the pool.

    `actor_id` is None for the scheduler's releases. `batch` groups the events of one job run.
    """

    __tablename__ = "pool_events"
    __table_args__ = (
        Index("ix_pool_events_customer_at", "customer_id", "at"),
        Index("ix_pool_events_from_owner_at", "from_owner_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    from_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    batch: Mapped[str | None] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
