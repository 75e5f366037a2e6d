"""The scheduler: the leader lock on both backends, leadership between two instances, and the
record of each job's runs."""

import os
import sqlite3
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.runtime import Runtime
from bot.stores import MemoryStore, RedisStore
from models.base import utcnow
from models.jobs import JobRun, SchedulerLease
from scheduler.jobs import JobSpec
from scheduler.leader import DatabaseLeaderLock, StoreLeaderLock
from scheduler.service import JobScheduler, job_statuses
from tests.conftest import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEASE = 30.0


@pytest.fixture
def runtime(db, redis_prefix) -> Runtime:
    return Runtime.from_settings(make_settings(db.url, redis_prefix))


def _stores(redis_prefix):
    yield "memory", MemoryStore()
    url = os.environ.get("REDIS_URL")
    if url:
        yield "redis", RedisStore(url, redis_prefix)


def _record_calls(calls: list):
    def run(runtime, now):
        calls.append(now)

    return run


def test_database_lock_has_one_holder(db):
    now = utcnow()
    first = DatabaseLeaderLock(db, "host-a", LEASE)
    second = DatabaseLeaderLock(db, "host-b", LEASE)
    assert first.acquire(now)
    assert not second.acquire(now)
    assert first.acquire(now + timedelta(seconds=10))  # renewal
    assert not second.acquire(now + timedelta(seconds=LEASE + 5))  # the renewal moved the expiry


def test_database_lock_expiry_hands_over(db):
    now = utcnow()
    first = DatabaseLeaderLock(db, "host-a", LEASE)
    second = DatabaseLeaderLock(db, "host-b", LEASE)
    assert first.acquire(now)
    later = now + timedelta(seconds=LEASE + 1)
    assert second.acquire(later)
    assert not first.acquire(later)
    with db.session() as session:
        assert session.get(SchedulerLease, "scheduler-leader").holder == "host-b"


def test_database_lock_release_hands_over(db):
    now = utcnow()
    first = DatabaseLeaderLock(db, "host-a", LEASE)
    second = DatabaseLeaderLock(db, "host-b", LEASE)
    assert first.acquire(now)
    second.release()  # not the holder: changes nothing
    assert not second.acquire(now)
    first.release()
    assert second.acquire(now)


def test_store_lock_expiry_hands_over(redis_prefix):
    for backend, store in _stores(redis_prefix):
        first = StoreLeaderLock(store, "host-a", lease_seconds=0.3)
        second = StoreLeaderLock(store, "host-b", lease_seconds=0.3)
        assert first.acquire(), backend
        assert not second.acquire(), backend
        assert first.acquire(), backend  # renewal by the holder
        time.sleep(0.45)  # Redis expires keys by its own clock, so the test waits out the lease
        assert second.acquire(), backend
        assert not first.acquire(), backend
        first.release()  # not the holder: changes nothing
        assert store.get("scheduler-leader") == "host-b", backend
        second.release()
        assert store.get("scheduler-leader") is None, backend


def test_two_schedulers_run_job_once(runtime, db):
    calls = []
    jobs = (JobSpec("probe", _record_calls(calls)),)
    first = JobScheduler(runtime, DatabaseLeaderLock(db, "host-a", LEASE), jobs)
    second = JobScheduler(runtime, DatabaseLeaderLock(db, "host-b", LEASE), jobs)
    now = utcnow()

    assert first.run_job("probe", now) == "ok"
    assert second.run_job("probe", now) == "skipped"
    assert calls == [now]
    assert first.is_leader
    assert not second.is_leader


def test_scheduler_takes_over_dead_leader(runtime, db):
    calls = []
    jobs = (JobSpec("probe", _record_calls(calls)),)
    first = JobScheduler(runtime, DatabaseLeaderLock(db, "host-a", LEASE), jobs)
    second = JobScheduler(runtime, DatabaseLeaderLock(db, "host-b", LEASE), jobs)
    now = utcnow()
    assert first.renew_leadership(now)

    # The first instance dies: it stops renewing, and its lease runs out.
    later = now + timedelta(seconds=LEASE + 1)
    assert second.run_job("probe", later) == "ok"
    assert first.run_job("probe", later) == "skipped"
    assert calls == [later]


def test_scheduler_redis_lock_one_leader(runtime, redis_prefix):
    if not runtime.settings.redis_url:
        pytest.skip("REDIS_URL is not set")
    calls = []
    jobs = (JobSpec("probe", _record_calls(calls)),)
    first = JobScheduler(runtime, StoreLeaderLock(runtime.store, "host-a", LEASE), jobs)
    second = JobScheduler(runtime, StoreLeaderLock(runtime.store, "host-b", LEASE), jobs)
    assert first.run_job("probe") == "ok"
    assert second.run_job("probe") == "skipped"
    assert len(calls) == 1
    first.lock.release()


def test_job_run_is_recorded(runtime, db):
    jobs = (JobSpec("probe", _record_calls([]), {"hour": 8, "minute": 30}),)
    scheduler = JobScheduler(runtime, DatabaseLeaderLock(db, "host-a", LEASE), jobs)
    now = utcnow()
    scheduler.run_job("probe", now)

    [status] = job_statuses(db, SHANGHAI, now, jobs)
    assert status.last_run.status == "ok"
    assert status.last_run.started_at == now
    assert status.last_run.holder == "host-a"
    assert status.last_run.duration_ms >= 0
    next_local = status.next_run_at.astimezone(SHANGHAI)
    assert (next_local.hour, next_local.minute) == (8, 30)
    assert now < status.next_run_at <= now + timedelta(days=1)


def test_job_failure_is_logged_and_recorded(runtime, db, caplog):
    def broken(runtime, now):
        raise RuntimeError("database gone")

    jobs = (JobSpec("broken", broken),)
    scheduler = JobScheduler(runtime, DatabaseLeaderLock(db, "host-a", LEASE), jobs)
    assert scheduler.run_job("broken") == "failed"
    assert "job failed: job_id=broken" in caplog.text
    with db.session() as session:
        run = session.get(JobRun, "broken")
    assert run.status == "failed"
    assert run.error == "RuntimeError: database gone"


def test_started_scheduler_leads_then_releases(runtime, db):
    scheduler = JobScheduler(runtime)
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while not scheduler.is_leader and time.monotonic() < deadline:
            time.sleep(0.02)
        assert scheduler.is_leader
    finally:
        scheduler.stop()
    assert not scheduler.is_leader
    if runtime.settings.redis_url:
        assert runtime.store.get("scheduler-leader") is None
    else:
        with db.session() as session:
            assert session.scalars(select(SchedulerLease)).all() == []


def test_job_rerun_after_a_stale_sqlite_lock(runtime, db):
    """SQLite fails a transaction whose read went stale with "database is locked"; the job runs
    again. On PostgreSQL the same error is a real failure and is not retried."""
    attempts = []

    def locked_once(runtime, now):
        attempts.append(now)
        if len(attempts) == 1:
            raise OperationalError("INSERT INTO job_runs …", {}, sqlite3.OperationalError("database is locked"))

    jobs = (JobSpec("locked_once", locked_once),)
    scheduler = JobScheduler(runtime, DatabaseLeaderLock(db, "host-a", LEASE), jobs)
    if db.is_sqlite:
        assert scheduler.run_job("locked_once") == "ok"
        assert len(attempts) == 2
    else:
        assert scheduler.run_job("locked_once") == "failed"
        assert len(attempts) == 1
