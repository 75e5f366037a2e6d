"""Replies about visit notes."""

from datetime import date

from handlers.wording.format import day, fit_reply, money, quantity
from models.activity import ActivityKind

KIND_LABELS = {
    ActivityKind.VISIT: "拜访",
    ActivityKind.CALL: "电话",
    ActivityKind.WECHAT: "微信",
    ActivityKind.OTHER: "跟进",
}

FIX_HINT = "有误请回复「改 金额 90万」「改 客户 名称」「改 跟进 下周三」,或「撤销」删除本条记录。"


def opportunity_title(customer, products) -> str:
    names = "、".join(p.name for p in products[:2])
    short = customer.aliases[0] if customer.aliases else customer.name
    return f"{short} {names}".strip() if names else f"{short} 商机"


def default_task_title(customer) -> str:
    return f"跟进{customer.name}" if customer else "跟进"


def _contact_line(contacts) -> str | None:
    if not contacts:
        return None
    parts = []
    for contact in contacts:
        text = contact.name + (contact.title or "")
        if contact.phones:
            text += " " + "/".join(contact.phones)
        parts.append(text)
    return "联系人:" + "、".join(parts)


def _deal_lines(record, today: date) -> list[str]:
    deal = record.deal
    if deal is None:
        if record.deal_blocked:
            owner = record.customer.owner.name if record.customer.owner else "公海"
            return [f"该客户归属{owner},本条只记为跟进记录,商机未改动。"]
        return []
    opportunity = deal.opportunity
    lines = []
    products = [
        f"{line.product_name} {quantity(line.quantity, line.unit)}".strip()
        + (f" 单价{money(line.unit_price)}" if line.unit_price is not None else "")
        for line in opportunity.lines
    ]
    head = "新建商机" if deal.created else "商机"
    lines.append(f"{head}:{opportunity.title}")
    if products:
        lines.append("产品:" + ";".join(products))
    if opportunity.amount is not None:
        lines.append(f"金额:{money(opportunity.amount)}")
    if deal.stage_to is not None:
        lines.append(f"阶段:{deal.stage_from.label} → {deal.stage_to.label}")
    else:
        lines.append(f"阶段:{opportunity.stage_enum.label}")
    if opportunity.competitors:
        lines.append("竞争对手:" + "、".join(opportunity.competitors))
    if deal.lost:
        lines.append("已标记为丢单" + (f"({opportunity.lost_reason})" if opportunity.lost_reason else "") + "。")
    return lines


def _customer_block(record, facts, today: date) -> list[str]:
    kind = KIND_LABELS.get(record.activity.kind, "跟进")
    when = "" if record.activity.occurred_on in (None, today) else f"({day(record.activity.occurred_on, today)})"
    created = "(新客户)" if record.created else ""
    lines = [f"✅ 已记录{kind}{when}:{record.customer.name}{created}"]
    if facts.reached is False:
        lines.append("本次未联系上客户。")
    contact_line = _contact_line(record.contacts)
    if contact_line:
        lines.append(contact_line)
    lines += _deal_lines(record, today)
    if record.payment is not None:
        state = "已到账" if record.payment.received_on else "待回款"
        lines.append(f"回款:{money(record.payment.amount)}({state})")
    if record.task is not None:
        lines.append(f"待办:{day(record.task.due_date, today)} {record.task.title}")
    return lines


def note_summary(records, facts, today: date, unlinked: bool, attached: int = 0) -> str:
    """Summarise what a note recorded; `attached` counts earlier photos and files now linked to it."""
    if unlinked:
        lines = ["✅ 已记录,这条记录没有关联客户。"]
        if facts.due_date:
            lines.append(f"待办:{day(facts.due_date, today)} {facts.next_action or '跟进'}")
        lines.append("如果说的是某个客户,请写上客户名称再发一次,或回复「撤销」。")
        return fit_reply("\n".join(lines))
    blocks = ["\n".join(_customer_block(record, facts, today)) for record in records]
    if attached:
        blocks.append(f"📎 你刚才发的 {attached} 个附件(照片、位置等)已存到这条记录。")
    return fit_reply("\n\n".join(blocks) + "\n\n" + FIX_HINT)
