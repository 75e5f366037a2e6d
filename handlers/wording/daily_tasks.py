"""Daily task lists (日清日结): the morning list, the evening progress and the team tables."""

from datetime import date

from handlers.wording.format import day, fit_reply
from handlers.wording.stage_limits import overdue_line

MAX_LISTED = 5  # per section of the morning list, so that three sections fit in one message
DIRECTORS_ONLY = "团队日报只发给区域总监和销售总监。你可以发「今日任务」查看自己的待办。"
NO_TEAM = "你的团队里还没有销售,没有可以汇总的日报。"


def _more(total: int, listed: int, where: str) -> list[str]:
    return [f"  另有 {total - listed} 项,{where}"] if total > listed else []


def morning_list(items, targets, release_after_days: int, today: date) -> str:
    """Format a rep's list for the day: follow-ups due, overdue opportunities, customers near the pool, targets."""
    lines = [f"☀️ 早上好!{day(today)}的日清日结清单:"]

    lines.append(f"📌 今日跟进({items.tasks_total} 项)")
    for task in items.tasks:
        late = "(已逾期)" if task.due_date < today else ""
        customer = f"「{task.customer}」" if task.customer else ""
        lines.append(f"· {customer}{task.title}{late}")
    if not items.tasks:
        lines.append("· 今天没有到期的跟进")
    lines += _more(items.tasks_total, len(items.tasks), "发「我的任务」查看全部。")

    if items.overdue_total:
        lines.append(f"⏰ 超过阶段时限的商机({items.overdue_total} 个)")
        lines += [f"· {overdue_line(item, today)}" for item in items.overdue]
        lines += _more(items.overdue_total, len(items.overdue), "发「我的商机」查看。")

    if items.pool_due_total:
        lines.append(f"🌊 快回公海的客户({items.pool_due_total} 个,{release_after_days} 天没跟进就会回公海)")
        lines.append("· " + "、".join(items.pool_due))
        lines += _more(items.pool_due_total, len(items.pool_due), "发一条跟进记录即可保留。")

    lines.append(
        f"🎯 今日目标:跟进至少 {targets.touches} 个客户,更新至少 {targets.requirement_updates} 次客户需求。"
    )
    return fit_reply("\n".join(lines))


def _status(figures, targets) -> str:
    return "✅" if figures.met(targets) else "❌"


def rep_progress(figures, targets, today: date) -> str:
    """Format a rep's evening summary of the day against the targets."""
    lines = [
        f"🌙 {day(today)}的进度:",
        f"· 客户跟进 {figures.touches}/{targets.touches}",
        f"· 需求更新 {figures.requirement_updates}/{targets.requirement_updates}",
    ]
    if figures.open_tasks:
        lines.append(f"· 还有 {figures.open_tasks} 项到期跟进没有完成")
    if figures.overdue:
        lines.append(f"· 还有 {figures.overdue} 个商机超过阶段时限")
    if figures.met(targets):
        lines.append("✅ 今天的目标完成了,辛苦了!")
    else:
        lines.append("❌ 今天的目标还没有完成。跟进了客户请发拜访记录,明天继续加油。")
    return fit_reply("\n".join(lines))


def _rep_row(figures, targets) -> str:
    if figures.on_leave:
        return f"· {figures.name}:休假"
    return (
        f"· {figures.name}:跟进 {figures.touches}/{targets.touches},需求 "
        f"{figures.requirement_updates}/{targets.requirement_updates},未完成跟进 {figures.open_tasks},"
        f"超期商机 {figures.overdue} {_status(figures, targets)}"
    )


def team_table(team: list, targets, today: date) -> str:
    """Format a regional director's table with one row per rep of the team."""
    working = [figures for figures in team if not figures.on_leave]
    met = sum(1 for figures in working if figures.met(targets))
    lines = [f"📋 {day(today)}团队日报:{len(working)} 人在岗,{met} 人完成目标"]
    lines += [_rep_row(figures, targets) for figures in team]
    return fit_reply("\n".join(lines))


def company_table(by_department: dict[str, list], targets, today: date) -> str:
    """Format the sales director's table with one row per department."""
    lines = [f"📋 {day(today)}销售日报(按部门):"]
    for department, team in by_department.items():
        working = [figures for figures in team if not figures.on_leave]
        met = sum(1 for figures in working if figures.met(targets))
        touches = sum(figures.touches for figures in working)
        updates = sum(figures.requirement_updates for figures in working)
        overdue = sum(figures.overdue for figures in team)
        lines.append(
            f"· {department}:{len(working)} 人在岗,{met} 人完成目标,跟进 {touches} 个客户,"
            f"需求更新 {updates} 次,超期商机 {overdue} 个"
        )
    return fit_reply("\n".join(lines))
