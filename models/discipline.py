"""Records of pipeline discipline: stage-limit reminders and escalations, and rule notices."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class StageAlert(Base):
    """An opportunity found past its stage's time limit, for one stay in that stage.

    A stay is identified by `stage_entered_at`, so an opportunity that leaves the stage and
    comes back starts a new row; the two make the primary key. `first_reminded_at` starts the escalation clock. The daily
    reminders and the escalation messages themselves are outbox rows, which name their recipients.
    """

    __tablename__ = "stage_alerts"
    __table_args__ = (Index("ix_stage_alerts_escalation", "escalated_at", "first_reminded_at"),)

    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True)
    stage_entered_at: Mapped[datetime] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    first_reminded_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]


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
