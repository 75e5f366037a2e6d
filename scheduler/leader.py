"""The leader lock: of all server processes, only the lock's holder runs scheduled jobs.

The holder renews its lease well before it expires. A holder that dies stops renewing, so
another process takes the lock once the lease has run out.
"""

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from bot.stores import KeyValueStore
from models.base import utcnow
from models.db import Database
from models.jobs import SchedulerLease

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler-leader"


class LeaderLock(Protocol):
    holder: str

    def acquire(self, now: datetime | None = None) -> bool:
        """Take the lock or renew it; return whether this holder leads until the lease ends."""
        ...

    def release(self) -> None:
        """Give the lock up if this holder still has it."""
        ...


class StoreLeaderLock:
    """A lock in the key-value store: Redis in production, process memory otherwise.

    Redis expires the key by its own clock, so `now` is ignored.
    """

    def __init__(self, store: KeyValueStore, holder: str, lease_seconds: float, key: str = LOCK_NAME) -> None:
        self.store = store
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.key = key

    def acquire(self, now: datetime | None = None) -> bool:
        if self.store.set_if_absent(self.key, self.holder, self.lease_seconds):
            return True
        if self.store.get(self.key) != self.holder:
            return False
        # NOTE: get-then-set is not atomic. If the key expires between the two calls, another
        # holder may take it and be overwritten here; both then lead until its next renewal.
        # Renewing at a third of the lease keeps that window to a stalled process. An atomic
        # compare-and-expire in KeyValueStore would close it.
        self.store.set(self.key, self.holder, self.lease_seconds)
        return True

    def release(self) -> None:
        self.store.delete_if_equal(self.key, self.holder)


class DatabaseLeaderLock:
    """A lock in the `scheduler_leases` table, for deployments without Redis.

    One UPDATE takes the row when its lease has expired or renews it when this holder has it,
    so two processes cannot both succeed. The first acquire inserts the row.
    """

    def __init__(self, db: Database, holder: str, lease_seconds: float, name: str = LOCK_NAME) -> None:
        self.db = db
        self.holder = holder
        self.lease = timedelta(seconds=lease_seconds)
        self.name = name

    def acquire(self, now: datetime | None = None) -> bool:
        # NOTE: expiry is compared with the caller's clock, so hosts' clocks must agree to well
        # within the lease. A host whose clock runs ahead takes the lock early.
        now = now or utcnow()
        expires_at = now + self.lease
        with self.db.engine.begin() as connection:
            taken = connection.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == self.name,
                    (SchedulerLease.expires_at <= now) | (SchedulerLease.holder == self.holder),
                )
                .values(holder=self.holder, expires_at=expires_at)
            )
            if taken.rowcount == 1:
                return True
        try:
            with self.db.engine.begin() as connection:
                connection.execute(
                    insert(SchedulerLease).values(name=self.name, holder=self.holder, expires_at=expires_at)
                )
        except IntegrityError:
            return False  # another holder has the row and its lease is still running
        return True

    def release(self) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(
                delete(SchedulerLease).where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
            )
