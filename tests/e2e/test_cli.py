"""The zhongshu command as an operator runs it, in subprocesses."""

import json
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.emulator.device import WeComDevice
from bot.emulator.server import EmulatorInspector, start_app_in_thread
from handlers.wording.common import HELP
from models.crm import Customer
from models.db import Database
from models.org import User
from tests.conftest import DEMO_WORLD, SHARED_DATA, make_settings

ZHONGSHU = [sys.executable, "-m", "bot.cli"]


def _run(args, env_overrides=None, stdin=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(env_overrides or {})
    return subprocess.run(ZHONGSHU + args, env=env, input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_serve_refuses_placeholder_secret_in_production(tmp_path):
    env = {"ZHONGSHU_ENV": "production", "WECOM_CORP_ID": "ww1234567890abcdef", "WECOM_SECRET": "changeme"}
    result = _run(["serve", "--port", "0"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "WECOM_SECRET" in result.stderr


def test_import_world_twice_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for _ in range(2):
        result = _run(["import", "world", str(DEMO_WORLD)], {"DATABASE_URL": url}, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "已导入" in result.stdout
    db = Database(url)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(json.loads(DEMO_WORLD.read_text())["users"])
        assert session.scalar(select(func.count()).select_from(Customer)) == len(json.loads(DEMO_WORLD.read_text())["customers"])
    db.dispose()


def test_import_world_rejects_unknown_owner(tmp_path):
    world = {"users": [{"userid": "a", "name": "甲", "role": "rep"}], "customers": [{"name": "某某建材有限公司", "owner": "nobody"}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(world, ensure_ascii=False), encoding="utf-8")
    result = _run(["import", "world", str(path)], {"DATABASE_URL": f"sqlite:///{tmp_path / 'bad.db'}"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "nobody" in result.stderr
    db = Database(f"sqlite:///{tmp_path / 'bad.db'}")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    db.dispose()


@pytest.mark.skipif(not (SHARED_DATA / "notes-dev.jsonl").exists(), reason="labelled notes are not beside this checkout")
def test_parse_writes_one_line_per_note(tmp_path):
    notes = (SHARED_DATA / "notes-dev.jsonl").read_text(encoding="utf-8")
    result = _run(["parse", "--world", str(SHARED_DATA / "world.json")], stdin=notes, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["id"] for row in rows] == [json.loads(line)["id"] for line in notes.splitlines() if line.strip()]
    assert rows[0]["customers"] == ["苏州恒达建材有限公司"]
    assert rows[0]["due_date"] == "2026-12-09"


def test_serve_refuses_several_workers_on_sqlite(tmp_path):
    result = _run(["serve", "--workers", "2"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SQLite 只支持一个服务进程" in result.stderr


def test_invalid_setting_named_without_traceback(tmp_path):
    result = _run(["serve"], {"ZHONGSHU_ENV": "staging"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "ZHONGSHU_ENV" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_process_handles_stored_messages(tmp_path, db, world, emulator, redis_prefix):
    """A `zhongshu worker` process processes what a worker-less server stored, and stops on SIGTERM."""
    settings = make_settings(db.url, redis_prefix, wecom_api_base=f"{emulator.url}/cgi-bin/", inbox_workers=0)
    server = start_app_in_thread(create_app(settings))
    device = WeComDevice(f"{server.url}/wecom/callback", settings.wecom_token, settings.wecom_aes_key,
                         settings.wecom_corp_id, settings.wecom_agent_id)
    assert device.send_text("zhangwei", "帮助").status_code == 200
    device.close()

    env = dict(os.environ)
    env.update(DATABASE_URL=db.url, WECOM_API_BASE=f"{emulator.url}/cgi-bin/", REDIS_PREFIX=redis_prefix,
               SCHEDULER_ENABLED="false")
    worker = subprocess.Popen(ZHONGSHU + ["worker", "--threads", "1"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    inspector = EmulatorInspector(emulator.url)
    try:
        replies = inspector.wait_for_messages("zhangwei", 1, timeout=30)
        assert replies[0]["content"] == HELP
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        inspector.close()
        server.stop()
    assert worker.returncode == 0


def test_jobs_lists_every_job_in_aligned_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _run(["db", "upgrade"], {"DATABASE_URL": url}, cwd=tmp_path).returncode == 0
    result = _run(["jobs"], {"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["job", "schedule", "(cron)", "last", "run", "status", "ms", "next", "run"]
    jobs = {row.split()[0]: row for row in rows}
    assert {"pool_release", "stage_overdue", "daily_lists", "weekly_reports"} <= set(jobs)
    # Every row's next-run time starts where the header's column does, the long weekly schedule too.
    next_run = header.index("next run")
    assert all(row[next_run:next_run + 2] == "20" for row in rows)
    assert "day_of_week=mon,hour=9,minute=0" in jobs["weekly_reports"]
