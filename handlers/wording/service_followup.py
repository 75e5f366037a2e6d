"""Texts about chasing and closing service requests."""

from datetime import datetime

from handlers.wording.format import SHANGHAI

NOT_FOUND = "没有找到服务请求 {number}。请核对编号,例如「已处理 FW-2026-0001」。"
NOT_YOURS = "服务请求 {number} 不是你负责的,只有负责销售或其总监可以关闭。"
ALREADY_CLOSED = "服务请求 {number} 已经是已处理状态,没有改动。"


def _moment(value: datetime) -> str:
    local = value.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def overdue(number: str, customer: str, respond_by: datetime) -> str:
    return (
        f"⏰ 服务请求 {number}({customer})已超过回电时限({_moment(respond_by)}),请尽快联系客户。"
        f"处理完请发「已处理 {number} 处理说明」。"
    )


def escalated(number: str, customer: str, owner: str, respond_by: datetime) -> str:
    return f"⚠️ {owner}负责的服务请求 {number}({customer})应在{_moment(respond_by)}前回电,至今未处理,请跟进。"


def closed(number: str, told_customer: bool) -> str:
    tail = "已通过微信客服告知客户。" if told_customer else "客户没有微信客服会话,请电话告知客户。"
    return f"✅ 服务请求 {number} 已标记为已处理,{tail}"


def customer_notice(number: str, note: str | None) -> str:
    detail = f"处理说明:{note}。" if note else ""
    return f"您的服务请求 {number} 已处理完毕。{detail}如还有问题,请随时告诉我们。"
