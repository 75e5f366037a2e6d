"""Replies and card rows about contracts."""

from handlers.wording.format import money
from models.stages import Stage

NOT_FOUND = "没有找到合同「{number}」。"
NOT_YOURS = "合同「{number}」的客户不是你负责的,不能操作。"
AMOUNT_MISSING = "请写明合同金额,例如「恒达合同 68万 提交审批」。"
ALREADY_SIGNED = "合同「{number}」已经签订过了,没有改动。"

STATUS_LABELS = {
    "draft": "已撤回", "pending_approval": "正在审批", "approved": "已审批通过、等待签订",
    "rejected": "已被驳回", "signed": "已签订",
}


def _status(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def quote_not_ready(number: str) -> str:
    return f"报价单「{number}」还没有生效,不能据此签合同。"


def already_open(number: str, status: str) -> str:
    return f"这个商机已有合同「{number}」{_status(status)},没有新建合同。"


def card_fields(contract, customer, opportunity) -> list[tuple[str, str]]:
    return [
        ("客户", customer.name), ("合同金额", money(contract.amount)), ("商机", opportunity.title),
        ("当前阶段", Stage(opportunity.stage).label),
    ]


def submitted(contract, customer, approvers: str, created: bool) -> str:
    what = f"合同 {contract.number} 已生成" if created else f"合同 {contract.number} 已重新提交"
    return (
        f"{what}({customer.name},{money(contract.amount)}),已提交{approvers}审批,结果会通知你。\n"
        f"要撤回请发「撤回审批 {contract.number}」。"
    )


def cannot_resubmit(number: str, status: str) -> str:
    return f"合同「{number}」{_status(status)},不能重新提交。只有撤回或被驳回的合同可以重新提交。"


def not_approved(number: str, status: str) -> str:
    return f"合同「{number}」{_status(status)},审批通过后才能登记签订。"


def approved_next(number: str) -> str:
    return f"签好后请发「合同已签 {number}」。"


def signed(contract, opportunity, moved: bool) -> str:
    text = f"✅ 合同 {contract.number} 已登记签订({money(contract.amount)})。"
    if moved:
        text += f"商机「{opportunity.title}」已进入「{Stage.CONTRACTED.label}」阶段。"
    return text
