"""`zhongshu worker`: inbox workers, the outbox sender and the scheduler without the HTTP server.

In production the callback server runs with INBOX_WORKERS=0 and only responds to WeCom, while
worker processes do the CPU-heavy understanding. Python threads in one process share one
interpreter lock, so workers beside the callback would delay its responses.
"""

import logging
import os
import signal
import threading

from bot.runtime import Runtime
from bot.settings import Settings
from bot.worker import BackgroundWorkers
from models.migrate import upgrade
from scheduler.service import JobScheduler

log = logging.getLogger(__name__)

# Workers yield the CPU to the callback server when both share a machine.
WORKER_NICENESS = 10


def run_worker(settings: Settings, threads: int) -> int:
    settings.check_production_secrets()
    runtime = Runtime.from_settings(settings)
    if runtime.db.is_sqlite:
        upgrade(settings.database_url)
    os.nice(WORKER_NICENESS)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    workers = BackgroundWorkers(runtime, inbox_workers=threads)
    scheduler = JobScheduler(runtime) if settings.scheduler_enabled else None
    workers.start()
    if scheduler is not None:
        scheduler.start()
    log.info("worker process started: pid=%d threads=%d", os.getpid(), threads)
    stop.wait()
    if scheduler is not None:
        scheduler.stop()
    workers.stop()
    runtime.db.dispose()
    log.info("worker process stopped: pid=%d", os.getpid())
    return 0
