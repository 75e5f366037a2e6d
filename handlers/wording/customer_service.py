"""Replies to customers in WeChat customer service (微信客服), and what reps are told about them.

Customers read 您; reps read 你, as in the rest of the bot.
"""

from datetime import date, datetime

from handlers.wording.format import SHANGHAI, day, money, quantity

# -- customers -------------------------------------------------------------------------------

UNBOUND = (
    "您好,这里是{company}客服。为了保护您的订单信息,查询前需要先确认您的身份:"
    "请向为您服务的销售经理索取 6 位绑定码,然后在这里发送「绑定 123456」。{reach}"
)
REACH_PHONE = "需要人工服务请拨打 {phone}。"
REACH_REP = "也可以直接联系为您服务的销售经理。"
BOUND = "绑定成功!{contact},您好,您已绑定「{customer}」。\n" + "{menu}"
BAD_CODE = "绑定码无效或已过期。请向为您服务的销售经理重新索取,然后发送「绑定 123456」。"
TOO_MANY_LOOKUPS = "查询太频繁了,请 {minutes} 分钟后再试。需要帮助请联系为您服务的销售经理{owner}。"
MENU = (
    "您可以这样问我:\n"
    "· 我的货到哪了 —— 在执行的合同和发货情况\n"
    "· 查一下 HT-2026-0012 —— 某个合同的状态\n"
    "· 付款情况 / 还欠多少 —— 已付款和未付余额\n"
    "· 发一下合同文件 —— 合同电子版\n"
    "· 直接描述问题,例如「上次那批卷材破损了」—— 登记售后服务请求"
)
HELP = "您好,{contact}。" + MENU
CONTRACT_NOT_FOUND = "没有查到合同 {number}。请核对合同编号,或发「我的货到哪了」查看您公司在执行的合同。"
REQUEST_NOT_FOUND = "没有查到服务请求 {number}。请核对编号。"
NO_OPEN_CONTRACTS = "「{customer}」目前没有在执行的合同。如有疑问请联系为您服务的销售{owner}。"
SEVERAL_FILES = "您公司有多份合同,请告诉我要哪一份,例如「发一下 {example} 的合同文件」:\n{numbers}"
FILE_NOT_READY = "合同 {number} 的电子版还没有上传。我已经通知销售{owner},会尽快发给您。"
FILE_CAPTION = "合同 {number} 的电子版如下。"
UNSUPPORTED_TYPE = "抱歉,这类消息我还看不懂,请用文字描述您的问题。" + "\n" + MENU
PROCESSING_FAILED = "抱歉,系统处理您的消息时出错了。您的消息已经记下,请稍后再发一次,或直接联系为您服务的销售经理。"

CONTRACT_STATUS_LABELS = {"approved": "待签订", "signed": "执行中", "completed": "已完成"}
REQUEST_KIND_LABELS = {
    "complaint": "投诉",
    "return": "退货",
    "quality": "质量问题",
    "delivery_change": "送货变更",
}
REQUEST_STATUS_LABELS = {"open": "处理中", "closed": "已处理"}


def moment(value: datetime) -> str:
    """Format a stored (UTC) time as 6月3日(周三) 14:30 in Shanghai time."""
    local = value.astimezone(SHANGHAI)
    return f"{day(local.date())} {local:%H:%M}"


def reach(phone: str | None) -> str:
    return REACH_PHONE.format(phone=phone) if phone else REACH_REP


def owner_suffix(owner_name: str | None) -> str:
    return owner_name or ""


def shipment_line(batch_no: int, amount, unit: str, shipped_on: date | None, plate: str | None, waybill: str | None, today: date) -> str:
    parts = [f"第{batch_no}批 {quantity(amount, unit)}", f"{day(shipped_on, today)}发车" if shipped_on else "待发车"]
    if plate:
        parts.append(f"车牌 {plate}")
    if waybill:
        parts.append(f"运单号 {waybill}")
    return " · " + ",".join(parts)


def contract_heading(number: str, status: str, signed_on: date | None, amount, today: date) -> str:
    label = CONTRACT_STATUS_LABELS.get(status, status)
    signed = f",{day(signed_on, today)}签订" if signed_on else ""
    return f"合同 {number}:{label}{signed},金额 {money(amount)}"


