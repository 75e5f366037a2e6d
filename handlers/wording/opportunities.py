"""Replies about opportunities, stages and tasks."""

from datetime import date

from handlers.wording.format import day, fit_reply, money
from models.pipeline import StageMoveKind

CUSTOMER_NOT_FOUND = "没有找到客户「{query}」,请换个名称或简称。"
NOT_YOURS = "「{customer}」不是你负责的客户,不能改它的商机。"
NO_OPEN_OPPORTUNITY = "「{customer}」没有进行中的商机。发一条拜访记录写明需求即可创建。"
ALREADY_THERE = "「{title}」已经在「{stage}」阶段,没有改动。"


def several_customers(query: str, customers) -> str:
    names = "、".join(c.name for c in customers[:5])
    return f"「{query}」匹配到多个客户:{names}。请写得更完整一些。"


def listing(opportunities, today: date) -> str:
    if not opportunities:
        return "你目前没有进行中的商机。发一条拜访记录即可创建。"
    lines = [f"你有 {len(opportunities)} 个进行中的商机:"]
    for i, opportunity in enumerate(opportunities, 1):
        amount = f" {money(opportunity.amount)}" if opportunity.amount is not None else ""
        lines.append(f"{i}. {opportunity.customer.name} · {opportunity.stage_enum.label}{amount}")
    return fit_reply("\n".join(lines))


def tasks(items, today: date) -> str:
    if not items:
        return "你目前没有待办。"
    lines = ["你的待办:"]
    for task in items:
        overdue = "(已逾期)" if task.due_date < today else ""
        lines.append(f"· {day(task.due_date, today)}{overdue} {task.title}")
    return fit_reply("\n".join(lines))


def confirm_irregular(opportunity, current, target, kind, customer_query) -> str:
    what = "跳过中间阶段" if kind == StageMoveKind.SKIP else "退回到之前的阶段"
    return (
        f"「{opportunity.title}」现在是「{current.label}」,改到「{target.label}」属于{what},会记入流程合规统计。\n"
        f"确定要改,请发送「推进 {customer_query} {target.label} 确认」。"
    )


def moved(opportunity, current, target, kind) -> str:
    note = {StageMoveKind.SKIP: "(跳过阶段,已记录)", StageMoveKind.BACK: "(退回,已记录)"}.get(kind, "")
    return f"✅ 「{opportunity.title}」:{current.label} → {target.label}{note}"
