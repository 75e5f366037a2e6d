"""Engine and session factory for one database URL."""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
# SQLite fails a transaction at once ("database is locked") when it read before another
# writer committed and then tries to write. Running the whole transaction again succeeds.
SQLITE_LOCK_RETRIES = 3


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the callback write while a worker reads; busy_timeout waits for the writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    # JIT compilation pays off for long analytic queries only. The scheduler's sweeps and the
    # reports cost enough to trigger it, and compiling took 85 ms of a 735 ms sweep query.
    return create_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, connect_args={"options": "-c jit=off"}
    )


class Database:
    """A database: its engine and a factory of sessions that commit on success."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session in a transaction; commit when the block ends, roll back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def retry_if_locked(db: Database, work: Callable[[], T], label: str) -> T:
    """Run `work`, which opens and commits its own transactions, and return its result.

    On SQLite, work that failed on a stale lock runs again, up to SQLITE_LOCK_RETRIES times in
    all. Only idempotent work may be retried: a message's processing, a scheduled job. `label`
    names the work in logs.
    """
    for attempt in range(1, SQLITE_LOCK_RETRIES + 1):
        try:
            return work()
        except OperationalError as error:
            locked = db.is_sqlite and "database is locked" in str(error)
            if not locked or attempt == SQLITE_LOCK_RETRIES:
                raise
            log.warning("sqlite database locked, retrying %s: attempt=%d error=%s", label, attempt, error.orig)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
