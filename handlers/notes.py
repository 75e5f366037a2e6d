"""Recording a visit note: activity, contacts, opportunity, stage, follow-up task, payment.

The bot has already resolved which customers the note is about, asking the rep when a name
matched several customers or none. This module writes the records in one transaction.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import select

from handlers.access import can_change_deals
from handlers.changes import ChangeBatch
from handlers.contacts import upsert_contact
from handlers.context import SHANGHAI, Context
from handlers.deals import (
    DealUpdate, add_competitors, apply_lines, create_opportunity, mark_lost, move_forward_from_note,
    open_opportunities, pick_opportunity, set_amount,
)
from handlers.media import link_earlier_attachments
from handlers.outcome import Outcome
from handlers.wording import notes as wording
from models.activity import Activity, FollowUpTask
from models.commerce import Payment
from models.crm import Customer
from models.stages import Stage

log = logging.getLogger(__name__)

# TODO: the extractor should report whether a payment arrived or is only promised. Until it
# does, these cues decide, so a payment without them is stored as planned.
_RECEIVED_CUES = re.compile(r"已到账|到账了|已经到账|已收到|收到了|已付|已打款|已经打|已回款|回款\d")


@dataclass
class NewCustomer:
    """The rep confirmed that a name the bot did not know is a new customer."""

    name: str


CustomerChoice = int | NewCustomer


@dataclass
class CustomerRecord:
    """The records a note made for one customer, for the reply."""

    customer: Customer
    created: bool
    activity: Activity
    contacts: list = field(default_factory=list)
    deal: DealUpdate | None = None
    deal_blocked: bool = False
    task: FollowUpTask | None = None
    payment: Payment | None = None


def _has_deal_evidence(facts) -> bool:
    return bool(facts.products or facts.amount or facts.stage or facts.competitors or facts.lost)


def _touch_time(ctx: Context, facts) -> datetime | None:
    if facts.visit_date is None or facts.reached is False:
        return None
    if facts.visit_date == ctx.today:
        return ctx.now
    return datetime.combine(facts.visit_date, time(12, 0), SHANGHAI)


def _resolve_customer(ctx: Context, batch: ChangeBatch, choice: CustomerChoice) -> tuple[Customer, bool]:
    if isinstance(choice, NewCustomer):
        existing = ctx.session.scalar(select(Customer).where(Customer.name == choice.name))
        if existing is not None:
            return existing, False
        customer = Customer(name=choice.name, owner_id=ctx.actor.id, aliases=[], created_at=ctx.now)
        ctx.session.add(customer)
        batch.created(customer)
        return customer, True
    return ctx.session.get(Customer, choice), False


def _update_deal(ctx: Context, batch: ChangeBatch, customer: Customer, facts, several: bool) -> DealUpdate | None:
    candidates = open_opportunities(ctx, customer)
    opportunity = pick_opportunity(candidates, {p.name for p in facts.products})
    if opportunity is None and not _has_deal_evidence(facts):
        return None

    created = opportunity is None
    if created:
        title = wording.opportunity_title(customer, facts.products)
        opportunity = create_opportunity(ctx, batch, customer, title, facts.stage or Stage.LEAD)
    update = DealUpdate(opportunity=opportunity, created=created)

    update.lines_changed = apply_lines(ctx, batch, opportunity, facts.products)
    update.amount_changed = set_amount(batch, opportunity, facts.amount)
    add_competitors(batch, opportunity, facts.competitors)
    # A stage is evidence about one deal; with several customers in one note it is not.
    if not created and not several:
        moved = move_forward_from_note(ctx, batch, opportunity, facts.stage)
        if moved:
            update.stage_from, update.stage_to = moved
    if facts.lost:
        mark_lost(ctx, batch, opportunity, facts.lost_reason)
        update.lost = True
    return update


def _upsert_task(ctx: Context, batch: ChangeBatch, customer: Customer | None, record_activity: Activity, facts, opportunity_id):
    if facts.due_date is None:
        return None
    title = facts.next_action or wording.default_task_title(customer)
    query = select(FollowUpTask).where(
        FollowUpTask.assignee_id == ctx.actor.id,
        FollowUpTask.due_date == facts.due_date,
        FollowUpTask.done_at.is_(None),
        FollowUpTask.customer_id == (customer.id if customer else None),
    )
    task = ctx.session.scalar(query)
    if task is not None:
        batch.updating(task)
        task.title = title
        task.activity_id = record_activity.id
        return task
    task = FollowUpTask(
        assignee_id=ctx.actor.id, customer_id=customer.id if customer else None, opportunity_id=opportunity_id,
        activity_id=record_activity.id, title=title, due_date=facts.due_date, created_at=ctx.now,
    )
    ctx.session.add(task)
    batch.created(task)
    return task


def _record_payment(ctx: Context, batch: ChangeBatch, customer: Customer, text: str, facts, activity: Activity):
    if facts.payment_amount is None:
        return None
    received = bool(_RECEIVED_CUES.search(text))
    payment = Payment(
        customer_id=customer.id,
        amount=Decimal(str(round(facts.payment_amount, 2))),
        received_on=(facts.visit_date or ctx.today) if received else None,
        planned_on=None if received else facts.due_date,
        activity_id=activity.id,
        created_at=ctx.now,
    )
    ctx.session.add(payment)
    batch.created(payment)
    return payment


def _record_for_customer(ctx, batch, text, facts, extracted, choice, several) -> CustomerRecord:
    customer, created = _resolve_customer(ctx, batch, choice)
    record = CustomerRecord(customer=customer, created=created, activity=None)  # type: ignore[arg-type]

    for contact in facts.contacts:
        if several and contact.customer_name not in (None, customer.name):
            continue
        record.contacts.append(upsert_contact(ctx, batch, customer, contact.name, contact.title, contact.phone)[0])

    if can_change_deals(ctx.actor, customer) or created:
        record.deal = _update_deal(ctx, batch, customer, facts, several)
    else:
        record.deal_blocked = _has_deal_evidence(facts)

    activity = Activity(
        kind=facts.activity_kind, author_id=ctx.actor.id, customer_id=customer.id,
        opportunity_id=record.deal.opportunity.id if record.deal else None,
        occurred_on=facts.visit_date, raw_text=text, extracted=extracted,
        source_message_id=ctx.source_message_id, reached=facts.reached,
        changed_requirements=bool(record.deal and record.deal.requirements_changed), created_at=ctx.now,
    )
    ctx.session.add(activity)
    batch.created(activity)
    record.activity = activity

    touched_at = _touch_time(ctx, facts)
    if touched_at and (customer.last_follow_up_at is None or touched_at > customer.last_follow_up_at):
        batch.updating(customer)
        customer.last_follow_up_at = touched_at

    opportunity_id = record.deal.opportunity.id if record.deal else None
    record.task = _upsert_task(ctx, batch, customer, activity, facts, opportunity_id)
    record.payment = _record_payment(ctx, batch, customer, text, facts, activity)
    return record


def record_note(ctx: Context, text: str, facts, extracted: dict, choices: list[CustomerChoice]) -> Outcome:
    """Record a note about the chosen customers (or none) and return the summary reply."""
    batch = ChangeBatch(ctx.session, ctx.actor.id, "note", ctx.source_message_id)
    several = len(choices) > 1
    records = [_record_for_customer(ctx, batch, text, facts, extracted, choice, several) for choice in choices]

    unlinked = None
    if not records:
        unlinked = Activity(
            kind=facts.activity_kind, author_id=ctx.actor.id, occurred_on=facts.visit_date, raw_text=text,
            extracted=extracted, source_message_id=ctx.source_message_id, reached=facts.reached, created_at=ctx.now,
        )
        ctx.session.add(unlinked)
        batch.created(unlinked)
        _upsert_task(ctx, batch, None, unlinked, facts, None)

    # Photos sent before the note go with it only when the note is about one customer.
    attached = link_earlier_attachments(ctx, batch, records[0].activity) if len(records) == 1 else 0
    batch.finish()
    log.info("note recorded: actor=%d customers=%d changes=%d", ctx.actor.id, len(records), batch.count)
    return Outcome.text(wording.note_summary(records, facts, ctx.today, unlinked is not None, attached))
