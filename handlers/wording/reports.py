"""Captions and texts of the reports sent on demand: charts, KPIs and the reconciliation file."""

from datetime import timedelta

from handlers.wording.format import fit_reply, money
from models.stages import Stage
from reports.figures import CollectionMonth, Funnel, LeaderboardRow
from reports.kpis import Kpi
from reports.scope import Period

NO_DATA = "暂无数据"


def period_label(period: Period) -> str:
    """Name a period: 2026年3月 for a calendar month, else its first and last day."""
    if period.whole_months == 1:
        return f"{period.start.year}年{period.start.month}月"
    last = period.end - timedelta(days=1)
    return f"{period.start.year}年{period.start.month}月{period.start.day}日—{last.month}月{last.day}日"


def funnel_caption(funnel: Funnel, period: Period) -> str:
    created = funnel.stage(Stage.LEAD)
    contracted = funnel.stage(Stage.CONTRACTED)
    if created.count == 0:
        return f"销售漏斗 · {funnel.label} · {period_label(period)}:没有新建商机。"
    rate = contracted.count / created.count
    return (
        f"销售漏斗 · {funnel.label} · {period_label(period)}:新建商机 {created.count} 个,"
        f"金额 {money(created.amount)};已签合同 {contracted.count} 个(转化率 {rate:.1%})。"
    )


def collection_caption(months: list[CollectionMonth], label: str) -> str:
    last = months[-1]
    text = (
        f"回款趋势 · {label} · {last.month.year}年{last.month.month}月:"
        f"计划 {money(last.planned)},实际 {money(last.received)}"
    )
    if last.planned:
        text += f"(完成 {last.received / last.planned:.0%})"
    return text + "。"


def leaderboard_caption(rows: list[LeaderboardRow], label: str, period: Period) -> str:
    if not rows:
        return f"销售排行 · {label} · {period_label(period)}:{NO_DATA}。"
    best = rows[0]
    return (
        f"销售排行 · {label} · {period_label(period)}:第一名 {best.name},"
        f"签约 {money(best.signed)},回款 {money(best.collected)},跟进 {best.activities} 次。"
    )


def _kpi_value(value: float | None, unit: str) -> str:
    if value is None:
        return NO_DATA
    return f"{value:.1f}{unit}" if unit == "%" else f"{value:.1f} {unit}"


def _kpi_change(kpi: Kpi) -> str:
    change = kpi.change
    if change is None:
        return ""
    unit = "个百分点" if kpi.unit == "%" else f" {kpi.unit}"
    if abs(change) < 0.05:
        return ",持平"
    arrow = "↑" if change > 0 else "↓"
    return f",{arrow}{abs(change):.1f}{unit}"


def kpi_text(kpis: list[Kpi], label: str, period: Period) -> str:
    """List each KPI with the previous period's value and the change."""
    lines = [f"📊 关键指标 · {label} · {period_label(period)}(括号内为上期)"]
    for kpi in kpis:
        previous = _kpi_value(kpi.previous, kpi.unit)
        lines.append(f"· {kpi.label}:{_kpi_value(kpi.value, kpi.unit)}(上期 {previous}{_kpi_change(kpi)})")
    return fit_reply("\n".join(lines))


def reconciliation_name(label: str, month: Period) -> str:
    """Return the file name shown to the recipient in the chat."""
    return f"{month.start.year}年{month.start.month}月对账报表-{label}.xlsx"


def reconciliation_caption(label: str, month: Period) -> str:
    return f"{period_label(month)}对账报表({label})已生成,含汇总、合同、发货和回款明细。"
