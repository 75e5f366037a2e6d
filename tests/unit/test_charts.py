"""Charts: drawn from real queries, Chinese text with no missing glyphs, phone size, under 2 MB."""

import logging
import warnings
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image as PILImage

from models.stages import STAGE_ORDER
from reports import charts
from reports.figures import CollectionMonth, Funnel, FunnelStage, LeaderboardRow, collection_trend, funnel, leaderboard
from reports.scope import COMPANY
from tests.unit import test_reports
from tests.unit.test_reports import MARCH

march = test_reports.march  # the hand-built March 2026, shared with the figure tests


def _assert_clean(caught: list[warnings.WarningMessage], caplog) -> None:
    """Assert that matplotlib neither warned about missing glyphs nor failed to find a font."""
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "missing from" in m or "Glyph" in m], messages
    assert not [r.message for r in caplog.records if "findfont" in r.getMessage()]


def _render(build, path, caplog):
    """Build a figure in the chart style, return (figure, path) after saving, asserting clean text."""
    caplog.set_level(logging.WARNING, logger="matplotlib.font_manager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with charts.chart_style():
            figure = build()
            charts.save_png(figure, path)
    _assert_clean(caught, caplog)
    return figure, path


def _assert_phone_png(path) -> None:
    assert path.stat().st_size < charts.MAX_PNG_BYTES
    with PILImage.open(path) as image:
        assert image.format == "PNG"
        assert image.width == 1080
        assert 600 <= image.height <= 2400


def test_font_is_registered_from_package():
    family = charts.register_font()
    assert family == "Noto Sans CJK SC"
    assert charts.FONT_FILE.name == "NotoSansCJKsc-Regular.otf"
    assert charts.FONT_FILE.is_file()


def test_funnel_chart_matches_query(db, march, tmp_path, caplog):
    with db.session() as session:
        result = funnel(session, COMPANY, MARCH)

    figure, path = _render(lambda: charts.funnel_figure(result, MARCH), tmp_path / "funnel.png", caplog)

    widths = [bar.get_width() for bar in charts.bars(figure, "funnel")]
    assert widths == [7, 5, 5, 4, 3, 1]
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[0] == "线索登记\n7个"
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "500万元" in texts
    assert "380万元\n转化率 75%" in texts
    _assert_phone_png(path)


def test_collection_chart_matches_query(db, march, tmp_path, caplog):
    with db.session() as session:
        months = collection_trend(session, COMPANY, MARCH.last_months(12))

    figure, path = _render(lambda: charts.collection_figure(months, "全公司"), tmp_path / "collection.png", caplog)

    planned = [bar.get_height() for bar in charts.bars(figure, "planned")]
    received = [bar.get_height() for bar in charts.bars(figure, "received")]
    assert planned == [0.0] * 9 + [8.0, 10.0, 60.0]  # 万元
    assert received == [0.0] * 9 + [8.0, 0.0, 145.0]
    ticks = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert ticks[0] == "25年\n4月"
    assert ticks[9] == "26年\n1月"
    _assert_phone_png(path)


def test_leaderboard_chart_matches_query(db, march, tmp_path, caplog):
    with db.session() as session:
        rows = leaderboard(session, COMPANY, MARCH)

    figure, path = _render(lambda: charts.leaderboard_figure(rows, "全公司", MARCH), tmp_path / "rank.png", caplog)

    assert [bar.get_width() for bar in charts.bars(figure, "signed")] == [200.0, 100.0, 80.0, 0.0]
    assert [bar.get_width() for bar in charts.bars(figure, "collected")] == [100.0, 30.0, 10.0, 5.0]
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["李娜\n跟进 2 次", "张伟\n跟进 4 次", "王强\n跟进 3 次", "陈静\n跟进 0 次"]
    _assert_phone_png(path)


def test_leaderboard_chart_caps_rows(tmp_path, caplog):
    rows = [LeaderboardRow(i, f"销售{i}", Decimal(100000 * (40 - i)), Decimal(0), i) for i in range(40)]

    figure, path = _render(lambda: charts.leaderboard_figure(rows, "全公司", MARCH), tmp_path / "many.png", caplog)

    assert len(charts.bars(figure, "signed")) == charts.LEADERBOARD_MAX_ROWS
    assert "前 15 名,共 40 人" in figure.texts[1].get_text()
    _assert_phone_png(path)


def test_empty_charts_say_no_data(tmp_path, caplog):
    empty = Funnel("张伟", tuple(FunnelStage(stage, 0, Decimal(0), None) for stage in STAGE_ORDER))

    funnel_chart, _ = _render(lambda: charts.funnel_figure(empty, MARCH), tmp_path / "f.png", caplog)
    board, _ = _render(lambda: charts.leaderboard_figure([], "张伟", MARCH), tmp_path / "l.png", caplog)

    assert [text.get_text() for text in funnel_chart.axes[0].texts] == ["暂无数据"]
    assert [text.get_text() for text in board.axes[0].texts] == ["暂无数据"]


def test_collection_chart_all_zero(tmp_path, caplog):
    months = [CollectionMonth(date(2026, month, 1), Decimal(0), Decimal(0)) for month in (1, 2, 3)]

    figure, path = _render(lambda: charts.collection_figure(months, "王强"), tmp_path / "zero.png", caplog)

    assert figure.axes[0].get_ylim() == (0.0, 1.0)
    _assert_phone_png(path)


def test_render_helpers_write_png(tmp_path):
    stages = tuple(FunnelStage(stage, 10 - stage.rank, Decimal(10000), None) for stage in STAGE_ORDER)

    path = charts.render_funnel(Funnel("全公司", stages), MARCH, tmp_path / "out" / "funnel.png")

    assert path == tmp_path / "out" / "funnel.png"
    _assert_phone_png(path)


def test_oversized_png_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "MAX_PNG_BYTES", 1000)
    stages = tuple(FunnelStage(stage, 1, Decimal(0), None) for stage in STAGE_ORDER)

    with pytest.raises(charts.ChartTooLargeError, match="at most 1000"):
        charts.render_funnel(Funnel("全公司", stages), MARCH, tmp_path / "big.png")
    assert not (tmp_path / "big.png").exists()


def test_format_wan():
    assert charts.format_wan(Decimal(3_450_000)) == "345万"
    assert charts.format_wan(Decimal(345_000)) == "34.5万"
    assert charts.format_wan(Decimal(300_000)) == "30万"
    assert charts.format_wan(0) == "0万"
