"""Old report files: deleted after the retention days unless an unsent message still needs them."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.outbox import enqueue_reply
from bot.runtime import Runtime
from handlers import reports
from handlers.outcome import File, Image
from models.base import utcnow
from models.messages import OutboundMessage, OutboxStatus
from scheduler.report_jobs import report_files_cleanup
from tests.conftest import make_settings


@pytest.fixture
def runtime(db, redis_prefix) -> Runtime:
    return Runtime.from_settings(make_settings(db.url, redis_prefix))


def _file(folder: Path, name: str, age_days: float) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG")
    stamp = (utcnow() - timedelta(days=age_days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_old_files_deleted_unless_waiting(runtime, db, tmp_path):
    folder = tmp_path / "reports"
    old = _file(folder, "funnel-lisi-old.png", 31)
    recent = _file(folder, "funnel-lisi-new.png", 2)
    waiting = _file(folder, "weekly-funnel-waiting.png", 40)
    sent = _file(folder, "collection-sent.png", 40)
    workbook = _file(folder, "reconciliation-2026-10-ab12cd34/对账报表.xlsx", 35)
    with db.session() as session:
        enqueue_reply(session, "lizong", Image(str(waiting), caption="销售漏斗"))
        [done] = enqueue_reply(session, "lizong", File(str(sent), name="回款.png"))
        done.status = OutboxStatus.SENT

    report_files_cleanup(runtime, utcnow(), folder)

    assert not old.exists()
    assert not sent.exists()
    assert not workbook.exists()
    assert not workbook.parent.exists()  # the emptied workbook folder goes too
    assert recent.exists()
    assert waiting.exists()
    with db.session() as session:
        assert session.query(OutboundMessage).count() == 3  # rows are never touched


def test_missing_folder_is_not_an_error(runtime, tmp_path):
    report_files_cleanup(runtime, utcnow(), tmp_path / "never-created")
    assert not (tmp_path / "never-created").exists()


def test_retention_days_setting(monkeypatch):
    monkeypatch.setenv("REPORT_RETENTION_DAYS", "7")
    assert reports.ReportSettings(_env_file=None).report_retention_days == 7
    monkeypatch.setenv("REPORT_RETENTION_DAYS", "0")
    with pytest.raises(ValueError):
        reports.ReportSettings(_env_file=None)
