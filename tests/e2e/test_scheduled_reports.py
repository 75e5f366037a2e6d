"""Scheduled report deliveries through the outbox to the emulated WeCom: weekly charts in an app
group chat and through a group robot, the monthly reconciliation to finance, retries after
WeCom failures, and the robot's 20-a-minute limit."""

import hashlib
import io
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib.image
import openpyxl
import pytest
from sqlalchemy import select, update

from bot.emulator import EmulatorConfig, ManualClock, start_emulator_in_thread
from bot.emulator.media import PNG_SIGNATURE
from bot.emulator.server import EmulatorInspector
from bot.outbox import enqueue_appchat_reply, enqueue_robot_reply
from bot.runtime import Runtime
from bot.sender import deliver_due
from bot.stores import MemoryStore
from bot.wecom.client import WeComClient
from bot.wecom.groups import AppChatClient
from handlers.outcome import File, Image, Text
from models.base import utcnow
from models.messages import OutboundMessage, OutboxStatus
from scheduler.leader import DatabaseLeaderLock
from scheduler.report_jobs import monthly_reconciliation, weekly_reports
from scheduler.service import JobScheduler
from tests.conftest import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHATID = "zhongshusales"
ROBOT_KEY = "5f1c2a9e-robot-sunan"
# Monday 30 November 2026, 09:00 in Shanghai: the weekly run for the week of 23 November (2026-W48).
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
TARGETS = f"""
[[group]]
name = "sales-director"
viewer = "lizong"
channel = "appchat"
chatid = "{CHATID}"
title = "销售中心周报"
owner = "lizong"
members = ["lizong", "zhaomin", "sunli"]

[[group]]
name = "region-sunan"
viewer = "zhaomin"
channel = "robot"
"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(clock):
    server = start_emulator_in_thread(EmulatorConfig(), clock=clock)
    yield server
    server.stop()


@pytest.fixture
def inspector(emulator):
    inspect = EmulatorInspector(emulator.url)
    yield inspect
    inspect.close()


@pytest.fixture
def runtime(db, world, redis_prefix, emulator, tmp_path) -> Runtime:
    targets = tmp_path / "report_targets.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    settings = make_settings(
        db.url, redis_prefix, wecom_api_base=f"{emulator.url}/cgi-bin/", report_targets_path=str(targets),
        report_robot_keys={"region-sunan": ROBOT_KEY},
    )
    return Runtime.from_settings(settings)


@pytest.fixture
def client(runtime):
    wecom = WeComClient.from_settings(runtime.settings, MemoryStore())
    yield wecom
    wecom.close()


@pytest.fixture
def chat(client) -> str:
    created = AppChatClient(client).create(CHATID, "销售中心周报", "lizong", ["lizong", "zhaomin", "sunli"])
    assert created.ok, created
    return CHATID


def _deliver_all(runtime, client) -> None:
    while deliver_due(runtime.db, client, limit=50):
        pass


def _rows(db, kind: str | None = None) -> list[OutboundMessage]:
    with db.session() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if kind:
            query = query.where(OutboundMessage.kind == kind)
        return list(session.scalars(query))


def _make_due(db) -> None:
    with db.session() as session:
        session.execute(
            update(OutboundMessage).where(OutboundMessage.status == OutboxStatus.PENDING)
            .values(not_before=utcnow() - timedelta(seconds=1))
        )


def _png_size(data: bytes) -> tuple[int, int]:
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    return pixels.shape[1], pixels.shape[0]


def test_weekly_run_sends_three_charts_per_group(runtime, client, chat, inspector, tmp_path):
    scheduler = JobScheduler(runtime, DatabaseLeaderLock(runtime.db, "host-a", 30.0))

    status = scheduler.run_job("weekly_reports", MONDAY)
    _deliver_all(runtime, client)

    chat_images = inspector.chat_messages(chat)
    robot_images = inspector.robot_messages(ROBOT_KEY)
    assert status == "ok"
    assert [m["msgtype"] for m in chat_images] == ["image"] * 3
    assert [m["msgtype"] for m in robot_images] == ["image"] * 3
    assert inspector.messages() == []

    rows = {row.dedup_key: row for row in _rows(runtime.db)}
    assert sorted(rows) == sorted(
        f"weekly-report:{group}:2026-W48:{chart}:0"
        for group in ("sales-director", "region-sunan")
        for chart in ("funnel", "collection", "leaderboard")
    )
    assert all(row.status == OutboxStatus.SENT for row in rows.values())

    for chart, message in zip(("funnel", "collection", "leaderboard"), chat_images, strict=True):
        sent = inspector.media(message["media"]["media_id"])
        with open(rows[f"weekly-report:sales-director:2026-W48:{chart}:0"].payload["path"], "rb") as rendered:
            assert sent == rendered.read()
        assert sent.startswith(PNG_SIGNATURE)
        assert min(_png_size(sent)) > 100

    for chart, message in zip(("funnel", "collection", "leaderboard"), robot_images, strict=True):
        sent = inspector.media(message["media"]["media_id"])
        with open(rows[f"weekly-report:region-sunan:2026-W48:{chart}:0"].payload["path"], "rb") as rendered:
            assert sent == rendered.read()
        assert message["content"]["md5"] == hashlib.md5(sent).hexdigest()
        assert min(_png_size(sent)) > 100


def test_missing_chat_created_on_first_send(runtime, client, inspector, tmp_path):
    weekly_reports(runtime, MONDAY, folder=tmp_path)

    _deliver_all(runtime, client)

    [created] = inspector.chats()["appchats"]
    assert created["chatid"] == CHATID
    assert created["name"] == "销售中心周报"
    assert created["owner"] == "lizong"
    assert created["userlist"] == ["lizong", "zhaomin", "sunli"]
    assert [m["msgtype"] for m in inspector.chat_messages(CHATID)] == ["image"] * 3
    assert all(row.status == OutboxStatus.SENT for row in _rows(runtime.db))


def test_weekly_rerun_sends_nothing(runtime, client, chat, inspector, tmp_path):
    weekly_reports(runtime, MONDAY, folder=tmp_path)
    _deliver_all(runtime, client)
    first_rows = len(_rows(runtime.db))

    weekly_reports(runtime, MONDAY + timedelta(hours=3), folder=tmp_path)
    weekly_reports(runtime, MONDAY + timedelta(days=2), folder=tmp_path)
    _deliver_all(runtime, client)

    assert first_rows == 6
    assert len(_rows(runtime.db)) == 6
    assert len(inspector.chat_messages(chat)) == 3
    assert len(inspector.robot_messages(ROBOT_KEY)) == 3
    assert len(list(tmp_path.glob("weekly-*.png"))) == 6


def test_next_week_sends_again(runtime, client, chat, inspector, tmp_path):
    weekly_reports(runtime, MONDAY, folder=tmp_path)
    weekly_reports(runtime, MONDAY + timedelta(days=7), folder=tmp_path)
    _deliver_all(runtime, client)

    assert len(inspector.chat_messages(chat)) == 6
    assert {row.dedup_key.split(":")[2] for row in _rows(runtime.db)} == {"2026-W48", "2026-W49"}


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_wecom_failure_delays_then_delivers(runtime, client, chat, inspector, tmp_path, errcode):
    inspector.inject_fault("appchat/send", errcode=errcode)
    inspector.inject_fault("webhook/send", errcode=errcode)
    weekly_reports(runtime, MONDAY, folder=tmp_path)

    _deliver_all(runtime, client)

    waiting = [row for row in _rows(runtime.db) if row.status == OutboxStatus.PENDING]
    assert len(inspector.chat_messages(chat)) == 2
    assert len(inspector.robot_messages(ROBOT_KEY)) == 2
    assert len(waiting) == 2
    assert {row.errcode for row in waiting} == {errcode}
    assert all(row.not_before > utcnow() for row in waiting)

    _make_due(runtime.db)
    _deliver_all(runtime, client)

    assert len(inspector.chat_messages(chat)) == 3
    assert len(inspector.robot_messages(ROBOT_KEY)) == 3
    assert all(row.status == OutboxStatus.SENT for row in _rows(runtime.db))


def test_wecom_unreachable_keeps_charts(runtime, client, chat, inspector, tmp_path):
    inspector.inject_fault("appchat/send", delay_seconds=runtime.settings.http_timeout_seconds + 1)
    weekly_reports(runtime, MONDAY, folder=tmp_path)

    deliver_due(runtime.db, client, limit=1)

    [first, *_] = _rows(runtime.db, "appchat")
    assert first.status == OutboxStatus.PENDING
    assert first.errmsg == "WeCom unreachable"


def test_robot_21st_message_waits(runtime, client, inspector, clock):
    with runtime.db.session() as session:
        for index in range(21):
            enqueue_robot_reply(session, "region-sunan", ROBOT_KEY, Text(f"第{index + 1}条"), dedup_key=f"burst:{index}")

    _deliver_all(runtime, client)

    [waiting] = [row for row in _rows(runtime.db) if row.status == OutboxStatus.PENDING]
    assert len(inspector.robot_messages(ROBOT_KEY)) == 20
    assert waiting.payload["text"]["content"] == "第21条"
    assert waiting.errcode is None  # held back by the sender, not rejected by WeCom
    assert utcnow() + timedelta(seconds=50) < waiting.not_before <= utcnow() + timedelta(seconds=61)

    clock.advance(61)
    with runtime.db.session() as session:  # a minute passes for the outbox too
        for row in session.scalars(select(OutboundMessage).where(OutboundMessage.status == OutboxStatus.SENT)):
            row.sent_at -= timedelta(seconds=61)
    _make_due(runtime.db)
    _deliver_all(runtime, client)

    assert [m["content"] for m in inspector.robot_messages(ROBOT_KEY)][-1] == "第21条"


def test_group_text_and_file_delivered(runtime, client, chat, inspector, tmp_path):
    workbook = tmp_path / "周报明细.xlsx"
    workbook.write_bytes(b"PK\x03\x04 weekly details")
    with runtime.db.session() as session:
        enqueue_appchat_reply(session, chat, Text("本周图表已更新"))
        enqueue_robot_reply(session, "region-sunan", ROBOT_KEY, File(str(workbook), "周报明细.xlsx"))

    _deliver_all(runtime, client)

    [text] = inspector.chat_messages(chat)
    [file] = inspector.robot_messages(ROBOT_KEY)
    assert text["content"] == "本周图表已更新"
    assert file["msgtype"] == "file"
    assert file["media"]["filename"] == "周报明细.xlsx"
    assert inspector.media(file["media"]["media_id"]) == workbook.read_bytes()


def test_robot_image_over_2mb_fails(runtime, client, inspector, tmp_path):
    image = tmp_path / "huge.png"
    image.write_bytes(PNG_SIGNATURE + bytes(2 * 1024 * 1024))
    with runtime.db.session() as session:
        enqueue_robot_reply(session, "region-sunan", ROBOT_KEY, Image(str(image)))

    _deliver_all(runtime, client)

    [row] = _rows(runtime.db)
    assert row.status == OutboxStatus.FAILED
    assert "at most 2097152" in row.errmsg
    assert inspector.robot_messages(ROBOT_KEY) == []
    assert inspector.stats().get("webhook_send_calls", 0) == 0


def test_reconciliation_waits_for_first_working_day(runtime, client, inspector, tmp_path):
    saturday = datetime(2026, 8, 1, 9, 0, tzinfo=SHANGHAI)
    sunday = saturday + timedelta(days=1)

    monthly_reconciliation(runtime, saturday, folder=tmp_path)
    monthly_reconciliation(runtime, sunday, folder=tmp_path)

    assert _rows(runtime.db) == []
    assert list(tmp_path.glob("reconciliation-*")) == []

    monthly_reconciliation(runtime, saturday + timedelta(days=2), folder=tmp_path)
    _deliver_all(runtime, client)

    messages = inspector.messages(touser="zhoujun")
    assert [m["msgtype"] for m in messages] == ["file", "text"]
    assert messages[0]["media"]["filename"] == "2026年7月对账报表-全公司.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(inspector.media(messages[0]["media"]["media_id"])))
    assert workbook.sheetnames
    assert "2026年7月" in messages[1]["content"]
    assert inspector.messages(touser="lizong") == []


def test_reconciliation_once_per_month(runtime, client, inspector, tmp_path):
    first_working_day = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)

    monthly_reconciliation(runtime, first_working_day, folder=tmp_path)
    monthly_reconciliation(runtime, first_working_day + timedelta(days=1), folder=tmp_path)
    _deliver_all(runtime, client)

    assert [m["msgtype"] for m in inspector.messages(touser="zhoujun")] == ["file", "text"]
    assert [row.dedup_key for row in _rows(runtime.db)] == [
        "monthly-reconciliation:2026-11:zhoujun:file:0",
        "monthly-reconciliation:2026-11:zhoujun:caption:0",
    ]


def test_reconciliation_skips_holiday(runtime, db, tmp_path):
    rules = tmp_path / "pipeline_rules.toml"
    rules.write_text('[calendar]\nholidays = ["2027-01-01"]\n', encoding="utf-8")
    runtime.settings = runtime.settings.model_copy(update={"pipeline_rules_path": str(rules)})
    new_year = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)  # a Friday

    monthly_reconciliation(runtime, new_year, folder=tmp_path)
    assert _rows(db) == []

    monthly_reconciliation(runtime, new_year + timedelta(days=3), folder=tmp_path)
    assert [row.dedup_key for row in _rows(db)][0] == "monthly-reconciliation:2026-12:zhoujun:file:0"


def test_groups_create_command(emulator, inspector, tmp_path):
    targets = tmp_path / "report_targets.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    env = {
        "WECOM_API_BASE": f"{emulator.url}/cgi-bin/", "REPORT_TARGETS_PATH": str(targets),
        "REPORT_ROBOT_KEYS": f'{{"region-sunan": "{ROBOT_KEY}"}}', "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "bot.cli", "groups", "create"]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert f"sales-director:已创建群聊 {CHATID}" in first.stdout
    assert "region-sunan:群机器人,无需创建" in first.stdout
    assert second.returncode == 0, second.stderr
    assert f"群聊 {CHATID} 已存在" in second.stdout
    [created] = inspector.chats()["appchats"]
    assert created["chatid"] == CHATID
    assert created["owner"] == "lizong"
    assert created["userlist"] == ["lizong", "zhaomin", "sunli"]
