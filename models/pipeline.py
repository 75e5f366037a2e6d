"""Opportunities, their product lines and the record of stage moves."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.crm import Customer
from models.org import User
from models.stages import Stage


class OpportunityStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class StageMoveKind(StrEnum):
    CREATED = "created"
    FORWARD = "forward"  # to the next stage
    SKIP = "skip"  # forward past one or more stages, by command
    BACK = "back"  # to an earlier stage, by command


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (Index("ix_opportunities_owner_status_stage", "owner_id", "status", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20), default=Stage.LEAD)
    status: Mapped[str] = mapped_column(String(10), default=OpportunityStatus.OPEN)
    amount: Mapped[Decimal | None]
    expected_close_date: Mapped[date | None]
    competitors: Mapped[list] = mapped_column(default=list)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(lazy="joined")
    owner: Mapped[User] = relationship()
    lines: Mapped[list["OpportunityLine"]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan", order_by="OpportunityLine.id"
    )

    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)


class OpportunityLine(Base):
    """A product the deal is about; `product_id` is None for a product outside the catalog."""

    __tablename__ = "opportunity_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    product_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal | None] = mapped_column()
    unit: Mapped[str | None] = mapped_column(String(20))
    unit_price: Mapped[Decimal | None]

    opportunity: Mapped[Opportunity] = relationship(back_populates="lines")


class StageChange(Base):
    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
