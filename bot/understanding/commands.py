"""The command grammar: Chinese commands typed in the chat, parsed into typed intents.

Any text that is not a command is a visit note.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.understanding.numbers import parse_number
from models.stages import STAGE_LABELS, Stage


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class CreateCustomer:
    name: str
    region: str | None = None
    industry: str | None = None


@dataclass(frozen=True)
class LookupCustomer:
    query: str


@dataclass(frozen=True)
class MyOpportunities:
    pass


@dataclass(frozen=True)
class MyTasks:
    pass


@dataclass(frozen=True)
class TeamDaily:
    """A director asks for today's team table (团队日报)."""


@dataclass(frozen=True)
class MoveStage:
    customer_query: str
    stage: Stage
    confirmed: bool = False


@dataclass(frozen=True)
class Correct:
    field: str  # one of CORRECTABLE_FIELDS' values
    value: str


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class ListPool:
    region: str | None = None
    industry: str | None = None


@dataclass(frozen=True)
class ClaimCustomer:
    query: str


@dataclass(frozen=True)
class AssignCustomer:
    query: str
    assignee: str  # a name or WeCom UserID


@dataclass(frozen=True)
class TakeBackCustomer:
    query: str
    reason: str | None = None


@dataclass(frozen=True)
class ShowReport:
    """A report asked for by name; `kind` is a value of REPORT_WORDS."""

    kind: str


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


@dataclass(frozen=True)
class Answer:
    """A reply to a question the bot asked: a choice number, yes, or cancel."""

    choice: int | None = None
    yes: bool = False
    cancel: bool = False


@dataclass(frozen=True)
class Malformed:
    """A command word with arguments the grammar cannot read; `usage` is the Chinese hint."""

    usage: str


Command = (
    Help | CreateCustomer | LookupCustomer | MyOpportunities | MyTasks | TeamDaily | MoveStage | Correct | Undo
    | ListPool | ClaimCustomer | AssignCustomer | TakeBackCustomer | CreateQuote | RequestDiscount
    | SubmitContract | Resubmit | WithdrawApproval | SignContract | PendingApprovals | ShowReport | Answer | Malformed
)

CORRECTABLE_FIELDS = {
    "金额": "amount",
    "预算": "amount",
    "客户": "customer",
    "跟进": "due_date",
    "跟进日期": "due_date",
    "下次跟进": "due_date",
    "日期": "due_date",
    "拜访日期": "visit_date",
    "阶段": "stage",
    "回款": "payment_amount",
}

_STAGE_BY_TEXT = {label: stage for stage, label in STAGE_LABELS.items()} | {
    "线索": Stage.LEAD, "沟通": Stage.CONTACTED, "需求": Stage.QUALIFIED, "报价": Stage.QUOTING,
    "合同": Stage.CONTRACTED, "签约": Stage.CONTRACTED, "发货": Stage.FULFILLING, "回款": Stage.FULFILLING,
}

