"""The public pool (公海): listing, claiming, assigning and taking back customers, and the
scheduled release of customers their owners stopped following up."""

import logging
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from handlers.access import can_see_customer
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.customers import find_customers
from handlers.outcome import Notification, Outcome, Text
from handlers.wording import pool as wording
from handlers.wording.format import local_day
from models.crm import Customer
from models.org import Role, User
from models.pool import PoolEvent, PoolEventKind
from models.rules import PoolRules

log = logging.getLogger(__name__)

DIRECTORS = (Role.REGIONAL_DIRECTOR, Role.SALES_DIRECTOR)
HOLDER_ROLES = (Role.REP, Role.REGIONAL_DIRECTOR, Role.SALES_DIRECTOR)
POOL_LIST_LIMIT = 20
OWNERSHIP_LOSSES = (PoolEventKind.RELEASE, PoolEventKind.TAKE_BACK)


# -- commands --------------------------------------------------------------------------------


def list_pool(ctx: Context, region: str | None = None, industry: str | None = None) -> Outcome:
    conditions = [Customer.owner_id.is_(None)]
    if region:
        conditions.append(Customer.region.contains(region, autoescape=True))
    if industry:
        conditions.append(Customer.industry.contains(industry, autoescape=True))
    total = ctx.session.scalar(select(func.count()).select_from(Customer).where(*conditions))
    customers = ctx.session.scalars(
        select(Customer)
        .where(*conditions)
        .order_by(Customer.last_follow_up_at.desc().nulls_last(), Customer.id)
        .limit(POOL_LIST_LIMIT)
    ).unique().all()
    return Outcome.text(wording.pool_list(customers, total, region, industry, ctx.today))


def claim(ctx: Context, rules: PoolRules, query: str) -> Outcome:
    """Make a pool customer the acting rep's, within the holding limit and outside the cooldown."""
    if ctx.actor.role != Role.REP:
        raise DomainError(wording.CLAIM_REPS_ONLY, "forbidden")
    matches = _visible_matches(ctx, query)
    in_pool = [c for c in matches if c.owner_id is None]
    if not in_pool:
        if len(matches) == 1 and matches[0].owner_id == ctx.actor.id:
            raise DomainError(wording.ALREADY_YOURS.format(name=matches[0].name), "unchanged")
        raise DomainError(wording.NOT_IN_POOL.format(query=query), "not_found")
    if len(in_pool) > 1:
        raise DomainError(wording.several(query, [c.name for c in in_pool]), "ambiguous")
    customer = in_pool[0]

    _check_holding_limit(ctx.session, rules, ctx.actor, own=True)
    _check_cooldown(ctx, rules, customer)
    _change_owner(ctx, customer, ctx.actor, PoolEventKind.CLAIM, reason=None)

    notifications = []
    if ctx.actor.manager is not None:
        notice = wording.claimed_notice(ctx.actor.name, customer.name)
        notifications.append(Notification(ctx.actor.manager.userid, Text(notice)))
    return Outcome(replies=[Text(wording.claimed(customer.name, rules.release_after_days))], notifications=notifications)


def assign(ctx: Context, rules: PoolRules, query: str, assignee_name: str) -> Outcome:
    """Give a pool customer, or one of the director's team's, to a colleague (directors only)."""
    if ctx.actor.role not in DIRECTORS:
        raise DomainError(wording.DIRECTORS_ONLY.format(action="分配"), "forbidden")
    assignee = _find_colleague(ctx.session, assignee_name)
    if assignee.role not in HOLDER_ROLES:
        raise DomainError(wording.CANNOT_HOLD.format(name=assignee.name, role=Role(assignee.role).label), "invalid")
    if ctx.actor.role == Role.REGIONAL_DIRECTOR and not _in_team(ctx.actor, assignee):
        raise DomainError(wording.NOT_IN_TEAM.format(name=assignee.name), "forbidden")
    customer = _one_visible(ctx, query)
    if customer.owner_id == assignee.id:
        raise DomainError(wording.ALREADY_OWNER.format(customer=customer.name, name=assignee.name), "unchanged")

    _check_holding_limit(ctx.session, rules, assignee, own=assignee.id == ctx.actor.id)
    previous = customer.owner
    _change_owner(ctx, customer, assignee, PoolEventKind.ASSIGN, reason=None)

    notifications = []
    if assignee.id != ctx.actor.id:
        notice = wording.assigned_notice(ctx.actor.name, customer.name, rules.release_after_days)
        notifications.append(Notification(assignee.userid, Text(notice)))
    if previous is not None and previous.id != ctx.actor.id:
        notice = wording.reassigned_notice(ctx.actor.name, customer.name, assignee.name)
        notifications.append(Notification(previous.userid, Text(notice)))
    reply = wording.assigned(customer.name, assignee.name, previous.name if previous else None)
    return Outcome(replies=[Text(reply)], notifications=notifications)


