"""Reminders and escalations about opportunities past their stage's time limit."""

from datetime import date

from handlers.wording.format import day, fit_reply

MAX_LISTED = 8  # about what fits in one 2,048-byte WeCom text


def overdue_line(item, today: date) -> str:
    late = (today - item.due_on).days
    deliverables = "、".join(item.deliverables) or "推进到下一阶段"
    return (
        f"「{item.customer}」{item.title}:{item.stage.label},{day(item.entered_on, today)}进入,"
        f"应在{day(item.due_on, today)}前完成{deliverables}(已超 {late} 天)"
    )


def overdue_reminder(items: list, total: int, today: date) -> str:
    """List an owner's overdue opportunities, most overdue first, in one message; `total`
    counts them all when `items` contains only the first few."""
    lines = [f"⏰ 你有 {total} 个商机超过了阶段时限,请尽快推进:"]
    for index, item in enumerate(items, 1):
        lines.append(f"{index}. {overdue_line(item, today)}")
    if total > len(items):
        lines.append(f"另有 {total - len(items)} 个没有列出,发「我的商机」查看。")
    lines.append("完成后发拜访记录,或发「推进 客户名 阶段」更新阶段。")
    return fit_reply("\n".join(lines))


def escalation(team: dict[str, list], total: int, escalate_after_working_days: int, today: date) -> str:
    """List a manager's team's opportunities still overdue after reminders, grouped by owner;
    `total` counts them all when `team` contains only the first few."""
    lines = [f"📣 你的团队有 {total} 个商机超过阶段时限,提醒 {escalate_after_working_days} 个工作日后仍未推进:"]
    for owner, items in team.items():
        lines.append(f"{owner}:")
        for item in items:
            lines.append(f"· {overdue_line(item, today)}")
    listed = sum(len(items) for items in team.values())
    if total > listed:
        lines.append(f"另有 {total - listed} 个没有列出。")
    lines.append("请和负责人确认进展。")
    return fit_reply("\n".join(lines))
