"""Records of pipeline discipline: stage-limit reminders and escalations, and rule notices."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class StageAlert(Base):
    """An opportunity found past its stage's time limit, for one stay in that stage.

    A stay is identified by `stage_entered_at`, so an opportunity that leaves the stage and
    comes back starts a new row. `first_reminded_at` starts the escalation clock, and `owner_id`
    is the owner at that time. The daily reminders themselves are outbox rows.
    """

    __tablename__ = "stage_alerts"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "stage_entered_at", name="uq_stage_alerts_opportunity_entered"),
        Index("ix_stage_alerts_escalation", "escalated_at", "first_reminded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20))
    stage_entered_at: Mapped[datetime]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    first_reminded_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RuleNotice(Base):
    """One firing of a notification rule from the pipeline rules file.

    `event_key` names what fired it: `change:<stage change id>` for a stage rule, or
    `opportunity:<id>` for a field rule, which fires once per opportunity. The unique key makes
    a second sweep over the same changes send nothing.
    """

    __tablename__ = "rule_notices"
    __table_args__ = (UniqueConstraint("rule", "event_key", name="uq_rule_notices_rule_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(60))
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), index=True)
    batch: Mapped[str] = mapped_column(String(40), index=True)
    sent_at: Mapped[datetime]
