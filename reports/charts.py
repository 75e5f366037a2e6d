"""Charts as PNG images sized for a phone screen, with Chinese text.

Each chart has a `*_figure` function that builds a matplotlib Figure from figures already
queried, and `save_png` writes it. Tests read the plotted values back from the Figure.

The font is Noto Sans CJK SC (SIL Open Font License 1.1) from the mplfonts package, registered
by file path so that nothing is downloaded or copied at run time. mplfonts also ships SimHei,
whose licence does not allow commercial use, so it must not be used.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mplfonts.conf import FONT_DIR
from PIL import Image as PILImage

from models.stages import Stage
from reports.figures import CollectionMonth, Funnel, LeaderboardRow
from reports.scope import Period

FONT_FILE = Path(FONT_DIR) / "NotoSansCJKsc-Regular.otf"

WIDTH_PX = 1080
DPI = 150
MAX_PNG_BYTES = 2 * 1024 * 1024  # WeCom accepts images up to 2 MB on every channel
LEADERBOARD_MAX_ROWS = 15

# One palette for every chart.
PRIMARY = "#1F5FAD"
SECONDARY = "#F08A24"
MUTED = "#A9C1E0"
TEXT = "#1F2328"
SUBTLE = "#6B7280"
GRID = "#E5E7EB"
BACKGROUND = "#FFFFFF"

TITLE_SIZE = 20
SUBTITLE_SIZE = 13
LABEL_SIZE = 14
TICK_SIZE = 13
ANNOTATION_SIZE = 12

# matplotlib's rcParams are process-wide and rendering is not thread-safe, so inbox worker
# threads render one chart at a time.
_render_lock = threading.Lock()


class ChartTooLargeError(ValueError):
    """Raised when a PNG comes out larger than WeCom accepts."""


@lru_cache(maxsize=1)
def register_font() -> str:
    """Register the CJK font file with matplotlib once; return its family name."""
    if not FONT_FILE.exists():
        raise FileNotFoundError(f"CJK font not found at {FONT_FILE}; reinstall mplfonts")
    font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(fname=str(FONT_FILE)).get_name()


@contextmanager
def chart_style() -> Iterator[None]:
    """Apply the charts' font and style while building and saving a figure."""
    family = register_font()
    style = {
        "font.family": "sans-serif",
        # The CJK font alone: it covers ASCII, and a fallback font list makes matplotlib lay
        # text out glyph by glyph, which more than doubles the render time.
        "font.sans-serif": [family],
        "axes.unicode_minus": False,  # the CJK font has no U+2212 minus sign
        "axes.edgecolor": GRID,
        "axes.labelcolor": TEXT,
        "xtick.color": SUBTLE,
        "ytick.color": TEXT,
        "text.color": TEXT,
        "figure.facecolor": BACKGROUND,
    }
    with _render_lock, matplotlib.rc_context(style):
        yield


def wan(amount: Decimal | int | float) -> float:
    """Convert CNY (元) to 万元 for plotting."""
    return float(Decimal(amount) / 10000)


def format_wan(amount: Decimal | int | float) -> str:
    value = wan(amount)
    return f"{value:,.0f}万" if abs(value) >= 100 else f"{value:,.1f}万".replace(".0万", "万")


def _new_figure(height_px: int) -> Figure:
    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _titles(figure: Figure, title: str, subtitle: str) -> None:
    figure.text(0.05, 1 - 50 / figure.bbox.height, title, fontsize=TITLE_SIZE, color=TEXT, va="top")
    figure.text(0.05, 1 - 120 / figure.bbox.height, subtitle, fontsize=SUBTITLE_SIZE, color=SUBTLE, va="top")


def _plain_axes(axes) -> None:
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(length=0, labelsize=TICK_SIZE)


def period_text(period: Period) -> str:
    last_day = period.end - timedelta(days=1)
    return f"{period.start.year}年{period.start.month}月{period.start.day}日—{last_day.month}月{last_day.day}日"


def _no_data(axes) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, "暂无数据", ha="center", va="center", fontsize=LABEL_SIZE, color=SUBTLE, transform=axes.transAxes)


# -- funnel ----------------------------------------------------------------------------------


def funnel_figure(funnel: Funnel, period: Period) -> Figure:
    """Build the funnel: one centred bar per stage, width = opportunities that reached it."""
    figure = _new_figure(1350)
    _titles(figure, f"销售漏斗 · {funnel.label}", f"{period_text(period)} 新建商机 · 金额单位:万元")
    axes = figure.add_axes((0.22, 0.05, 0.46, 0.8))
    counts = [stage.count for stage in funnel.stages]
    widest = max(counts)
    if widest == 0:
        _no_data(axes)
        return figure

    _plain_axes(axes)
    axes.spines["bottom"].set_visible(False)
    axes.xaxis.set_visible(False)
    positions = list(range(len(counts)))
    lefts = [(widest - count) / 2 for count in counts]
    colors = [SECONDARY if stage.stage.rank >= Stage.CONTRACTED.rank else PRIMARY for stage in funnel.stages]
    axes.barh(positions, counts, left=lefts, height=0.72, color=colors, gid="funnel")
    axes.set_xlim(0, widest)
    axes.set_ylim(len(counts) - 0.5, -0.5)
    axes.set_yticks(positions, [f"{stage.stage.label}\n{stage.count}个" for stage in funnel.stages], fontsize=LABEL_SIZE)

    # Amount and conversion sit right of the axes, in axes-fraction x and data y.
    for index, stage in enumerate(funnel.stages):
        details = f"{format_wan(stage.amount)}元"
        if stage.conversion is not None:
            details += f"\n转化率 {stage.conversion:.0%}"
        axes.annotate(
            details, xy=(1.04, index), xycoords=("axes fraction", "data"), va="center", ha="left",
            fontsize=ANNOTATION_SIZE, color=SUBTLE,
        )
    return figure


