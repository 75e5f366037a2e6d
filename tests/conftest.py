"""Shared fixtures: a real database (PostgreSQL when DATABASE_URL names one, else SQLite),
Redis when REDIS_URL is set, the sample company, and a live bot with the WeCom emulator."""

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, func, or_, select, text
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.emulator.device import WeComDevice
from bot.emulator.server import EmulatorInspector, start_app_in_thread, start_emulator_in_thread
from bot.emulator.state import EmulatorConfig
from bot.settings import Settings
from models.base import utcnow
from models.db import Database
from models.messages import InboundMessage, InboxStatus, OutboundMessage, OutboxStatus
from models.migrate import upgrade
from models.registry import metadata
from models.world import import_world

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO_WORLD = REPO / "bot" / "demo" / "world.json"


def _postgres_base_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return url if url and url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated database of this test session's own, dropped at the end."""
    base = _postgres_base_url()
    if base is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return

    name = f"zhongshu_test_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _empty_tables(db: Database) -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.is_sqlite:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
        else:
            connection.execute(text(f"TRUNCATE TABLE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(database_url) -> Database:
    database = Database(database_url)
    _empty_tables(database)
    yield database
    database.dispose()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own; its Redis keys are deleted afterwards."""
    prefix = f"zhongshu-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def load_world() -> dict:
    """Return the sample company; skip the calling test when it is not beside the checkout."""
    path = SHARED_DATA / "world.json"
    if not path.exists():
        pytest.skip(f"sample company not found at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def world(db) -> dict:
    """The sample company, imported into the empty database."""
    data = load_world()
    with db.session() as session:
        import_world(session, data)
    return data


def make_settings(database_url: str, redis_prefix: str, **overrides) -> Settings:
    values = dict(
        zhongshu_env="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_prefix=redis_prefix,
        inbox_workers=2,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class LiveBot:
    """The bot serving on loopback with its workers, and the emulated WeCom around it."""

    settings: Settings
    db: Database
    device: WeComDevice
    inspector: EmulatorInspector

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until no inbox message is unfinished and no due outbox message is unsent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as session:
                inbox = session.scalar(
                    select(func.count()).select_from(InboundMessage).where(
                        InboundMessage.status.in_([InboxStatus.PENDING, InboxStatus.PROCESSING])
                    )
                )
                outbox = session.scalar(
                    select(func.count()).select_from(OutboundMessage).where(
                        or_(
                            (OutboundMessage.status == OutboxStatus.PENDING) & (OutboundMessage.not_before <= utcnow()),
                            OutboundMessage.status == OutboxStatus.SENDING,
                        )
                    )
                )
            if inbox == 0 and outbox == 0:
                return
            time.sleep(0.02)
        raise TimeoutError(f"bot still busy after {timeout} s: inbox={inbox} outbox={outbox}")

    def last_message_id(self, user: str) -> int:
        messages = self.inspector.messages(touser=user)
        return messages[-1]["id"] if messages else 0

    def send(self, user: str, text: str, *, now: datetime | None = None, msg_id: int | None = None) -> list[str]:
        """Send a text as `user` through the encrypted callback; return the bot's replies."""
        after = self.last_message_id(user)
        create_time = int(now.timestamp()) if now else None
        response = self.device.send_text(user, text, msg_id=msg_id, create_time=create_time)
        assert response.status_code == 200, response.text
        assert response.content == b""
        self.wait_idle()
        return [m["content"] for m in self.inspector.messages(touser=user, after=after)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def bot_port() -> int:
    """The port the live bot will listen on, known first so the emulator can post callbacks to it."""
    return _free_port()


@pytest.fixture
def emulator(bot_port):
    config = EmulatorConfig(callback_url=f"http://127.0.0.1:{bot_port}/wecom/callback")
    server = start_emulator_in_thread(config, host="127.0.0.1", port=0)
    yield server
    server.stop()


@pytest.fixture
def bot_settings(db, redis_prefix, emulator) -> Settings:
    return make_settings(db.url, redis_prefix, wecom_api_base=f"{emulator.url}/cgi-bin/")


@pytest.fixture
def live_bot(bot_settings, db, emulator, world, bot_port) -> LiveBot:
    server = start_app_in_thread(create_app(bot_settings), host="127.0.0.1", port=bot_port)
    settings = bot_settings
    device = WeComDevice(
        f"{server.url}/wecom/callback", settings.wecom_token, settings.wecom_aes_key,
        settings.wecom_corp_id, settings.wecom_agent_id,
    )
    inspector = EmulatorInspector(emulator.url)
    yield LiveBot(settings=settings, db=db, device=device, inspector=inspector)
    device.close()
    inspector.close()
    server.stop()
