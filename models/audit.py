"""The audit trail: every change a use case makes, grouped so that it can be undone."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ChangeRecord(Base):
    """One row created, updated or deleted by a use case.

    `batch` groups the rows of one use case (one note, one correction); `before` holds the
    changed columns' old values, so `撤销` can restore them in reverse order.
    """

    __tablename__ = "change_records"
    __table_args__ = (Index("ix_change_records_actor_batch", "actor_id", "batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[str] = mapped_column(String(40), index=True)
    batch_label: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(10))
    table_name: Mapped[str] = mapped_column(String(50))
    row_id: Mapped[int]
    before: Mapped[dict | None]
    after: Mapped[dict | None]
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