# -- collections -----------------------------------------------------------------------------


def collection_figure(months: list[CollectionMonth], label: str) -> Figure:
    """Build grouped bars of planned and received payments per month, in 万元."""
    figure = _new_figure(1080)
    first, last = months[0].month, months[-1].month
    subtitle = f"{first.year}年{first.month}月—{last.year}年{last.month}月 · 单位:万元"
    _titles(figure, f"回款趋势 · {label}", subtitle)
    axes = figure.add_axes((0.1, 0.1, 0.86, 0.66))
    _plain_axes(axes)

    positions = range(len(months))
    planned = [wan(month.planned) for month in months]
    received = [wan(month.received) for month in months]
    width = 0.4
    axes.bar([p - width / 2 for p in positions], planned, width=width, color=MUTED, label="计划回款", gid="planned")
    axes.bar([p + width / 2 for p in positions], received, width=width, color=PRIMARY, label="实际回款", gid="received")
    axes.set_xticks(list(positions), [_month_tick(month.month, index) for index, month in enumerate(months)])
    axes.grid(axis="y", color=GRID, linewidth=1)
    axes.set_axisbelow(True)
    axes.legend(loc="lower left", bbox_to_anchor=(-0.08, 1.02), ncols=2, frameon=False, fontsize=LABEL_SIZE)
    if max(planned + received) == 0:
        axes.set_ylim(0, 1)
    return figure


def _month_tick(month: date, index: int) -> str:
    return f"{month.year % 100}年\n{month.month}月" if index == 0 or month.month == 1 else f"\n{month.month}月"


# -- leaderboard -----------------------------------------------------------------------------


def leaderboard_figure(rows: list[LeaderboardRow], label: str, period: Period) -> Figure:
    """Build horizontal bars of signed and collected amounts per rep, best first, in 万元."""
    shown = rows[:LEADERBOARD_MAX_ROWS]
    figure = _new_figure(max(720, 300 + 110 * len(shown)))
    subtitle = f"{period_text(period)} · 单位:万元"
    if len(rows) > len(shown):
        subtitle += f" · 前 {len(shown)} 名,共 {len(rows)} 人"
    _titles(figure, f"销售排行 · {label}", subtitle)
    top = 1 - 230 / figure.bbox.height
    axes = figure.add_axes((0.25, 0.04, 0.62, top - 0.04))
    if not shown:
        _no_data(axes)
        return figure
    _plain_axes(axes)

    positions = range(len(shown))
    height = 0.38
    signed = [wan(row.signed) for row in shown]
    collected = [wan(row.collected) for row in shown]
    axes.barh([p - height / 2 for p in positions], signed, height=height, color=PRIMARY, label="签约金额", gid="signed")
    axes.barh([p + height / 2 for p in positions], collected, height=height, color=SECONDARY, label="回款金额", gid="collected")
    axes.set_yticks(list(positions), [f"{row.name}\n跟进 {row.activities} 次" for row in shown])
    axes.invert_yaxis()
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    axes.legend(loc="lower left", bbox_to_anchor=(-0.3, 1.0), ncols=2, frameon=False, fontsize=LABEL_SIZE)

    largest = max(signed + collected) or 1
    axes.set_xlim(0, largest * 1.25)
    for index, row in enumerate(shown):
        for offset, amount in ((-height / 2, row.signed), (height / 2, row.collected)):
            axes.text(
                wan(amount) + largest * 0.02, index + offset, format_wan(amount),
                va="center", fontsize=ANNOTATION_SIZE, color=SUBTLE,
            )
    return figure


# -- output ----------------------------------------------------------------------------------


def bars(figure: Figure, gid: str) -> list:
    """Return the bar rectangles a chart drew for one series, in drawing order."""
    return [patch for axes in figure.axes for patch in axes.patches if patch.get_gid() == gid]


def save_png(figure: Figure, path: Path) -> Path:
    """Write the figure as PNG; raise ChartTooLargeError over 2 MB and leave no file behind.

    The image is saved with a palette of 256 colours: charts use a handful of flat colours and
    their anti-aliased edges, and a palette PNG encodes several times faster than RGBA.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.canvas.draw()
    width, height = figure.canvas.get_width_height(physical=True)
    image = PILImage.frombuffer("RGBA", (width, height), figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image.convert("RGB").quantize(256, method=PILImage.Quantize.FASTOCTREE).save(path, format="PNG")
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        path.unlink()
        raise ChartTooLargeError(f"chart {path.name} is {size} bytes; WeCom accepts at most {MAX_PNG_BYTES}")
    return path


def render_funnel(funnel: Funnel, period: Period, path: Path) -> Path:
    with chart_style():
        return save_png(funnel_figure(funnel, period), path)


def render_collection(months: list[CollectionMonth], label: str, path: Path) -> Path:
    with chart_style():
        return save_png(collection_figure(months, label), path)


def render_leaderboard(rows: list[LeaderboardRow], label: str, period: Period, path: Path) -> Path:
    with chart_style():
        return save_png(leaderboard_figure(rows, label, period), path)
