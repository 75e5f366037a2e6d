"""Activities (touches with a customer), their attachments and follow-up tasks."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.crm import Customer


class ActivityKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    WECHAT = "wechat"
    OTHER = "other"


class Activity(Base):
    """One touch with a customer; `raw_text` is the rep's message verbatim.

    A note about three customers records three activities that share the message and text.
    """

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_author_occurred", "author_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=ActivityKind.OTHER)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    occurred_on: Mapped[date | None]
    raw_text: Mapped[str] = mapped_column(Text)
    extracted: Mapped[dict] = mapped_column(default=dict)
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    reached: Mapped[bool | None]
    changed_requirements: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="activity")


class Attachment(Base):
    """A photo, voice message, file or location a rep sent, kept against an activity."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    media_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(200))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity | None] = relationship(back_populates="attachments")


class FollowUpTask(Base):
    __tablename__ = "follow_up_tasks"
    __table_args__ = (Index("ix_follow_up_tasks_assignee_due", "assignee_id", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship(lazy="joined")
