"""The scheduler of one server process: APScheduler runs the jobs, but only in the process that
holds the leader lock, and each run is recorded in `job_runs`."""

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.runtime import Runtime
from bot.settings import Settings
from models.base import utcnow
from models.db import Database, retry_if_locked
from models.jobs import JobRun
from scheduler.jobs import JOBS, JobSpec
from scheduler.leader import DatabaseLeaderLock, LeaderLock, StoreLeaderLock
from scheduler.pipeline_jobs import pipeline_jobs
from scheduler.report_jobs import report_jobs

log = logging.getLogger(__name__)

# A job whose time passed while no process ran (a restart, a deploy) still runs if the
# scheduler starts within this many seconds. Coalescing turns several missed runs into one.
MISFIRE_GRACE_SECONDS = 3600
LEASE_JOB_ID = "leader-lease"


def new_holder_id() -> str:
    """Return an id unique to one scheduler instance: host, process and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def open_leader_lock(runtime: Runtime, holder: str) -> LeaderLock:
    """Return the Redis lock when Redis is configured, else the database lock."""
    lease_seconds = runtime.settings.scheduler_lease_seconds
    if runtime.settings.redis_url:
        return StoreLeaderLock(runtime.store, holder, lease_seconds)
    return DatabaseLeaderLock(runtime.db, holder, lease_seconds)


def scheduled_jobs(settings: Settings) -> tuple[JobSpec, ...]:
    """Return every job: the fixed ones, the report deliveries and the pipeline-discipline
    jobs; the settings set the times of the last two."""
    return JOBS + report_jobs(settings) + pipeline_jobs(settings)


def cron_trigger(job: JobSpec, timezone: ZoneInfo) -> CronTrigger:
    return CronTrigger(timezone=timezone, **job.cron)


class JobScheduler:
    """Runs the jobs on their schedules while this process is the leader."""

    def __init__(self, runtime: Runtime, lock: LeaderLock | None = None, jobs: tuple[JobSpec, ...] | None = None) -> None:
        self.runtime = runtime
        self.lock = lock or open_leader_lock(runtime, new_holder_id())
        self.jobs = {job.id: job for job in (scheduled_jobs(runtime.settings) if jobs is None else jobs)}
        self.timezone = ZoneInfo(runtime.settings.timezone)
        self.is_leader = False
        self._scheduler = BackgroundScheduler(
            timezone=self.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )

    def start(self) -> None:
        # Renewing at a third of the lease leaves two chances to renew before it runs out.
        renew_every = self.runtime.settings.scheduler_lease_seconds / 3
        self._scheduler.add_job(
            self.renew_leadership, IntervalTrigger(seconds=renew_every, timezone=self.timezone),
            id=LEASE_JOB_ID, next_run_time=datetime.now(self.timezone),
        )
        for job in self.jobs.values():
            self._scheduler.add_job(self.run_job, cron_trigger(job, self.timezone), args=[job.id], id=job.id)
        self._scheduler.start()
        log.info("scheduler started: holder=%s jobs=%d", self.lock.holder, len(self.jobs))

    def stop(self) -> None:
        self._scheduler.shutdown(wait=True)
        if self.is_leader:
            self.lock.release()
            self.is_leader = False
        log.info("scheduler stopped: holder=%s", self.lock.holder)

    def renew_leadership(self, now: datetime | None = None) -> bool:
        """Take or renew the leader lock; return whether this process leads."""
        try:
            leading = self.lock.acquire(now)
        except Exception:
            log.exception("leader lock renewal failed: holder=%s", self.lock.holder)
            leading = False
        if leading != self.is_leader:
            log.info("scheduler leadership %s: holder=%s", "taken" if leading else "lost", self.lock.holder)
        self.is_leader = leading
        return leading

    def run_job(self, job_id: str, now: datetime | None = None) -> str:
        """Run one job if this process leads, and record the run.

        Returns "ok", "failed", or "skipped" when another process leads. A job's error is
        logged with its id and stored in `job_runs`, and the scheduler keeps running.
        """
        now = now or utcnow()
        if not self.renew_leadership(now):
            return "skipped"
        job = self.jobs[job_id]
        started = time.perf_counter()
        error = None
        try:
            retry_if_locked(self.runtime.db, lambda: job.run(self.runtime, now), f"job {job_id}")
            status = "ok"
        except Exception as exc:
            log.exception("job failed: job_id=%s", job_id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        duration_ms = (time.perf_counter() - started) * 1000
        try:
            record_run(self.runtime.db, job_id, now, status, duration_ms, self.lock.holder, error)
        except Exception:
            log.exception("job run not recorded: job_id=%s status=%s", job_id, status)
        log.info("job finished: job_id=%s status=%s ms=%.1f", job_id, status, duration_ms)
        return status


def record_run(db: Database, job_id: str, started_at: datetime, status: str, duration_ms: float, holder: str, error: str | None) -> None:
    with db.session() as session:
        run = session.get(JobRun, job_id) or JobRun(job_id=job_id)
        run.started_at = started_at
        run.status = status
        run.duration_ms = duration_ms
        run.holder = holder
        run.error = error
        session.add(run)


@dataclass(frozen=True)
class JobStatus:
    """One row of `zhongshu jobs`."""

    job: JobSpec
    last_run: JobRun | None
    next_run_at: datetime | None


def job_statuses(db: Database, timezone: ZoneInfo, now: datetime | None = None, jobs: tuple[JobSpec, ...] = JOBS) -> list[JobStatus]:
    """Return each job with its last recorded run and its next time on the schedule."""
    now = (now or utcnow()).astimezone(timezone)
    with db.session() as session:
        runs = {run.job_id: run for run in session.scalars(select(JobRun))}
    return [
        JobStatus(job, runs.get(job.id), cron_trigger(job, timezone).get_next_fire_time(None, now))
        for job in jobs
    ]
