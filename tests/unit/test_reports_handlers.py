"""Report use cases: images, texts and the workbook they return, per user's scope."""

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image as PILImage
from sqlalchemy import select

from bot.understanding.commands import ShowReport, parse_command
from handlers import reports
from handlers.context import Context
from handlers.outcome import File, Image, Text
from handlers.wording.reports import period_label
from models.org import User
from reports.scope import Period
from tests.unit import test_reports
from tests.unit.test_reports import MARCH, at

march = test_reports.march  # the hand-built March 2026, shared with the figure tests


def _context(session, userid: str, now=None) -> Context:
    actor = session.scalars(select(User).where(User.userid == userid)).unique().one()
    return Context(session=session, actor=actor, now=now or at(4, 2))


def _assert_png(reply) -> None:
    assert isinstance(reply, Image)
    path = Path(reply.path)
    assert path.is_file()
    with PILImage.open(path) as image:
        assert image.width == 1080


def test_funnel_chart_for_director(db, march, tmp_path):
    with db.session() as session:
        outcome = reports.funnel_chart(_context(session, "zhaomin"), tmp_path, MARCH)

    (reply,) = outcome.replies
    _assert_png(reply)
    assert Path(reply.path).parent == tmp_path
    assert reply.caption == "销售漏斗 · 苏南大区 · 2026年3月:新建商机 5 个,金额 380万元;已签合同 2 个(转化率 40.0%)。"


def test_leaderboard_chart_for_rep(db, march, tmp_path):
    with db.session() as session:
        outcome = reports.leaderboard_chart(_context(session, "zhangwei"), tmp_path, MARCH)

    (reply,) = outcome.replies
    _assert_png(reply)
    assert reply.caption == "销售排行 · 张伟 · 2026年3月:第一名 张伟,签约 100万元,回款 30万元,跟进 4 次。"


def test_collection_chart_caption(db, march, tmp_path):
    with db.session() as session:
        outcome = reports.collection_chart(_context(session, "lizong"), tmp_path, MARCH)

    (reply,) = outcome.replies
    _assert_png(reply)
    assert reply.caption == "回款趋势 · 全公司 · 2026年3月:计划 60万元,实际 145万元(完成 242%)。"


def test_kpi_report_text(db, march):
    with db.session() as session:
        outcome = reports.kpi_report(_context(session, "lizong"), MARCH)

    lines = outcome.replies[0].text.splitlines()
    assert lines[0] == "📊 关键指标 · 全公司 · 2026年3月(括号内为上期)"
    assert lines[1] == "· 线索转化率:42.9%(上期 100.0%,↓57.1个百分点)"
    assert lines[3] == "· 报价响应时长:14.0 小时(上期 2.0 小时,↑12.0 小时)"
    assert lines[4] == "· 客户咨询首次响应时长:暂无数据(上期 暂无数据)"
    assert lines[5] == "· 流程合规率:60.0%(上期 100.0%,↓40.0个百分点)"
    assert len(lines) == 7


def test_weekly_report_replies(db, march, tmp_path):
    with db.session() as session:
        # Sent on Wednesday 18 March: the report covers 9 to 15 March.
        outcome = reports.weekly(_context(session, "lizong", now=at(3, 18)), tmp_path)

    kinds = [type(reply) for reply in outcome.replies]
    assert kinds == [Image, Image, Image, Text]
    for reply in outcome.replies[:3]:
        _assert_png(reply)
    assert "2026年3月9日—3月15日" in outcome.replies[0].caption
    assert len({reply.path for reply in outcome.replies[:3]}) == 3


def test_reconciliation_file_last_month(db, march, tmp_path):
    with db.session() as session:
        outcome = reports.reconciliation(_context(session, "lizong"), tmp_path)

    file_reply, text_reply = outcome.replies
    assert isinstance(file_reply, File)
    assert file_reply.name == "2026年3月对账报表-全公司.xlsx"
    assert text_reply.text == "2026年3月对账报表(全公司)已生成,含汇总、合同、发货和回款明细。"
    workbook = load_workbook(file_reply.path)
    assert workbook["汇总"].cell(workbook["汇总"].max_row, 1).value == "合计"


def test_default_periods():
    assert reports.this_month(date(2026, 3, 18)) == Period.month(2026, 3)
    assert reports.last_month(date(2026, 1, 5)) == Period.month(2025, 12)
    assert reports.last_week(date(2026, 3, 18)) == Period(date(2026, 3, 9), date(2026, 3, 16))
    assert period_label(Period(date(2026, 3, 9), date(2026, 3, 16))) == "2026年3月9日—3月15日"


def test_settings_default_folder(monkeypatch):
    monkeypatch.delenv("REPORTS_DIR", raising=False)
    assert reports.ReportSettings(_env_file=None).reports_dir == Path("var/reports")
    monkeypatch.setenv("REPORTS_DIR", "/srv/zhongshu/reports")
    assert reports.ReportSettings(_env_file=None).reports_dir == Path("/srv/zhongshu/reports")


def test_show_runs_named_report(db, march, tmp_path):
    with db.session() as session:
        ctx = _context(session, "lizong")
        kinds = {kind: reports.show(ctx, kind, tmp_path) for kind in ("funnel", "collection", "leaderboard", "kpi")}

    assert isinstance(kinds["funnel"].replies[0], Image)
    assert kinds["funnel"].replies[0].caption.startswith("销售漏斗 · 全公司 · 2026年4月")
    assert kinds["collection"].replies[0].caption.startswith("回款趋势 · 全公司 · 2026年4月")
    assert isinstance(kinds["leaderboard"].replies[0], Image)
    assert kinds["kpi"].replies[0].text.startswith("📊 关键指标 · 全公司 · 2026年4月")


def test_show_rejects_unknown_kind(db, march, tmp_path):
    with db.session() as session, pytest.raises(ValueError, match="unknown report kind 'sales'"):
        reports.show(_context(session, "lizong"), "sales", tmp_path)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("漏斗", "funnel"), ("回款", "collection"), ("排行榜", "leaderboard"), ("周报", "weekly"), ("kpi", "kpi"),
     ("KPI", "kpi"), ("对账", "reconciliation")],
)
def test_report_words_parse(text, kind):
    assert parse_command(text) == ShowReport(kind)


def test_report_words_inside_notes():
    assert parse_command("回款十万已到账") is None
    assert parse_command("今天去恒达谈排行") is None
