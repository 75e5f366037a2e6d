"""Approval chains: submitting a document, deciding by card, rejection reasons, withdrawal and
chasing approvers who wait too long.

The engine has no quote or contract logic. Each kind registers `SubjectHooks` that apply
the final decision to its document, so `handlers.quotes` and `handlers.contracts` own their rules.
Card task ids are `apv-<request id>-<step position>`; clicks on them arrive at `handle_click`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers import cards
from handlers.cards import CardClick
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.outcome import Button, Card, CardUpdate, Notification, Outcome, Text
from handlers.wording import approvals as wording
from models.approval_rules import ApprovalRules
from models.approvals import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    StepStatus,
)
from models.org import Role, User

log = logging.getLogger(__name__)

TASK_PREFIX = "apv-"
APPROVE_KEY = "approve"
REJECT_KEY = "reject"
MAX_REASON_LENGTH = 500
CANCEL_WORDS = frozenset({"取消", "不驳回", "算了", "放弃"})


@dataclass(frozen=True)
class SubjectHooks:
    """The callbacks of one document kind for a decided or withdrawn request.

    `approved` returns the sentence the requester reads after the final approval.
    """

    approved: Callable[[Context, ChangeBatch, ApprovalRequest], str]
    rejected: Callable[[Context, ChangeBatch, ApprovalRequest], None]
    withdrawn: Callable[[Context, ChangeBatch, ApprovalRequest], None]


_hooks: dict[str, SubjectHooks] = {}


def register_subject(kind: ApprovalKind, hooks: SubjectHooks) -> None:
    _hooks[kind] = hooks


# -- approvers -------------------------------------------------------------------------------


def _first_with_role(session: Session, role: Role, department_id: int | None = None) -> User | None:
    query = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return session.scalars(query.limit(1)).unique().first()


def _person_for(session: Session, requester: User, role: Role) -> User | None:
    if role == Role.REGIONAL_DIRECTOR:
        manager = requester.manager
        if manager is not None and manager.active and manager.role == Role.REGIONAL_DIRECTOR:
            return manager
        if requester.department_id is not None:
            return _first_with_role(session, role, requester.department_id)
        return None
    return _first_with_role(session, role)


def resolve_approvers(session: Session, requester: User, roles: tuple[Role, ...]) -> list[tuple[Role, User]]:
    """Return (role, person) for each approver role, in order.

    A step that would fall to the requester goes to the sales director, and a person already in
    the chain is not asked twice. Raise DomainError when no active user has a role.
    """
    chain: list[tuple[Role, User]] = []
    for role in roles:
        person = _person_for(session, requester, role)
        if person is not None and person.id == requester.id:
            role, person = Role.SALES_DIRECTOR, _first_with_role(session, Role.SALES_DIRECTOR)
        if person is None or person.id == requester.id:
            raise DomainError(wording.NO_APPROVER.format(role=role.label), "no_approver")
        if all(existing.id != person.id for _, existing in chain):
            chain.append((role, person))
    return chain


# -- submitting ------------------------------------------------------------------------------


def pending_request(session: Session, kinds: tuple[ApprovalKind, ...], subject_id: int) -> ApprovalRequest | None:
    return session.scalars(
        select(ApprovalRequest).where(
            ApprovalRequest.kind.in_(kinds),
            ApprovalRequest.subject_id == subject_id,
            ApprovalRequest.status == ApprovalStatus.PENDING,
        )
    ).first()


def submit(
    ctx: Context, batch: ChangeBatch, kind: ApprovalKind, subject_id: int, number: str, *,
    roles: tuple[Role, ...], document: dict, card_fields: list[tuple[str, str]], reason: str | None = None,
) -> tuple[ApprovalRequest, list[Notification]]:
    """Create a request with one step per approver and send the first approver the card.

    `document` is the snapshot the decision applies; `card_fields` are the card's rows.
    """
    chain = resolve_approvers(ctx.session, ctx.actor, roles)
    request = ApprovalRequest(
        kind=kind, subject_id=subject_id, subject_number=number, requester_id=ctx.actor.id,
        status=ApprovalStatus.PENDING, reason=reason, submitted_at=ctx.now,
        snapshot={"document": document, "card": {"fields": [list(field) for field in card_fields]}},
    )
    ctx.session.add(request)
    batch.created(request)
    for position, (role, person) in enumerate(chain, 1):
        step = ApprovalStep(request_id=request.id, position=position, role=role, approver_id=person.id)
        request.steps.append(step)
        batch.created(step)

    notification = _activate(ctx, batch, request, request.steps[0])
    log.info("approval submitted: request_id=%d kind=%s steps=%d", request.id, kind, len(chain))
    return request, [notification]


def approver_names(request: ApprovalRequest) -> str:
    return "→".join(step.approver.name for step in request.steps)


def _activate(ctx: Context, batch: ChangeBatch, request: ApprovalRequest, step: ApprovalStep) -> Notification:
    batch.updating(step)
    step.status = StepStatus.PENDING
    step.task_id = f"{TASK_PREFIX}{request.id}-{step.position}"
    step.sent_at = ctx.now
    return Notification(step.approver.userid, _card(request, step), dedup_key=f"approval-card:{step.task_id}")


def _card(request: ApprovalRequest, step: ApprovalStep) -> Card:
    fields = [tuple(field) for field in request.snapshot["card"]["fields"]]
    if request.reason:
        fields.append(("申请原因", request.reason))
    earlier = [s for s in request.steps if s.position < step.position]
    return Card(
        title=wording.card_title(request.kind, request.subject_number),
        description=wording.card_description(request.requester.name, step.position, len(request.steps), earlier),
        fields=tuple(fields),
        buttons=(Button(APPROVE_KEY, "同意", 1), Button(REJECT_KEY, "驳回", 2)),
        task_id=step.task_id,
    )


# -- deciding --------------------------------------------------------------------------------


@cards.on_click(TASK_PREFIX)
def handle_click(ctx: Context, click: CardClick) -> Outcome:
    """Apply an approver's tap on an approval card; every other tap changes nothing."""
    step = ctx.session.scalars(select(ApprovalStep).where(ApprovalStep.task_id == click.task_id)).first()
    if step is None:
        return Outcome.text(cards.CARD_GONE)
    if step.approver_id != ctx.actor.id:
        log.info("approval tap by someone else: step_id=%d actor=%d", step.id, ctx.actor.id)
        return Outcome.text(wording.NOT_YOUR_CARD)
    request = step.request
    if step.status != StepStatus.PENDING or request.status != ApprovalStatus.PENDING:
        return Outcome.text(wording.already_handled(request, step))

    if click.key == APPROVE_KEY:
        return _approve(ctx, request, step, click.response_code)
    if click.key == REJECT_KEY:
        return _ask_reason(ctx, step, click.response_code)
    log.warning("approval tap with unknown key: step_id=%d key=%s", step.id, click.key)
    return Outcome.text(cards.CARD_GONE)


