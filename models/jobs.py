"""Scheduler state shared by every server process: the leader lease and each job's last run."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SchedulerLease(Base):
    """The leader lock when no Redis is configured: `holder` leads until `expires_at`."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


class JobRun(Base):
    """The last run of one scheduled job, for `zhongshu jobs`."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    started_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))  # "ok" or "failed"
    duration_ms: Mapped[float]
    holder: Mapped[str] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
