"""The command grammar of quotes, discounts, contracts and approvals.

`parse_deal_command` returns None for text that is not one of these commands, often a visit
note that mentions a quote or a contract.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.understanding.command_base import Malformed, decimal_amount


@dataclass(frozen=True)
class QuoteItem:
    """One quote line as written: `unit` None means the product's catalog unit, `unit_price`
    None means its list price."""

    product: str
    quantity: Decimal
    unit: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class CreateQuote:
    """A quote for a customer; no items means a quote from the products of its opportunity."""

    customer_query: str
    items: tuple[QuoteItem, ...] = ()


@dataclass(frozen=True)
class RequestDiscount:
    """A price cut on the customer's latest quote; exactly one of the three changes is set."""

    customer_query: str
    reason: str
    amount_off: Decimal | None = None  # CNY off each unit
    new_price: Decimal | None = None  # the unit price asked for
    percent_off: Decimal | None = None  # percent off the quoted unit price


@dataclass(frozen=True)
class SubmitContract:
    target: str  # a customer name or alias, or the number of the quote the contract follows
    amount: Decimal | None = None


@dataclass(frozen=True)
class Resubmit:
    """Submit a quote or contract again, after a withdrawal or rejection, with a new amount if given."""

    number: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class WithdrawApproval:
    number: str


@dataclass(frozen=True)
class SignContract:
    number: str


@dataclass(frozen=True)
class PendingApprovals:
    pass


DealCommand = (
    CreateQuote | RequestDiscount | SubmitContract | Resubmit | WithdrawApproval | SignContract | PendingApprovals
)

QUOTE_USAGE = "用法:给客户报价 产品 数量单位 单价,例如「给恒达报价 P.O42.5 500吨 单价318」;按商机里的产品报价:「报价 恒达」"
DISCOUNT_USAGE = "用法:申请折扣 客户 降价幅度 原因 理由,例如「申请折扣 恒达 每吨降15元 原因 竞品海螺报价更低」。幅度也可以写「降到303元」「降3%」「9.5折」"
CONTRACT_USAGE = "用法:客户合同 金额 提交审批,例如「恒达合同 68万 提交审批」;按报价单签:「合同 BJ-2026-0001 提交审批」"

# Quote numbers are BJ-<year>-<serial>, contract numbers HT-<year>-<serial>.
_DOCUMENT = r"(?:BJ|HT)-\d{4}-\d{4,}"
_QUOTE_FOR = re.compile(r"^给(?P<customer>\S{1,20}?)报价(?P<rest>.*)$", re.DOTALL)
_QUOTE = re.compile(r"^报价[\s:\uff1a]+(?P<customer>\S+)(?P<rest>.*)$", re.DOTALL)
_QUOTE_ITEM_SEPARATORS = re.compile(r"[;\uff1b\u3001\n]+")
_QUANTITY = r"\d+(?:\.\d+)?万?|[零〇一二两三四五六七八九十百千万]+"
_UNIT = r"吨|t|方|立方米?|m3|张|平方米?|平米|㎡|m2|块|卷|包|袋"
_QUOTE_ITEM = re.compile(
    rf"^(?P<product>\S+)\s+(?P<quantity>{_QUANTITY})\s*(?P<unit>{_UNIT})?"
    r"(?:\s*[,\uff0c]?\s*(?:单价|价格|@)?\s*(?P<price>\d+(?:\.\d+)?)\s*(?:元|块)?(?:\s*/\s*\S{1,3}|每\S{1,3})?)?$",
    re.IGNORECASE,
)
_DISCOUNT = re.compile(r"^申请(?:折扣|优惠|降价|特价)(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$", re.DOTALL)
_DISCOUNT_ARGS = re.compile(
    r"^(?P<customer>\S+)\s+(?P<change>.+?)\s*[,\uff0c]?\s*(?:原因|理由)[\s:\uff1a]*(?P<reason>\S.*)$", re.DOTALL
)
_AMOUNT_OFF = re.compile(r"^(?:每\S{0,2}?)?(?:降价?|便宜|优惠|让)(?P<value>\d+(?:\.\d+)?)(?:元|块)$")
_NEW_PRICE = re.compile(r"^(?:(?:单价)?(?:降|改)(?:到|至|为)|单价)(?P<value>\d+(?:\.\d+)?)(?:元|块)?(?:/\S{1,3})?$")
_PERCENT_OFF = re.compile(r"^(?:降|优惠|让)?(?P<value>\d+(?:\.\d+)?)(?:%|\uff05|个点)$")
_FOLD = re.compile(r"^(?:打)?(?P<value>\d(?:\.\d)?)折$")
_SUBMIT = re.compile(r"^(?P<body>.+?)\s*提交审批$")
_RESUBMIT = re.compile(
    rf"^(?:重新)?提交(?:审批)?[\s:\uff1a]*(?P<number>{_DOCUMENT})(?:\s*金额[\s:\uff1a]*(?P<amount>\S+))?$", re.IGNORECASE
)
_WITHDRAW = re.compile(rf"^撤回(?:审批)?[\s:\uff1a]*(?P<number>{_DOCUMENT})$", re.IGNORECASE)
_SIGN = re.compile(
    r"^(?:合同已签|已签合同|合同签订|已签约|签约)[\s:\uff1a]*(?P<number>HT-\d{4}-\d{4,})$"
    r"|^(?P<number_first>HT-\d{4}-\d{4,})\s*已签(?:约|合同)?$",
    re.IGNORECASE,
)
_PENDING_APPROVALS = re.compile(r"^(待审批|我的审批|审批列表|待我审批)$")


