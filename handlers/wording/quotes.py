"""Replies and card rows about quotes and discounts."""

from datetime import date
from decimal import Decimal

from handlers.wording.format import day, fit_reply, money, quantity
from models.approval_rules import discount_percent
from models.stages import Stage

CUSTOMER_NOT_FOUND = "没有找到客户「{query}」,请换个名称或简称。"
NOT_YOURS = "「{customer}」不是你负责的客户,不能给它报价或签合同。"
PRODUCT_NOT_FOUND = "产品目录里没有「{product}」。请写产品名称或常用简称,例如 P.O42.5、C30。"
WRONG_UNIT = "「{product}」按{expected}报价,不能用「{unit}」。请改成{expected}再发一次。"
PRICE_MISSING = "「{product}」没有目录价,请写明单价,例如「单价318」。"
LINE_WITHOUT_QUANTITY = "商机里的「{product}」没有数量,请直接写明,例如「给恒达报价 P.O42.5 500吨 单价318」。"
NO_LINES = "「{customer}」没有带产品的进行中商机。请写明产品、数量和单价,例如「给恒达报价 P.O42.5 500吨 单价318」。"
QUOTE_NOT_FOUND = "没有找到报价单「{number}」。"
NO_QUOTE = "「{customer}」还没有报价单,请先报价,例如「给恒达报价 P.O42.5 500吨 单价318」。"
DISCOUNT_PENDING = "报价单「{number}」已有折扣申请在审批中,请等结果,或发「撤回审批 {number}」后再申请。"
QUOTE_APPROVED_NEXT = "报价单已生效,可以发给客户了。"

QUOTE_STATUS_LABELS = {"draft": "已撤回", "pending_approval": "审批中", "sent": "已发出", "rejected": "已驳回"}


def several_customers(query: str, names: list[str]) -> str:
    return f"「{query}」匹配到多个客户:{'、'.join(names[:5])}。请写得更完整一些。"


def several_products(written: str, names: list[str]) -> str:
    return f"「{written}」匹配到多个产品:{'、'.join(names[:5])}。请写得更具体一些。"


def _price(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}元"


def _discount(price: Decimal, list_price: Decimal | None) -> str:
    if list_price is None:
        return "无目录价"
    percent = discount_percent(price, list_price)
    if percent > 0:
        return f"目录价{_price(list_price)},优惠{percent}%"
    return f"目录价{_price(list_price)}"


def _line(line) -> str:
    return (
        f"· {line.product_name} {quantity(line.quantity, line.unit)} × {_price(line.unit_price)}/{line.unit}"
        f"({_discount(line.unit_price, line.list_price)})"
    )


def _lines(quote) -> list[str]:
    return [_line(line) for line in quote.lines]


def quote_sent(quote, customer, opportunity, moved: bool, today: date, created: bool) -> str:
    head = f"✅ 报价单 {quote.number} 已生成并生效({customer.name}):" if created else f"✅ 报价单 {quote.number} 已生效:"
    lines = [head, *_lines(quote), f"合计 {money(quote.total)},有效期至 {day(quote.valid_until, today)}。"]
    if moved:
        lines.append(f"商机「{opportunity.title}」已进入「{Stage.QUOTING.label}」阶段。")
    return fit_reply("\n".join(lines))


def quote_submitted(quote, customer, today: date, approvers: str, rules, created: bool) -> str:
    head = f"报价单 {quote.number} 已生成({customer.name}):" if created else f"报价单 {quote.number}:"
    lines = [
        head, *_lines(quote), f"合计 {money(quote.total)},有效期至 {day(quote.valid_until, today)}。",
        f"有价格优惠超过 {rules.free_discount_percent}% 或低于底价,已提交{approvers}审批,结果会通知你。",
        f"要撤回请发「撤回审批 {quote.number}」。",
    ]
    return fit_reply("\n".join(lines))


def quote_card_fields(quote, customer, products) -> list[tuple[str, str]]:
    fields = [("客户", customer.name), ("合计", money(quote.total))]
    for line in quote.lines[:3]:
        floor = products[line.product_id].floor_price
        floor_text = f",底价{_price(floor)}" if floor is not None else ""
        value = f"{quantity(line.quantity, line.unit)} × {_price(line.unit_price)}({_discount(line.unit_price, line.list_price)}{floor_text})"
        fields.append((line.product_name[:10], value))
    return fields


def cannot_resubmit(quote) -> str:
    status = QUOTE_STATUS_LABELS.get(quote.status, quote.status)
    return f"报价单「{quote.number}」{status},不能重新提交。只有撤回或被驳回的报价单可以重新提交。"


def quote_not_sent(quote) -> str:
    status = QUOTE_STATUS_LABELS.get(quote.status, quote.status)
    return f"最新的报价单「{quote.number}」{status},还没有生效,不能申请折扣。"


def bad_discount(line, price: Decimal) -> str:
    return f"「{line.product_name}」现价 {_price(line.unit_price)},调整后为 {_price(price)},不是有效的降价。请检查幅度。"


def _changes(quote, new_prices: dict) -> list[str]:
    return [
        f"· {line.product_name}:{_price(line.unit_price)} → {_price(new_prices[line.id])}/{line.unit}"
        f"({_discount(new_prices[line.id], line.list_price)})"
        for line in quote.lines
    ]


def discount_applied(quote, reason: str) -> str:
    lines = [f"✅ 报价单 {quote.number} 已按新价格更新(原因:{reason}):"]
    lines += [_line(line) for line in quote.lines]
    lines.append(f"新合计 {money(quote.total)}。优惠在免审批范围内,已直接生效。")
    return fit_reply("\n".join(lines))


def discount_submitted(quote, new_prices: dict, approvers: str) -> str:
    lines = [f"折扣申请已提交{approvers}审批(报价单 {quote.number}):", *_changes(quote, new_prices)]
    lines.append(f"审批结果会通知你。要撤回请发「撤回审批 {quote.number}」。")
    return fit_reply("\n".join(lines))


def discount_card_fields(quote, customer, new_prices: dict, products) -> list[tuple[str, str]]:
    fields = [("客户", customer.name), ("报价单", quote.number)]
    for line in quote.lines[:3]:
        floor = products[line.product_id].floor_price
        floor_text = f",底价{_price(floor)}" if floor is not None else ""
        value = f"{_price(line.unit_price)}→{_price(new_prices[line.id])}({_discount(new_prices[line.id], line.list_price)}{floor_text})"
        fields.append((line.product_name[:10], value))
    return fields


def discount_approved_next(quote) -> str:
    return f"报价单 {quote.number} 已按新价格更新,新合计 {money(quote.total)}。"
