"""Shared set-up for the benchmarks: a database of their own, the WeCom emulator and the server.

The server and the emulator each run in a process of their own, so the load generator's
timing shares no interpreter lock with them. Run this file directly to serve the emulator:
it prints its URL on the first line of standard output and stops when standard input closes.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PYTHON = sys.executable
ZHONGSHU = str(Path(sys.executable).with_name("zhongshu"))
SHARED_DATA = REPO.parent / "shared" / "data"
WORLD_PATH = SHARED_DATA / "world.json" if (SHARED_DATA / "world.json").exists() else REPO / "bot" / "demo" / "world.json"
NOTES_PATH = SHARED_DATA / "notes-dev.jsonl"

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SERVER_START_TIMEOUT_SECONDS = 30.0


def load_world() -> dict:
    return json.loads(WORLD_PATH.read_text(encoding="utf-8"))


def load_notes() -> list[dict]:
    """Return the dev notes ({"id", "now", "author", "text", ...}) in file order."""
    lines = NOTES_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- database ---------------------------------------------------------------------------------


@dataclass
class BenchDatabase:
    """A migrated database with the sample company imported, dropped by `drop()`."""

    url: str
    admin_url: str | None
    name: str | None
    path: Path | None

    @classmethod
    def create(cls, kind: str, postgres_admin_url: str = DEFAULT_POSTGRES, workdir: Path | None = None) -> BenchDatabase:
        """Create a PostgreSQL database `zhongshu_bench_<pid>`, or a SQLite file in `workdir`."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from models.db import Database
        from models.migrate import upgrade
        from models.world import import_world

        if kind == "postgresql":
            name = f"zhongshu_bench_{os.getpid()}"
            admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                connection.execute(text(f"CREATE DATABASE {name}"))
            admin.dispose()
            url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
            database = cls(url=url, admin_url=postgres_admin_url, name=name, path=None)
        elif kind == "sqlite":
            path = (workdir or Path("/tmp")) / f"zhongshu_bench_{os.getpid()}.db"
            path.unlink(missing_ok=True)
            database = cls(url=f"sqlite:///{path}", admin_url=None, name=None, path=path)
        else:
            raise ValueError(f"unknown database kind {kind!r}; use postgresql or sqlite")

        upgrade(database.url)
        db = Database(database.url)
        with db.session() as session:
            import_world(session, load_world())
        db.dispose()
        return database

    def unfinished_inbox(self) -> int:
        """Count inbox rows still pending or being processed."""
        return self.scalar("SELECT count(*) FROM inbound_messages WHERE status IN ('pending', 'processing')")

    def scalar(self, sql: str):
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
        admin.dispose()


def wait_for_drain(database: BenchDatabase, timeout: float, poll_seconds: float = 0.1) -> float:
    """Poll until no inbox row is unfinished; return the seconds waited. Raise TimeoutError."""
    started = time.perf_counter()
    deadline = started + timeout
    while True:
        remaining = database.unfinished_inbox()
        if remaining == 0:
            return time.perf_counter() - started
        if time.perf_counter() > deadline:
            raise TimeoutError(f"inbox still has {remaining} unfinished messages after {timeout:.0f} s")
        time.sleep(poll_seconds)


def delete_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


# -- processes --------------------------------------------------------------------------------


