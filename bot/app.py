"""The FastAPI application: the WeCom callback plus the background workers."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot import callback
from bot.runtime import Runtime
from bot.settings import Settings, get_settings
from bot.worker import BackgroundWorkers
from models.migrate import upgrade
from scheduler.service import JobScheduler

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_workers: bool = True) -> FastAPI:
    """Build the app; check secrets, migrate the embedded database, then start the workers."""
    settings = settings or get_settings()
    settings.check_production_secrets()
    runtime = Runtime.from_settings(settings)
    if runtime.db.is_sqlite:
        # The embedded default migrates itself; production runs `zhongshu db upgrade` first.
        upgrade(settings.database_url)

    # INBOX_WORKERS=0 makes this process callback-only; `zhongshu worker` processes do the rest.
    background = run_workers and settings.inbox_workers > 0
    workers = BackgroundWorkers(runtime) if background else None
    scheduler = JobScheduler(runtime) if background and settings.scheduler_enabled else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if workers is not None:
            workers.start()
        if scheduler is not None:
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        if workers is not None:
            workers.stop()
        runtime.db.dispose()

    app = FastAPI(title="Zhongshu", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.include_router(callback.router)

    @app.get("/healthz")
    def health() -> dict:
        return {"status": "ok"}

    return app