def _approve(ctx: Context, request: ApprovalRequest, step: ApprovalStep, response_code: str | None) -> Outcome:
    batch = ChangeBatch(ctx.session, ctx.actor.id, "approval_decide", ctx.source_message_id)
    batch.updating(step)
    step.status = StepStatus.APPROVED
    step.decided_at = ctx.now
    step.reason_requested_at = None
    step.response_code = response_code or step.response_code
    outcome = Outcome(card_updates=[_grey_out(step, "已同意")])
    requester = request.requester.userid
    key = f"approval:{request.id}:{step.position}"

    following = next((s for s in request.steps if s.position > step.position), None)
    if following is not None:
        outcome.notifications.append(_activate(ctx, batch, request, following))
        notice = wording.step_approved_notice(request, step.approver.name, following.approver.name)
        outcome.notifications.append(Notification(requester, Text(notice), dedup_key=f"{key}:approved"))
        outcome.replies.append(Text(wording.approved_reply(request, following.approver.name)))
    else:
        batch.updating(request)
        request.status = ApprovalStatus.APPROVED
        request.decided_at = ctx.now
        result = _hooks[request.kind].approved(ctx, batch, request)
        notice = wording.final_approved_notice(request, step.approver.name, result)
        outcome.notifications.append(Notification(requester, Text(notice), dedup_key=f"{key}:approved"))
        outcome.replies.append(Text(wording.approved_reply(request, None)))
    batch.finish()
    log.info("approval step approved: request_id=%d step=%d final=%s", request.id, step.position, following is None)
    return outcome


