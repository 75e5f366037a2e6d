"""Creating and looking up customers by command."""

import logging

from sqlalchemy import select

from handlers.access import can_see_customer
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.outcome import Outcome
from handlers.wording import customers as wording
from models.activity import Activity
from models.crm import Customer
from models.pipeline import Opportunity, OpportunityStatus

log = logging.getLogger(__name__)

MIN_NAME_LENGTH = 4


def find_customers(ctx: Context, query: str) -> list[Customer]:
    """Return customers whose name or alias equals the query, else those that contain it."""
    query = query.strip()
    customers = list(ctx.session.scalars(select(Customer).order_by(Customer.id)).unique())
    exact = [c for c in customers if c.name == query or query in (c.aliases or [])]
    if exact:
        return exact
    return [c for c in customers if query in c.name or any(query in alias for alias in c.aliases or [])]


def create_customer(ctx: Context, name: str, region: str | None, industry: str | None) -> Outcome:
    if len(name) < MIN_NAME_LENGTH:
        raise DomainError(wording.NAME_TOO_SHORT.format(name=name))
    existing = find_customers(ctx, name)
    same = [c for c in existing if c.name == name or name in (c.aliases or [])]
    if same:
        raise DomainError(wording.already_exists(same[0]))

    batch = ChangeBatch(ctx.session, ctx.actor.id, "create_customer", ctx.source_message_id)
    customer = Customer(name=name, region=region, industry=industry, owner_id=ctx.actor.id, aliases=[], created_at=ctx.now)
    ctx.session.add(customer)
    batch.created(customer)
    batch.finish()
    log.info("customer created: customer_id=%d actor=%d", customer.id, ctx.actor.id)
    return Outcome.text(wording.created(customer))


def lookup_customer(ctx: Context, query: str) -> Outcome:
    matches = [c for c in find_customers(ctx, query) if can_see_customer(ctx.actor, c)]
    if not matches:
        return Outcome.text(wording.NOT_FOUND.format(query=query))
    if len(matches) > 1:
        return Outcome.text(wording.several(query, matches))
    customer = matches[0]
    opportunities = ctx.session.scalars(
        select(Opportunity)
        .where(Opportunity.customer_id == customer.id)
        .order_by(Opportunity.status != OpportunityStatus.OPEN, Opportunity.updated_at.desc())
        .limit(3)
    ).unique().all()
    activities = ctx.session.scalars(
        select(Activity).where(Activity.customer_id == customer.id).order_by(Activity.created_at.desc()).limit(3)
    ).unique().all()
    return Outcome.text(wording.card(customer, opportunities, activities, ctx.today))