def _parse_quote_items(rest: str) -> tuple[QuoteItem, ...] | None:
    """Return the items written after the customer, or None when they do not read as items."""
    items = []
    for part in _QUOTE_ITEM_SEPARATORS.split(rest.strip()):
        if not part.strip():
            continue
        match = _QUOTE_ITEM.match(part.strip())
        if match is None:
            return None
        quantity = decimal_amount(match["quantity"])
        price = decimal_amount(match["price"]) if match["price"] else None
        if quantity is None or (match["price"] and price is None):
            return None
        items.append(QuoteItem(product=match["product"], quantity=quantity, unit=match["unit"], unit_price=price))
    return tuple(items)


def _parse_discount(rest: str) -> DealCommand | Malformed:
    match = _DISCOUNT_ARGS.match(rest)
    if match is None:
        return Malformed(DISCOUNT_USAGE)
    change = re.sub(r"\s+", "", match["change"])
    customer, reason = match["customer"], match["reason"].strip()
    if found := _AMOUNT_OFF.match(change):
        return RequestDiscount(customer, reason, amount_off=Decimal(found["value"]))
    if found := _NEW_PRICE.match(change):
        return RequestDiscount(customer, reason, new_price=Decimal(found["value"]))
    if found := _PERCENT_OFF.match(change):
        return RequestDiscount(customer, reason, percent_off=Decimal(found["value"]))
    if found := _FOLD.match(change):
        return RequestDiscount(customer, reason, percent_off=100 - Decimal(found["value"]) * 10)
    return Malformed(DISCOUNT_USAGE)


def _parse_submit(body: str) -> DealCommand | Malformed | None:
    """Read `恒达合同 68万`, `合同 恒达 68万` or `合同 BJ-2026-0001` before 提交审批."""
    parts = body.split()
    if parts and parts[0].endswith("合同") and parts[0] != "合同":
        target, rest = parts[0].removesuffix("合同"), parts[1:]
    elif len(parts) >= 2 and "合同" in (parts[0], parts[1]):
        target = parts[1] if parts[0] == "合同" else parts[0]
        rest = parts[2:]
    else:
        return None
    if len(rest) > 1:
        return Malformed(CONTRACT_USAGE)
    amount = None
    if rest:
        amount = decimal_amount(rest[0].removeprefix("金额"))
        if amount is None:
            return Malformed(CONTRACT_USAGE)
    if re.fullmatch(_DOCUMENT, target, re.IGNORECASE):
        target = target.upper()
    return SubmitContract(target=target, amount=amount)


def parse_deal_command(text: str) -> DealCommand | Malformed | None:
    """Return a quote, discount, contract or approval command, or None."""
    if match := _QUOTE_FOR.match(text):
        rest = match["rest"]
        items = _parse_quote_items(rest)
        if items is not None:
            return CreateQuote(match["customer"], items)
        # 给恒达报价了,对方嫌贵… is a note; only a separator after 报价 makes a malformed quote.
        return Malformed(QUOTE_USAGE) if rest[:1].isspace() else None
    if match := _QUOTE.match(text):
        items = _parse_quote_items(match["rest"])
        return Malformed(QUOTE_USAGE) if items is None else CreateQuote(match["customer"], items)
    if match := _DISCOUNT.match(text):
        if match["sep"] or not match["rest"]:
            return _parse_discount(match["rest"].strip())
        return None
    if match := _WITHDRAW.match(text):
        return WithdrawApproval(match["number"].upper())
    if match := _SIGN.match(text):
        return SignContract((match["number"] or match["number_first"]).upper())
    if match := _RESUBMIT.match(text):
        amount = None
        if match["amount"]:
            amount = decimal_amount(match["amount"])
            if amount is None:
                return Malformed(CONTRACT_USAGE)
        return Resubmit(match["number"].upper(), amount)
    if match := _SUBMIT.match(text):
        body = match["body"].strip()
        if re.fullmatch(_DOCUMENT, body, re.IGNORECASE):
            return Resubmit(body.upper())
        return _parse_submit(body)
    if _PENDING_APPROVALS.match(text):
        return PendingApprovals()
    return None
