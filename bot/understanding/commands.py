"""The command grammar: Chinese commands typed in the chat, parsed into typed intents.

Any text that is not a command is a visit note. The commands of quotes, discounts and
contracts are in deal_commands.py, and those of customer service in service_commands.py.
This module re-exports them, so callers import every command from here.
"""

import re
from dataclasses import dataclass

from bot.understanding.command_base import Malformed
from bot.understanding.deal_commands import (  # noqa: F401
    CONTRACT_USAGE, DISCOUNT_USAGE, QUOTE_USAGE, CreateQuote, DealCommand, PendingApprovals, QuoteItem,
    RequestDiscount, Resubmit, SignContract, SubmitContract, WithdrawApproval, parse_deal_command,
)
from bot.understanding.service_commands import (  # noqa: F401
    BIND_USAGE, BINDING_CODE_USAGE, SHIPMENT_USAGE, BindExternalUser, CloseServiceRequest, CreateBindingCode,
    RecordShipment, ServiceCommand, parse_service_command,
)
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
class Answer:
    """A reply to a question the bot asked: a choice number, yes, or cancel."""

    choice: int | None = None
    yes: bool = False
    cancel: bool = False


Command = (
    Help | CreateCustomer | LookupCustomer | MyOpportunities | MyTasks | TeamDaily | MoveStage | Correct | Undo
    | ListPool | ClaimCustomer | AssignCustomer | TakeBackCustomer | DealCommand | ServiceCommand | ShowReport
    | Answer | Malformed
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
    if (command := parse_deal_command(text)) is not None:
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