_SEP = r"[\s:\uff1a,\uff0c]*"
_HELP = re.compile(r"^(帮助|help|[?\uff1f]|菜单|功能|怎么用)$", re.IGNORECASE)
_CREATE = re.compile(rf"^(新建客户|创建客户|添加客户|建客户){_SEP}(?P<rest>.*)$")
_LOOKUP = re.compile(rf"^(查客户|查询客户|查一下客户|查看客户|客户信息){_SEP}(?P<rest>.*)$")
_MINE = re.compile(r"^(我的商机|商机列表|我的单子)$")
_TASKS = re.compile(r"^(我的任务|今日任务|今天的任务|待办|我的待办)$")
_TEAM_DAILY = re.compile(r"^(团队日报|今日日报|团队进度)$")
_MOVE = re.compile(rf"^(推进|阶段|移到|改阶段){_SEP}(?P<rest>.*)$")
_CORRECT = re.compile(r"^(改|更正|修改)(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_CONFIRMED = re.compile(r"\s+确认$")
_UNDO = re.compile(r"^(撤销|撤回|删除上一条|删掉上一条)$")
_POOL = re.compile(r"^(公海|公海客户|公海列表)(?P<rest>(\s.*)?)$")
# 领取, 分配 and 收回 also start notes (领取了样品…, 分配方案…, 收回货款…), so a separator must
# follow the word. The exceptions are a short name glued to 领取 and a complete 分配X给Y.
_CLAIM = re.compile(r"^领取(?P<sep>[\s:\uff1a]*)(?P<rest>\S*)$")
_CLAIM_GLUED = re.compile(r"^[^了到的过]\S{1,11}$")
_ASSIGN = re.compile(r"^分配(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_ASSIGN_ARGS = re.compile(r"^(?P<customer>\S+?)\s*给\s*(?P<assignee>\S+)$")
_TAKE_BACK = re.compile(r"^收回[\s:\uff1a]+(?P<rest>.*)$|^收回$")
REPORT_WORDS = {
    "漏斗": "funnel", "销售漏斗": "funnel",
    "回款": "collection", "回款趋势": "collection",
    "排行": "leaderboard", "排行榜": "leaderboard", "销售排行": "leaderboard",
    "周报": "weekly",
    "KPI": "kpi", "指标": "kpi", "关键指标": "kpi",
    "对账": "reconciliation", "对账单": "reconciliation", "对账报表": "reconciliation",
}
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
_CHOICE = re.compile(r"^[(\uff08]?(?P<n>\d{1,2})[)\uff09]?$")
_YES = re.compile(r"^(是|是的|对|确认|确定|好|好的|新建|创建|ok|OK|yes)$")
_CANCEL = re.compile(r"^(取消|不用了|不要|否|不是|算了|放弃|no)$", re.IGNORECASE)

CREATE_USAGE = "用法:新建客户 公司全称 [区域 苏州] [行业 建材贸易],例如「新建客户 嘉善恒昌建材有限公司 区域 嘉兴」"
LOOKUP_USAGE = "用法:查客户 名称或简称,例如「查客户 恒达」"
MOVE_USAGE = "用法:推进 客户 阶段,例如「推进 恒达 方案报价」。阶段:" + "、".join(STAGE_LABELS.values())
POOL_USAGE = "用法:公海 [区域 苏州] [行业 混凝土],例如「公海 区域 苏州」"
CLAIM_USAGE = "用法:领取 客户名称或简称,例如「领取 恒达」"
ASSIGN_USAGE = "用法:分配 客户 给 姓名,例如「分配 恒达 给 张伟」"
TAKE_BACK_USAGE = "用法:收回 客户 [原因],例如「收回 恒达 长期未跟进」"
QUOTE_USAGE = "用法:给客户报价 产品 数量单位 单价,例如「给恒达报价 P.O42.5 500吨 单价318」;按商机里的产品报价:「报价 恒达」"
DISCOUNT_USAGE = "用法:申请折扣 客户 降价幅度 原因 理由,例如「申请折扣 恒达 每吨降15元 原因 竞品海螺报价更低」。幅度也可以写「降到303元」「降3%」「9.5折」"
CONTRACT_USAGE = "用法:客户合同 金额 提交审批,例如「恒达合同 68万 提交审批」;按报价单签:「合同 BJ-2026-0001 提交审批」"
CORRECT_USAGE = "用法:改 字段 新值,例如「改 金额 90万」「改 客户 宏远」「改 跟进 下周三」。可改:金额、客户、跟进、拜访日期、阶段、回款"


def parse_stage(text: str) -> Stage | None:
    """Return the stage a label or its short form (报价, 合同) names."""
    return _STAGE_BY_TEXT.get(text.strip())


def _parse_create(rest: str) -> Command:
    parts = rest.split()
    if not parts:
        return Malformed(CREATE_USAGE)
    name, region, industry = parts[0], None, None
    options = dict(zip(parts[1::2], parts[2::2]))
    region = options.get("区域") or options.get("地区")
    industry = options.get("行业")
    return CreateCustomer(name=name, region=region, industry=industry)


def _parse_move(rest: str) -> Command:
    # 确认 must stand apart: 需求确认 is a stage name that ends with the same word.
    confirmed = bool(_CONFIRMED.search(rest))
    if confirmed:
        rest = _CONFIRMED.sub("", rest)
    for text in sorted(_STAGE_BY_TEXT, key=len, reverse=True):
        if rest.endswith(text):
            customer = rest[: -len(text)].strip(" 到至为:\uff1a,\uff0c")
            if customer:
                return MoveStage(customer_query=customer, stage=_STAGE_BY_TEXT[text], confirmed=confirmed)
    return Malformed(MOVE_USAGE)


def _parse_correct(rest: str) -> Command:
    for word in sorted(CORRECTABLE_FIELDS, key=len, reverse=True):
        if rest.startswith(word):
            value = rest[len(word):].strip(" :\uff1a为成")
            if value:
                return Correct(field=CORRECTABLE_FIELDS[word], value=value)
    return Malformed(CORRECT_USAGE)


def _parse_pool(rest: str) -> Command:
    parts = rest.split()
    if len(parts) % 2:
        return Malformed(POOL_USAGE)
    options = dict(zip(parts[0::2], parts[1::2]))
    region = options.pop("区域", None) or options.pop("地区", None)
    industry = options.pop("行业", None)
    if options:
        return Malformed(POOL_USAGE)
    return ListPool(region=region, industry=industry)


def _parse_assign(rest: str) -> Command:
    match = _ASSIGN_ARGS.match(rest)
    if match is None:
        return Malformed(ASSIGN_USAGE)
    return AssignCustomer(query=match["customer"], assignee=match["assignee"])


def _parse_take_back(rest: str) -> Command:
    parts = rest.split(maxsplit=1)
    if not parts:
        return Malformed(TAKE_BACK_USAGE)
    reason = parts[1].strip() if len(parts) > 1 else None
    return TakeBackCustomer(query=parts[0], reason=reason)


def _decimal(text: str) -> Decimal | None:
    number = parse_number(text.strip().removesuffix("元").removesuffix("块"))
    return None if number is None or number <= 0 else Decimal(str(round(number, 2)))


def _parse_quote_items(rest: str) -> tuple[QuoteItem, ...] | None:
    """Return the items written after the customer, or None when they do not read as items."""
    items = []
    for part in _QUOTE_ITEM_SEPARATORS.split(rest.strip()):
        if not part.strip():
            continue
        match = _QUOTE_ITEM.match(part.strip())
        if match is None:
            return None
        quantity = _decimal(match["quantity"])
        price = _decimal(match["price"]) if match["price"] else None
        if quantity is None or (match["price"] and price is None):
            return None
        items.append(QuoteItem(product=match["product"], quantity=quantity, unit=match["unit"], unit_price=price))
    return tuple(items)


def _parse_discount(rest: str) -> Command:
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


def _parse_submit(body: str) -> Command | None:
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
        amount = _decimal(rest[0].removeprefix("金额"))
        if amount is None:
            return Malformed(CONTRACT_USAGE)
    if re.fullmatch(_DOCUMENT, target, re.IGNORECASE):
        target = target.upper()
    return SubmitContract(target=target, amount=amount)


def _parse_approval_command(text: str) -> Command | None:
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
            amount = _decimal(match["amount"])
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


def parse_command(text: str) -> Command | None:
    """Return the command the text is, or None when it is a visit note."""
    text = text.strip()
    if _HELP.match(text):
        return Help()
    if match := _CHOICE.match(text):
        return Answer(choice=int(match["n"]))
    if _YES.match(text):
        return Answer(yes=True)
    if _CANCEL.match(text):
        return Answer(cancel=True)
    if _UNDO.match(text):
        return Undo()
    if _MINE.match(text):
        return MyOpportunities()
    if _TASKS.match(text):
        return MyTasks()
    if _TEAM_DAILY.match(text):
        return TeamDaily()
    if report := REPORT_WORDS.get(text.upper()):
        return ShowReport(report)
    if match := _CREATE.match(text):
        return _parse_create(match["rest"].strip())
    if match := _LOOKUP.match(text):
        rest = match["rest"].strip()
        return LookupCustomer(rest) if rest else Malformed(LOOKUP_USAGE)
    if (command := parse_service_command(text)) is not None:
        return command
    if (command := _parse_approval_command(text)) is not None:
        return command
    # Short command words only count at the start of a short message; a long text starting
    # with 改 (改天去拜访…) is a note.
    if len(text) <= 40:
        if match := _POOL.match(text):
            return _parse_pool(match["rest"].strip())
        if (match := _CLAIM.match(text)) and (match["sep"] or _CLAIM_GLUED.match(match["rest"]) or not match["rest"]):
            rest = match["rest"].strip()
            return ClaimCustomer(rest) if rest else Malformed(CLAIM_USAGE)
        if match := _ASSIGN.match(text):
            command = _parse_assign(match["rest"].strip())
            if isinstance(command, AssignCustomer) or match["sep"] or not match["rest"]:
                return command
        if match := _TAKE_BACK.match(text):
            return _parse_take_back((match["rest"] or "").strip())
        if match := _MOVE.match(text):
            return _parse_move(match["rest"].strip())
        if match := _CORRECT.match(text):
            command = _parse_correct(match["rest"].strip())
            # 改天去拜访… is a note; only a separator after 改 makes a malformed correction.
            if isinstance(command, Correct) or match["sep"] or not match["rest"]:
                return command
    return None


# -- customer service: binding WeChat customers and recording shipments ----------------------


@dataclass(frozen=True)
class BindExternalUser:
    """Bind a WeChat customer (`external_userid`) to a contact of a customer."""

    customer_query: str
    contact_name: str
    external_userid: str


@dataclass(frozen=True)
class CreateBindingCode:
    """Issue a one-time code the contact sends in WeChat customer service to bind themselves."""

    customer_query: str
    contact_name: str


@dataclass(frozen=True)
class RecordShipment:
    """A batch delivered against a contract, as a rep or the warehouse reports it."""

    customer_query: str
    contract_number: str
    batch_no: int
    quantity: Decimal
    unit: str
    vehicle_plate: str | None = None
    waybill_no: str | None = None


BIND_USAGE = "用法:绑定客户 客户 联系人 external_userid,例如「绑定客户 恒达 王经理 wmAbCdEf123」"
BINDING_CODE_USAGE = "用法:生成绑定码 客户 联系人,例如「生成绑定码 恒达 王经理」"
SHIPMENT_USAGE = (
    "用法:客户 合同编号 第几批 数量单位 已发车 [车牌] [运单 单号],"
    "例如「恒达 HT-2026-0012 第二批 35吨 已发车 苏E12345」"
)

_BIND = re.compile(r"^绑定客户(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_BIND_ARGS = re.compile(r"^(?P<customer>\S+)\s+(?P<contact>\S+)\s+(?P<external>w[mo][0-9A-Za-z_-]{4,62})$")
_BINDING_CODE = re.compile(r"^生成绑定码(?P<sep>[\s:\uff1a]*)(?P<rest>.*)$")
_BINDING_CODE_ARGS = re.compile(r"^(?P<customer>\S+)\s+(?P<contact>\S+)$")
_SHIPMENT = re.compile(
    r"^(?:发货[\s:\uff1a]+)?(?P<customer>\S+?)\s*(?P<number>HT-\d{4}-\d{4,})\s*"
    r"第(?P<batch>\d{1,3}|[一二两三四五六七八九十]{1,3})批\s*"
    r"(?P<quantity>\d+(?:\.\d+)?)\s*(?P<unit>吨|t|方|立方米?|m3|张|卷|平方米?|平米|㎡|块|包|袋)\s*"
    r"(?:已发车|已发货|已出库|发车了|发货了)"
    r"(?:[\s,\uff0c]+(?:车牌号?[\s:\uff1a]*)?(?P<plate>[\u4e00-\u9fff][A-Za-z][A-Za-z0-9]{5,6}))?"
    r"(?:[\s,\uff0c]+(?:运单号?|物流单号|单号)[\s:\uff1a]*(?P<waybill>[A-Za-z0-9-]{4,40}))?$",
    re.IGNORECASE,
)
_SHIPMENT_HINT = re.compile(r"HT-\d{4}-\d{4,}.*第\S{1,3}批.*(?:已发车|已发货|已出库)", re.IGNORECASE)
_UNIT_NAMES = {"t": "吨", "立方": "方", "立方米": "方", "m3": "方", "平方": "平方米", "平米": "平方米", "㎡": "平方米"}


def _parse_shipment(text: str) -> Command | None:
    match = _SHIPMENT.match(text)
    if match is None:
        # A text with a contract number, a batch and 已发车 that does not parse is a mistyped record.
        return Malformed(SHIPMENT_USAGE) if _SHIPMENT_HINT.search(text) and len(text) <= 80 else None
    batch = parse_number(match["batch"])
    if batch is None or batch < 1:
        return Malformed(SHIPMENT_USAGE)
    unit = match["unit"].lower()
    return RecordShipment(
        customer_query=match["customer"], contract_number=match["number"].upper(), batch_no=int(batch),
        quantity=Decimal(match["quantity"]), unit=_UNIT_NAMES.get(unit, unit),
        vehicle_plate=match["plate"].upper() if match["plate"] else None, waybill_no=match["waybill"],
    )


@dataclass(frozen=True)
class CloseServiceRequest:
    number: str
    note: str | None = None


_CLOSE_REQUEST = re.compile(
    r"^(?:已处理|处理完|关闭|结案)[\s:\uff1a]*(?P<number>FW-\d{4}-\d{4,})(?:[\s:\uff1a,\uff0c]+(?P<note>.+))?$",
    re.IGNORECASE | re.DOTALL,
)

ServiceCommand = BindExternalUser | CreateBindingCode | RecordShipment | CloseServiceRequest


def parse_service_command(text: str) -> ServiceCommand | Malformed | None:
    """Return a binding, shipment or service-request command, or None."""
    if match := _CLOSE_REQUEST.match(text):
        note = match["note"].strip() if match["note"] else None
        return CloseServiceRequest(match["number"].upper(), note)
    if match := _BIND.match(text):
        if not (match["sep"] or not match["rest"]):
            return None
        args = _BIND_ARGS.match(match["rest"].strip())
        return BindExternalUser(args["customer"], args["contact"], args["external"]) if args else Malformed(BIND_USAGE)
    if match := _BINDING_CODE.match(text):
        args = _BINDING_CODE_ARGS.match(match["rest"].strip())
        return CreateBindingCode(args["customer"], args["contact"]) if args else Malformed(BINDING_CODE_USAGE)
    return _parse_shipment(text)