def payment_line(paid, balance, next_planned: tuple[date, object] | None, today: date) -> str:
    line = f"已付款 {money(paid)},未付 {money(balance)}"
    if next_planned is not None:
        planned_on, planned_amount = next_planned
        line += f";下一笔计划 {day(planned_on, today)} {money(planned_amount)}"
    return line


def request_opened(number: str, kind: str, owner_name: str | None, respond_by: datetime) -> str:
    who = f"负责您公司的销售{owner_name}" if owner_name else "我们的客服同事"
    return (
        f"已为您登记{REQUEST_KIND_LABELS[kind]}服务请求 {number}。{who}会在 {moment(respond_by)} 前与您联系。"
        f"\n查询进度请发「{number}」。"
    )


def request_status(number: str, kind: str, status: str, owner_name: str | None, created_at: datetime, respond_by: datetime) -> str:
    lines = [
        f"服务请求 {number}({REQUEST_KIND_LABELS.get(kind, kind)})",
        f"状态:{REQUEST_STATUS_LABELS.get(status, status)}",
        f"登记时间:{moment(created_at)}",
    ]
    if owner_name:
        lines.append(f"负责人:销售{owner_name}")
    if status == "open":
        lines.append(f"承诺联系时间:{moment(respond_by)} 前")
    return "\n".join(lines)


# -- reps ------------------------------------------------------------------------------------

CUSTOMER_NOT_FOUND = "没有找到你负责的客户「{query}」。请写客户全称或简称。"
SEVERAL_CONTACTS = "「{customer}」有多位联系人符合「{name}」:{names}。请写全名。"
NOT_YOURS = "「{customer}」不是你负责的客户,不能为它绑定微信客户。"
CONTRACT_UNKNOWN = "没有找到「{customer}」的合同 {number}。"
CONTRACT_NOT_SIGNED = "合同 {number} 还没有签订(现在是{status}),不能记录发货。"


def bound_by_rep(customer: str, contact: str, external_userid: str, previous: str | None) -> str:
    text = f"✅ 已把微信客户 {external_userid} 绑定为「{customer}」的{contact}。对方现在可以在微信客服查询本公司的合同、发货和付款。"
    if previous:
        text += f"\n(原来绑定的是「{previous}」,已改为新的绑定。)"
    return text


def code_created(code: str, customer: str, contact: str, expires_at: datetime) -> str:
    return (
        f"绑定码 {code}(「{customer}」{contact}),{moment(expires_at)} 前有效,只能用一次。\n"
        f"请把它发给客户,让客户在微信客服里发送「绑定 {code}」。"
    )


def customer_bound_notice(customer: str, contact: str) -> str:
    return f"「{customer}」的{contact}已用绑定码绑定微信客服,可以自助查询订单了。"


def request_notice(number: str, kind: str, customer: str, contact: str | None, description: str, respond_by: datetime) -> str:
    who = f"「{customer}」{contact or ''}"
    return (
        f"🛎 客户服务请求 {number}({REQUEST_KIND_LABELS[kind]})\n"
        f"客户:{who}\n"
        f"内容:{description}\n"
        f"请在 {moment(respond_by)} 前联系客户。"
    )


def file_missing_notice(customer: str, contact: str | None, number: str) -> str:
    return f"「{customer}」{contact or ''}在微信客服要合同 {number} 的电子版,系统里还没有文件,请发给客户。"


def handover_notice(customer: str, contact: str | None, reason: str, reply: str) -> str:
    return (
        f"📮 「{customer}」{contact or ''}在微信客服的消息无法自动回复({reason}),请直接联系客户。\n"
        f"本来要回复的内容:\n{reply}"
    )


HANDOVER_REASONS = {
    "window_expired": "客户最后一条消息已超过 48 小时",
    "count_exhausted": "客户上次发消息后已回复满 5 条",
    "rejected": "企业微信拒绝发送",
}


def shipment_recorded(number: str, batch_no: int, amount, unit: str, plate: str | None, waybill: str | None, updated: bool) -> str:
    details = [f"第{batch_no}批 {quantity(amount, unit)}"]
    if plate:
        details.append(f"车牌 {plate}")
    if waybill:
        details.append(f"运单号 {waybill}")
    verb = "已更新" if updated else "已记录"
    return f"🚚 {verb}发货:合同 {number} " + ",".join(details) + "。客户可以在微信客服查到。"
