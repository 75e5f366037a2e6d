"""Replies about customers."""

from datetime import date

from handlers.wording.format import day, fit_reply, local_day, money
from models.pipeline import OpportunityStatus

NOT_FOUND = "没有找到「{query}」。可以换个简称再查,或发送「新建客户 公司全称」创建。"
NAME_TOO_SHORT = "客户名称「{name}」太短,请写公司全称,例如「新建客户 嘉善恒昌建材有限公司」。"
STATUS_LABELS = {OpportunityStatus.WON: "已成交", OpportunityStatus.LOST: "已丢单"}


def already_exists(customer) -> str:
    owner = customer.owner.name if customer.owner else "公海"
    return f"客户「{customer.name}」已存在(负责人:{owner}),没有重复创建。"


def created(customer) -> str:
    extra = "".join(f",{label}:{value}" for label, value in (("区域", customer.region), ("行业", customer.industry)) if value)
    return f"✅ 已创建客户「{customer.name}」,负责人是你{extra}。\n直接发拜访记录即可关联到这个客户。"


def several(query: str, customers) -> str:
    names = "\n".join(f"{i}. {c.name}" for i, c in enumerate(customers[:9], 1))
    return f"「{query}」匹配到多个客户:\n{names}\n请用更完整的名称再查一次。"


def card(customer, opportunities, activities, today: date) -> str:
    owner = customer.owner.name if customer.owner else "公海(无负责人)"
    lines = [f"📇 {customer.name}", f"负责人:{owner}"]
    if customer.region or customer.industry:
        lines.append(f"区域:{customer.region or '未知'} 行业:{customer.industry or '未知'}")
    last = customer.last_follow_up_at
    lines.append(f"最近跟进:{day(local_day(last), today) if last else '暂无'}")
    if customer.contacts:
        people = "、".join(c.name + (c.title or "") + (f" {c.phones[0]}" if c.phones else "") for c in customer.contacts[:5])
        lines.append(f"联系人:{people}")
    for opportunity in opportunities:
        state = STATUS_LABELS.get(opportunity.status, opportunity.stage_enum.label)
        amount = f" {money(opportunity.amount)}" if opportunity.amount is not None else ""
        lines.append(f"商机:{opportunity.title}({state}){amount}")
    if activities:
        lines.append("最近记录:")
        for activity in activities:
            when = day(activity.occurred_on, today) if activity.occurred_on else "计划"
            text = activity.raw_text if len(activity.raw_text) <= 40 else activity.raw_text[:40] + "…"
            lines.append(f"· {when} {text}")
    return fit_reply("\n".join(lines))