def _ask_reason(ctx: Context, step: ApprovalStep, response_code: str | None) -> Outcome:
    """Wait for the approver's next text as the reason; other waiting reasons of theirs lapse."""
    batch = ChangeBatch(ctx.session, ctx.actor.id, "approval_reason_request", ctx.source_message_id)
    for other in _steps_awaiting_reason(ctx.session, ctx.actor.id):
        batch.updating(other)
        other.reason_requested_at = None
    batch.updating(step)
    step.reason_requested_at = ctx.now
    step.response_code = response_code or step.response_code
    batch.finish()
    return Outcome.text(wording.ask_reason(step.request))


def _steps_awaiting_reason(session: Session, approver_id: int) -> list[ApprovalStep]:
    return list(
        session.scalars(
            select(ApprovalStep)
            .where(
                ApprovalStep.approver_id == approver_id,
                ApprovalStep.status == StepStatus.PENDING,
                ApprovalStep.reason_requested_at.is_not(None),
            )
            .order_by(ApprovalStep.reason_requested_at.desc(), ApprovalStep.id.desc())
        )
    )


def take_rejection_reason(ctx: Context, text: str, ttl_seconds: int) -> Outcome | None:
    """Treat the text as the reason for a rejection the sender started, if one waits.

    Return None when no reason is awaited, so the text is handled as usual. A request older than
    `ttl_seconds` lapses and the card stays open.
    """
    waiting = _steps_awaiting_reason(ctx.session, ctx.actor.id)
    if not waiting:
        return None
    step = waiting[0]
    batch = ChangeBatch(ctx.session, ctx.actor.id, "approval_decide", ctx.source_message_id)
    if ctx.now - step.reason_requested_at > timedelta(seconds=ttl_seconds):
        batch.updating(step)
        step.reason_requested_at = None
        batch.finish()
        return None
    if text.strip() in CANCEL_WORDS:
        batch.updating(step)
        step.reason_requested_at = None
        batch.finish()
        return Outcome.text(wording.REJECTION_CANCELLED)
    return _reject(ctx, batch, step, text.strip()[:MAX_REASON_LENGTH])


def _reject(ctx: Context, batch: ChangeBatch, step: ApprovalStep, reason: str) -> Outcome:
    request = step.request
    batch.updating(step)
    step.status = StepStatus.REJECTED
    step.comment = reason
    step.decided_at = ctx.now
    step.reason_requested_at = None
    _cancel_waiting(batch, request)
    batch.updating(request)
    request.status = ApprovalStatus.REJECTED
    request.decided_at = ctx.now
    _hooks[request.kind].rejected(ctx, batch, request)
    batch.finish()

    notice = wording.rejected_notice(request, step.approver.name, reason)
    log.info("approval rejected: request_id=%d step=%d", request.id, step.position)
    return Outcome(
        replies=[Text(wording.rejected_reply(request))],
        notifications=[Notification(request.requester.userid, Text(notice), dedup_key=f"approval:{request.id}:{step.position}:rejected")],
        card_updates=[_grey_out(step, "已驳回")],
    )


def _cancel_waiting(batch: ChangeBatch, request: ApprovalRequest) -> None:
    for step in request.steps:
        if step.status == StepStatus.WAITING:
            batch.updating(step)
            step.status = StepStatus.CANCELLED