def take_back(ctx: Context, rules: PoolRules, query: str, reason: str | None = None) -> Outcome:
    """Move an owned customer of the director's team to the pool (directors only)."""
    if ctx.actor.role not in DIRECTORS:
        raise DomainError(wording.DIRECTORS_ONLY.format(action="收回"), "forbidden")
    matches = _visible_matches(ctx, query)
    owned = [c for c in matches if c.owner_id is not None]
    if not owned:
        if len(matches) == 1:
            raise DomainError(wording.ALREADY_IN_POOL.format(name=matches[0].name), "unchanged")
        raise DomainError(wording.NOT_FOUND.format(query=query), "not_found")
    if len(owned) > 1:
        raise DomainError(wording.several(query, [c.name for c in owned]), "ambiguous")
    customer = owned[0]

    previous = customer.owner
    _change_owner(ctx, customer, None, PoolEventKind.TAKE_BACK, reason=reason)

    notifications = []
    if previous.id != ctx.actor.id:
        notice = wording.taken_back_notice(ctx.actor.name, customer.name, reason, rules.claim_cooldown_days)
        notifications.append(Notification(previous.userid, Text(notice)))
    return Outcome(replies=[Text(wording.taken_back(customer.name, previous.name))], notifications=notifications)


def _visible_matches(ctx: Context, query: str) -> list[Customer]:
    return [c for c in find_customers(ctx, query) if can_see_customer(ctx.actor, c)]


def _one_visible(ctx: Context, query: str) -> Customer:
    matches = _visible_matches(ctx, query)
    if not matches:
        raise DomainError(wording.NOT_FOUND.format(query=query), "not_found")
    if len(matches) > 1:
        raise DomainError(wording.several(query, [c.name for c in matches]), "ambiguous")
    return matches[0]


def _find_colleague(session: Session, name: str) -> User:
    """Return the active user with this name or WeCom UserID."""
    users = session.scalars(
        select(User).where(or_(User.name == name, User.userid == name), User.active.is_(True)).order_by(User.id)
    ).unique().all()
    if not users:
        raise DomainError(wording.COLLEAGUE_NOT_FOUND.format(name=name), "not_found")
    if len(users) > 1:
        raise DomainError(wording.COLLEAGUE_AMBIGUOUS.format(name=name, example=users[0].userid), "ambiguous")
    return users[0]


def _in_team(director: User, user: User) -> bool:
    """Return whether a regional director may give customers to `user`: themself, their department or reports."""
    if user.id == director.id:
        return True
    same_department = director.department_id is not None and user.department_id == director.department_id
    return same_department or user.manager_id == director.id


def _check_holding_limit(session: Session, rules: PoolRules, user: User, own: bool) -> None:
    count = session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == user.id))
    if count >= rules.holding_limit:
        message = wording.holding_limit(count, rules.holding_limit, None if own else user.name)
        raise DomainError(message, "limit")


def _check_cooldown(ctx: Context, rules: PoolRules, customer: Customer) -> None:
    """Reject a claim of a customer the actor lost (released or taken back) within the cooldown."""
    lost = ctx.session.scalar(
        select(PoolEvent)
        .where(
            PoolEvent.customer_id == customer.id,
            PoolEvent.from_owner_id == ctx.actor.id,
            PoolEvent.kind.in_(OWNERSHIP_LOSSES),
            PoolEvent.at > rules.cooldown_start(ctx.now),
        )
        .order_by(PoolEvent.at.desc())
        .limit(1)
    )
    if lost is None:
        return
    lost_on = local_day(lost.at)
    claimable_on = local_day(lost.at + timedelta(days=rules.claim_cooldown_days))
    raise DomainError(wording.cooldown(customer.name, lost.kind, lost_on, claimable_on, ctx.today), "cooldown")


def _change_owner(ctx: Context, customer: Customer, to_owner: User | None, kind: PoolEventKind, reason: str | None) -> None:
    """Set the owner only while it is still the one read, and record the pool event and the audit row."""
    from_owner_id = customer.owner_id
    batch = ChangeBatch(ctx.session, ctx.actor.id, f"pool_{kind}", ctx.source_message_id)
    batch.updating(customer)
    unchanged_since_read = Customer.owner_id.is_(None) if from_owner_id is None else Customer.owner_id == from_owner_id
    result = ctx.session.execute(
        update(Customer)
        .where(Customer.id == customer.id, unchanged_since_read)
        .values(owner_id=to_owner.id if to_owner else None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError(wording.CHANGED_MEANWHILE.format(name=customer.name), "conflict")
    ctx.session.refresh(customer)
    batch.finish()

    ctx.session.add(
        PoolEvent(
            customer_id=customer.id, from_owner_id=from_owner_id, to_owner_id=to_owner.id if to_owner else None,
            kind=kind, reason=reason, actor_id=ctx.actor.id, at=ctx.now,
        )
    )
    ctx.session.flush()
    log.info(
        "pool owner changed: customer_id=%d kind=%s from=%s to=%s actor=%d",
        customer.id, kind, from_owner_id, to_owner.id if to_owner else None, ctx.actor.id,
    )
