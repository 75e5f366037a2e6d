"""Approval cards, and replies and notices about approval requests."""

from datetime import datetime

from handlers.wording.format import fit_reply
from models.approvals import StepStatus

KIND_LABELS = {"quote": "报价", "discount": "折扣", "contract": "合同"}
STATUS_LABELS = {
    "approved": "已通过", "rejected": "已驳回", "withdrawn": "已撤回", "pending": "审批中",
}
STEP_LABELS = {
    StepStatus.APPROVED: "已同意", StepStatus.REJECTED: "已驳回", StepStatus.CANCELLED: "已取消",
    StepStatus.WAITING: "未轮到", StepStatus.PENDING: "待处理",
}

NO_APPROVER = "找不到{role},这次没有提交审批。请联系销售管理员在系统里设置审批人。"
NOT_YOUR_CARD = "这张审批卡片不是发给你的,你的操作没有生效。"
REJECTION_CANCELLED = "好的,不驳回了。卡片仍然有效,可以重新选择「同意」或「驳回」。"
NOTHING_TO_WITHDRAW = "「{number}」没有审批中的申请,不需要撤回。"
NOT_YOUR_REQUEST = "「{number}」的审批是{name}提交的,只有提交人可以撤回。"


def _kind(request) -> str:
    return KIND_LABELS.get(request.kind, "")


def card_title(kind: str, number: str) -> str:
    return f"{KIND_LABELS.get(kind, '')}审批 {number}"


def card_description(requester: str, position: int, count: int, earlier) -> str:
    text = f"{requester}提交,第 {position}/{count} 步"
    approved = "、".join(step.approver.name for step in earlier)
    return f"{text},{approved}已同意" if approved else text


def already_handled(request, step) -> str:
    if request.status == "withdrawn":
        return f"{_kind(request)}审批「{request.subject_number}」已撤回,不需要处理了。"
    if step.status in (StepStatus.APPROVED, StepStatus.REJECTED):
        return f"你已经{STEP_LABELS[step.status][1:]}过「{request.subject_number}」,这次点击没有改动。"
    return f"{_kind(request)}审批「{request.subject_number}」{STATUS_LABELS.get(request.status, '已处理')},这次点击没有改动。"


def approved_reply(request, next_approver: str | None) -> str:
    text = f"✅ 你已同意{_kind(request)}审批「{request.subject_number}」"
    return f"{text},已转{next_approver}审批。" if next_approver else f"{text},审批通过,已告知{request.requester.name}。"


def step_approved_notice(request, approver: str, next_approver: str) -> str:
    return f"你提交的{_kind(request)}审批「{request.subject_number}」:{approver}已同意,已转{next_approver}审批。"


def final_approved_notice(request, approver: str, result: str) -> str:
    return f"✅ 你提交的{_kind(request)}审批「{request.subject_number}」已通过({approver}最后同意)。{result}"


def ask_reason(request) -> str:
    return (
        f"请直接回复驳回「{request.subject_number}」的原因,我会转告{request.requester.name}。"
        "发「取消」则不驳回。"
    )


def rejected_reply(request) -> str:
    return f"已驳回{_kind(request)}审批「{request.subject_number}」,原因已告知{request.requester.name}。"


def rejected_notice(request, approver: str, reason: str) -> str:
    return (
        f"❌ 你提交的{_kind(request)}审批「{request.subject_number}」被{approver}驳回。\n原因:{reason}\n"
        f"修改后可以发「提交审批 {request.subject_number}」重新提交。"
    )


def withdrawn(request) -> str:
    return (
        f"已撤回{_kind(request)}审批「{request.subject_number}」,审批人的卡片已失效。"
        f"修改后可以发「提交审批 {request.subject_number}」重新提交。"
    )


def _hours_waited(step, now: datetime) -> int:
    return int((now - step.sent_at).total_seconds() // 3600) if step.sent_at else 0


def pending_list(steps, now: datetime) -> str:
    if not steps:
        return "你现在没有待审批的申请。"
    lines = [f"你有 {len(steps)} 个待审批的申请:"]
    for index, step in enumerate(steps, 1):
        request = step.request
        lines.append(
            f"{index}. {_kind(request)} {request.subject_number}({request.requester.name}提交,"
            f"已等 {_hours_waited(step, now)} 小时)"
        )
    lines.append("请在审批卡片上点「同意」或「驳回」。")
    return fit_reply("\n".join(lines))


def reminder(request, hours: int) -> str:
    return (
        f"⏰ 催办:{request.requester.name}提交的{_kind(request)}审批「{request.subject_number}」"
        f"已等你超过 {hours} 小时,请在审批卡片上处理。发「待审批」可以查看全部。"
    )


def escalation(request, approver: str, hours: int) -> str:
    return (
        f"⚠️ {request.requester.name}提交的{_kind(request)}审批「{request.subject_number}」"
        f"已等{approver}超过 {hours} 小时未处理,请协调尽快审批。"
    )