def _grey_out(step: ApprovalStep, label: str) -> CardUpdate:
    return CardUpdate(step.task_id, label, step.response_code, (step.approver.userid,))


# -- withdrawing and listing -----------------------------------------------------------------


def withdraw(ctx: Context, number: str) -> Outcome:
    """Withdraw the pending request for a quote or contract number (its requester only)."""
    request = ctx.session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.subject_number == number, ApprovalRequest.status == ApprovalStatus.PENDING)
        .order_by(ApprovalRequest.id.desc())
    ).first()
    if request is None:
        raise DomainError(wording.NOTHING_TO_WITHDRAW.format(number=number), "not_found")
    if request.requester_id != ctx.actor.id:
        raise DomainError(wording.NOT_YOUR_REQUEST.format(number=number, name=request.requester.name), "forbidden")

    batch = ChangeBatch(ctx.session, ctx.actor.id, "approval_withdraw", ctx.source_message_id)
    updates = []
    for step in request.steps:
        if step.status == StepStatus.PENDING:
            updates.append(_grey_out(step, "已撤回"))
        if step.status in (StepStatus.PENDING, StepStatus.WAITING):
            batch.updating(step)
            step.status = StepStatus.CANCELLED
            step.reason_requested_at = None
    batch.updating(request)
    request.status = ApprovalStatus.WITHDRAWN
    request.decided_at = ctx.now
    _hooks[request.kind].withdrawn(ctx, batch, request)
    batch.finish()
    log.info("approval withdrawn: request_id=%d", request.id)
    return Outcome(replies=[Text(wording.withdrawn(request))], card_updates=updates)


def pending_for_approver(ctx: Context) -> Outcome:
    steps = ctx.session.scalars(
        select(ApprovalStep)
        .where(ApprovalStep.approver_id == ctx.actor.id, ApprovalStep.status == StepStatus.PENDING)
        .order_by(ApprovalStep.sent_at, ApprovalStep.id)
        .limit(20)
    ).all()
    return Outcome.text(wording.pending_list(list(steps), ctx.now))


# -- chasing ---------------------------------------------------------------------------------


def chase_pending_approvals(session: Session, now: datetime, rules: ApprovalRules) -> list[Notification]:
    """Remind approvers whose card waited too long, then escalate; each happens once per step.

    Return the notifications to store in the outbox.
    """
    remind_before = now - timedelta(hours=rules.remind_after_hours)
    escalate_before = now - timedelta(hours=rules.escalate_after_hours)
    steps = session.scalars(
        select(ApprovalStep)
        .join(ApprovalRequest)
        .where(
            ApprovalStep.status == StepStatus.PENDING,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalStep.sent_at <= remind_before,
        )
        .order_by(ApprovalStep.id)
    ).all()

    batch = ChangeBatch(session, None, "approval_chase")
    notifications: list[Notification] = []
    for step in steps:
        request = step.request
        key = f"approval-chase:{step.task_id}"
        if step.reminded_at is None:
            batch.updating(step)
            step.reminded_at = now
            text = wording.reminder(request, rules.remind_after_hours)
            notifications.append(Notification(step.approver.userid, Text(text), dedup_key=f"{key}:remind"))
        if step.escalated_at is None and step.sent_at <= escalate_before:
            escalation = _first_with_role(session, rules.escalate_to)
            batch.updating(step)
            step.escalated_at = now
            text = wording.escalation(request, step.approver.name, rules.escalate_after_hours)
            if escalation is not None and escalation.id != step.approver_id:
                notifications.append(Notification(escalation.userid, Text(text), dedup_key=f"{key}:escalate"))
            else:
                log.warning("approval escalation has no recipient: step_id=%d role=%s", step.id, rules.escalate_to)
            notifications.append(Notification(request.requester.userid, Text(text), dedup_key=f"{key}:requester"))
    batch.finish()
    if notifications:
        log.info("approvals chased: steps=%d notifications=%d", len(steps), len(notifications))
    return notifications
