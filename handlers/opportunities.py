"""Listing a rep's opportunities and moving one to a stage by command."""

import logging

from sqlalchemy import select

from handlers.access import can_change_deals
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.customers import find_customers
from handlers.deals import open_opportunities, record_stage_change
from handlers.outcome import Outcome
from handlers.wording import opportunities as wording
from models.activity import FollowUpTask
from models.pipeline import Opportunity, OpportunityStatus, StageMoveKind
from models.stages import Stage

log = logging.getLogger(__name__)


def my_opportunities(ctx: Context) -> Outcome:
    query = (
        select(Opportunity)
        .where(Opportunity.owner_id == ctx.actor.id, Opportunity.status == OpportunityStatus.OPEN)
        .order_by(Opportunity.updated_at.desc())
        .limit(20)
    )
    return Outcome.text(wording.listing(list(ctx.session.scalars(query).unique()), ctx.today))


def my_tasks(ctx: Context) -> Outcome:
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.assignee_id == ctx.actor.id, FollowUpTask.done_at.is_(None))
        .order_by(FollowUpTask.due_date)
        .limit(20)
    )
    return Outcome.text(wording.tasks(list(ctx.session.scalars(query).unique()), ctx.today))


def _the_opportunity(ctx: Context, customer_query: str) -> Opportunity:
    customers = find_customers(ctx, customer_query)
    if not customers:
        raise DomainError(wording.CUSTOMER_NOT_FOUND.format(query=customer_query))
    if len(customers) > 1:
        raise DomainError(wording.several_customers(customer_query, customers))
    customer = customers[0]
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(customer=customer.name))
    opportunities = open_opportunities(ctx, customer)
    if not opportunities:
        raise DomainError(wording.NO_OPEN_OPPORTUNITY.format(customer=customer.name))
    # TODO: a customer with several open opportunities gets the latest one; a numbered choice
    # would let the rep pick another.
    return opportunities[0]


def move_stage(ctx: Context, customer_query: str, stage: Stage, confirmed: bool) -> Outcome:
    """Move forward one stage at once; a skip or a move back needs `确认` and is recorded as such."""
    opportunity = _the_opportunity(ctx, customer_query)
    current = Stage(opportunity.stage)
    if stage == current:
        return Outcome.text(wording.ALREADY_THERE.format(title=opportunity.title, stage=stage.label))

    if stage.rank == current.rank + 1:
        kind = StageMoveKind.FORWARD
    else:
        kind = StageMoveKind.SKIP if stage.rank > current.rank else StageMoveKind.BACK
        if not confirmed:
            return Outcome.text(wording.confirm_irregular(opportunity, current, stage, kind, customer_query))

    batch = ChangeBatch(ctx.session, ctx.actor.id, "move_stage", ctx.source_message_id)
    record_stage_change(ctx, batch, opportunity, stage, kind, reason="command")
    batch.finish()
    log.info("stage moved: opportunity_id=%d kind=%s", opportunity.id, kind)
    return Outcome.text(wording.moved(opportunity, current, stage, kind))
