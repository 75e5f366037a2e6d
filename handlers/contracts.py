"""Contracts by command: submitting one for approval by amount, resubmitting, and signing.

Approval makes a contract ready to sign; signing moves its opportunity forward to 合同签订.
"""

import logging
import re
from decimal import Decimal

from sqlalchemy import select

from handlers import approvals
from handlers.access import can_change_deals
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.outcome import Outcome, Text
from handlers.quotes import (
    QuoteStatus,
    advance_opportunity,
    find_quote,
    next_number,
    one_customer,
    opportunity_for,
)
from handlers.wording import contracts as wording
from models.approval_rules import ApprovalRules
from models.approvals import ApprovalKind, ApprovalRequest
from models.commerce import Contract
from models.crm import Customer
from models.pipeline import Opportunity
from models.stages import Stage

log = logging.getLogger(__name__)

QUOTE_NUMBER = re.compile(r"^BJ-\d{4}-\d{4,}$")


class ContractStatus:
    DRAFT = "draft"  # withdrawn from approval; can be submitted again
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SIGNED = "signed"


RESUBMITTABLE = (ContractStatus.DRAFT, ContractStatus.REJECTED)


def submit_contract(ctx: Context, rules: ApprovalRules, target: str, amount: Decimal | None) -> Outcome:
    """Create a numbered contract for a customer, or from a sent quote, and submit it."""
    batch = ChangeBatch(ctx.session, ctx.actor.id, "contract", ctx.source_message_id)
    quote = None
    if QUOTE_NUMBER.match(target):
        quote = find_quote(ctx, target)
        if quote.status != QuoteStatus.SENT:
            raise DomainError(wording.quote_not_ready(quote.number), "invalid")
        customer = ctx.session.get(Customer, quote.customer_id)
        opportunity = ctx.session.get(Opportunity, quote.opportunity_id)
        amount = amount if amount is not None else quote.total
    else:
        if amount is None:
            raise DomainError(wording.AMOUNT_MISSING, "invalid")
        customer = one_customer(ctx, target)
        opportunity = opportunity_for(ctx, batch, customer, set(), Stage.QUOTING)

    waiting = ctx.session.scalars(
        select(Contract).where(
            Contract.opportunity_id == opportunity.id,
            Contract.status.in_((ContractStatus.PENDING_APPROVAL, ContractStatus.APPROVED)),
        )
    ).first()
    if waiting is not None:
        raise DomainError(wording.already_open(waiting.number, waiting.status), "invalid")

    contract = Contract(
        number=next_number(ctx.session, Contract, "HT", ctx.today.year), customer_id=customer.id,
        opportunity_id=opportunity.id, quote_id=quote.id if quote else None, owner_id=ctx.actor.id,
        amount=amount, status=ContractStatus.DRAFT, created_at=ctx.now,
    )
    ctx.session.add(contract)
    batch.created(contract)
    log.info("contract created: contract_id=%d", contract.id)
    return _submit(ctx, rules, batch, contract, customer, opportunity, created=True)


def _submit(ctx, rules, batch, contract: Contract, customer: Customer, opportunity: Opportunity, created: bool) -> Outcome:
    batch.updating(contract)
    contract.status = ContractStatus.PENDING_APPROVAL
    document = {
        "number": contract.number, "customer": customer.name, "opportunity_id": opportunity.id,
        "quote_id": contract.quote_id, "amount": str(contract.amount),
    }
    request, notifications = approvals.submit(
        ctx, batch, ApprovalKind.CONTRACT, contract.id, contract.number,
        roles=rules.contract_chain(contract.amount), document=document,
        card_fields=wording.card_fields(contract, customer, opportunity),
    )
    batch.finish()
    reply = wording.submitted(contract, customer, approvals.approver_names(request), created)
    return Outcome(replies=[Text(reply)], notifications=notifications)


def _find(ctx: Context, number: str) -> Contract:
    contract = ctx.session.scalars(select(Contract).where(Contract.number == number)).first()
    if contract is None:
        raise DomainError(wording.NOT_FOUND.format(number=number), "not_found")
    customer = ctx.session.get(Customer, contract.customer_id)
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(number=number), "forbidden")
    return contract


def resubmit_contract(ctx: Context, rules: ApprovalRules, number: str, amount: Decimal | None) -> Outcome:
    """Submit again a contract withdrawn from approval or rejected, with a new amount if given."""
    contract = _find(ctx, number)
    if contract.status not in RESUBMITTABLE:
        raise DomainError(wording.cannot_resubmit(contract.number, contract.status), "invalid")
    batch = ChangeBatch(ctx.session, ctx.actor.id, "contract", ctx.source_message_id)
    if amount is not None:
        batch.updating(contract)
        contract.amount = amount
    customer = ctx.session.get(Customer, contract.customer_id)
    opportunity = ctx.session.get(Opportunity, contract.opportunity_id)
    return _submit(ctx, rules, batch, contract, customer, opportunity, created=False)


def sign_contract(ctx: Context, number: str) -> Outcome:
    """Record an approved contract as signed and move its opportunity forward to 合同签订."""
    contract = _find(ctx, number)
    if contract.status == ContractStatus.SIGNED:
        return Outcome.text(wording.ALREADY_SIGNED.format(number=number))
    if contract.status != ContractStatus.APPROVED:
        raise DomainError(wording.not_approved(number, contract.status), "invalid")

    batch = ChangeBatch(ctx.session, ctx.actor.id, "contract_sign", ctx.source_message_id)
    batch.updating(contract)
    contract.status = ContractStatus.SIGNED
    contract.signed_on = ctx.today
    opportunity = ctx.session.get(Opportunity, contract.opportunity_id)
    moved = advance_opportunity(ctx, batch, opportunity, Stage.CONTRACTED, reason="contract signed")
    batch.finish()
    log.info("contract signed: contract_id=%d moved=%s", contract.id, moved)
    return Outcome.text(wording.signed(contract, opportunity, moved))


# -- approval decisions ----------------------------------------------------------------------


def _set_status(status: str):
    def apply(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> None:
        contract = ctx.session.get(Contract, request.subject_id)
        batch.updating(contract)
        contract.status = status

    return apply


def _approved(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> str:
    _set_status(ContractStatus.APPROVED)(ctx, batch, request)
    return wording.approved_next(request.subject_number)


approvals.register_subject(
    ApprovalKind.CONTRACT,
    approvals.SubjectHooks(_approved, _set_status(ContractStatus.REJECTED), _set_status(ContractStatus.DRAFT)),
)