class ChildProcess:
    """A child process whose output goes to a log file; `stop()` ends it by its own pid."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, stdin=None, stdout=None) -> None:
        self.log_path = log_path
        # The log stays open while the child runs, and stop() closes it.
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            args, env=env, cwd=REPO, stdin=stdin, stdout=stdout or self._log, stderr=self._log,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_emulator(log_dir: Path) -> tuple[ChildProcess, str]:
    """Start the emulator in a child process; return it and its base URL."""
    child = ChildProcess(
        [PYTHON, __file__], dict(os.environ), log_dir / "emulator.log",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    url = child.process.stdout.readline().decode().strip()
    if not url.startswith("http://127.0.0.1:"):
        child.stop()
        raise RuntimeError(f"emulator failed to start; see {child.log_path}")
    return child, url


def start_server(
    database_url: str,
    emulator_url: str,
    log_dir: Path,
    *,
    redis_url: str | None,
    redis_prefix: str,
    processes: int = 1,
    inbox_workers: int = 2,
) -> tuple[ChildProcess, str]:
    """Start `zhongshu serve` on a free loopback port; return it and its base URL."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        ZHONGSHU_ENV="development",
        DATABASE_URL=database_url,
        WECOM_API_BASE=f"{emulator_url}/cgi-bin/",
        INBOX_WORKERS=str(inbox_workers),
        REDIS_PREFIX=redis_prefix,
        LOG_LEVEL="INFO",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    args = [ZHONGSHU, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes)]
    child = ChildProcess(args, env, log_dir / "server.log", stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"server exited with code {child.process.returncode}; see {child.log_path}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return child, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    child.stop()
    raise RuntimeError(f"server did not respond to /healthz within {SERVER_START_TIMEOUT_SECONDS:.0f} s; see {child.log_path}")


def start_worker(
    database_url: str, emulator_url: str, log_dir: Path, redis_url: str | None, redis_prefix: str, threads: int
) -> ChildProcess:
    """Start `zhongshu worker` with the server's settings."""
    env = dict(os.environ)
    env.update(
        ZHONGSHU_ENV="development", DATABASE_URL=database_url, WECOM_API_BASE=f"{emulator_url}/cgi-bin/",
        REDIS_PREFIX=redis_prefix, LOG_LEVEL="INFO",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return ChildProcess([ZHONGSHU, "worker", "--threads", str(threads)], env, log_dir / "worker.log",
                        stdin=subprocess.DEVNULL)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the children and drop the database."""

    def handle(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handle)


def new_redis_prefix() -> str:
    return f"zhongshu-bench-{uuid.uuid4().hex[:8]}:"


def add_server_arguments(parser) -> None:
    """Add the options that choose the database, Redis and the log directory of `running_bot`."""
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="admin URL used to create the database")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="Redis URL; empty for the in-process store")
    parser.add_argument("--log-dir", type=Path, help="keep the server and emulator logs here (default: a temp dir)")


def prepare_log_dir(path: Path | None) -> Path:
    """Return `path`, created if missing, or a new temporary directory when it is None."""
    log_dir = path or Path(tempfile.mkdtemp(prefix="zhongshu-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


@dataclass
class RunningBot:
    database: BenchDatabase
    server: ChildProcess
    url: str

    @property
    def callback_url(self) -> str:
        return f"{self.url}/wecom/callback"


@contextmanager
def running_bot(
    database_kind: str,
    postgres_admin_url: str,
    redis_url: str | None,
    log_dir: Path,
    *,
    processes: int = 1,
    inbox_workers: int = 2,
    worker_process_threads: int = 0,
) -> Iterator[RunningBot]:
    """Create the database, start the emulator and the server; stop and drop them all afterwards.

    With `worker_process_threads`, a separate `zhongshu worker` process with that many inbox
    threads processes the messages, as production runs it.
    """
    database = BenchDatabase.create(database_kind, postgres_admin_url, log_dir)
    prefix = new_redis_prefix()
    emulator = server = worker = None
    try:
        emulator, emulator_url = start_emulator(log_dir)
        server, url = start_server(
            database.url, emulator_url, log_dir, redis_url=redis_url, redis_prefix=prefix,
            processes=processes, inbox_workers=inbox_workers,
        )
        if worker_process_threads:
            worker = start_worker(database.url, emulator_url, log_dir, redis_url, prefix, worker_process_threads)
        yield RunningBot(database=database, server=server, url=url)
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        if emulator is not None:
            emulator.stop()
        database.drop()
        if redis_url:
            delete_redis_keys(redis_url, prefix)


# -- memory -----------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """Return `pid` and all its descendants, read from /proc/<pid>/task/*/children."""
    pids = [pid]
    index = 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*"):
            try:
                pids += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
        index += 1
    return pids


def rss_kib(pid: int) -> int:
    """Return VmRSS of one process in KiB, from /proc/<pid>/status."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


# A whole number of 2 to 4 digits that is no part of a decimal, a product code, a phone
# number or a date.
_VARIABLE_NUMBER = re.compile(r"(?<![\d.A-Za-z-])(\d{2,4})(?![\d.月日号点年-])")


def vary_note(text: str, round_index: int) -> str:
    """Return the note with its plain quantities and amounts shifted by `round_index`.

    Round 0 returns the text unchanged. Later rounds give distinct texts, and so distinct
    quantities, amounts and opportunities, while the note still reads the same way.
    """
    if round_index == 0:
        return text
    return _VARIABLE_NUMBER.sub(lambda m: str(int(m.group(1)) + round_index), text)


# -- callbacks --------------------------------------------------------------------------------


@dataclass
class EncryptedCallback:
    """One callback POST prepared ahead of time: query parameters and the encrypted body."""

    params: dict[str, str]
    body: bytes


def encrypt_text_message(device, user: str, text: str, msg_id: int, create_time: int) -> EncryptedCallback:
    """Encrypt one text message as WeCom would post it, with a fresh nonce."""
    from bot.emulator.device import build_xml

    plain = build_xml(
        {
            "ToUserName": device.corp_id,
            "FromUserName": user,
            "CreateTime": create_time,
            "MsgType": "text",
            "Content": text,
            "MsgId": msg_id,
            "AgentID": device.agent_id,
        }
    )
    timestamp = str(int(time.time()))
    nonce = uuid.uuid4().hex[:10]
    envelope, signature = device.encrypt(plain, timestamp, nonce)
    params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
    return EncryptedCallback(params=params, body=envelope.encode("utf-8"))


def make_device(callback_url: str):
    """Return a WeComDevice with the development secrets that the server uses by default."""
    from bot.emulator.device import WeComDevice
    from bot.settings import Settings

    settings = Settings(_env_file=None)
    return WeComDevice(
        callback_url, settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id, settings.wecom_agent_id,
    )


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def source_revision() -> str:
    """Return the checked-out commit and how many files differ from it, since others edit the tree."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False).stdout
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=False).stdout
    except OSError as error:
        return f"unknown ({error})"
    return f"{commit.strip()} with {len(changed.splitlines())} changed or untracked files"


def machine_summary() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"nproc {len(os.sched_getaffinity(0))}, {model}, Python {sys.version.split()[0]}, load average {load}; "
        f"source {source_revision()}"
    )


def _serve_emulator() -> None:
    import logging

    from bot.emulator.server import start_emulator_in_thread
    from bot.emulator.state import EmulatorConfig

    logging.basicConfig(level="WARNING")
    server = start_emulator_in_thread(EmulatorConfig(), host="127.0.0.1", port=0)
    print(server.url, flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or exits
    server.stop()


if __name__ == "__main__":
    _serve_emulator()
