"""The scheduled side of the public pool (公海): releasing customers their owners stopped
following up, and warning owners a few days before.

The release is set-based: one statement on PostgreSQL, two on SQLite, whatever the number of
customers. Python only formats one message per former owner and one per director.
"""

import logging
import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, literal, select, tuple_, update
from sqlalchemy.orm import Session

from handlers.outcome import Notification, Text
from handlers.stage_limits import first_per_group, name_of
from handlers.wording import pool as wording
from handlers.wording.format import local_day
from models.base import UTCDateTime
from models.commerce import Contract, Payment
from models.crm import Customer
from models.org import User
from models.pool import PoolEvent, PoolEventKind
from models.rules import PoolRules

log = logging.getLogger(__name__)

OWNERSHIP_STARTS = (PoolEventKind.CLAIM, PoolEventKind.ASSIGN)
EVENT_COLUMNS = ["customer_id", "from_owner_id", "kind", "reason", "batch", "at"]


def last_touch():
    """SQL: when the owner last followed up the customer, else when the customer was created."""
    return func.coalesce(Customer.last_follow_up_at, Customer.created_at)


def idle_before(rules: PoolRules, cutoff: datetime):
    """SQL: the customer is owned, untouched since `cutoff` and not exempt from release.

    A claim or assignment to the current owner since `cutoff` counts as a touch, so a customer
    just claimed from the pool is not released again at once.
    """
    # NOT IN rather than NOT EXISTS: PostgreSQL hashes the few recent claims once. As an anti
    # join it planned a nested loop over pool_events whenever that table was empty at planning
    # time, and the release rescanned the events it was inserting: 29,000 releases took 4.6 s.
    started_since = (
        select(PoolEvent.customer_id, PoolEvent.to_owner_id)
        .where(PoolEvent.kind.in_(OWNERSHIP_STARTS), PoolEvent.at >= cutoff, PoolEvent.to_owner_id.is_not(None))
    )
    conditions = [
        Customer.owner_id.is_not(None), last_touch() < cutoff,
        tuple_(Customer.id, Customer.owner_id).not_in(started_since),
    ]
    if rules.exempt_open_contracts:
        open_contract = exists().where(
            Contract.customer_id == Customer.id, Contract.status.not_in(rules.closed_contract_statuses)
        )
        conditions.append(~open_contract)
    if rules.exempt_payments_due:
        payment_due = exists().where(
            Payment.customer_id == Customer.id, Payment.planned_on.is_not(None), Payment.received_on.is_(None)
        )
        conditions.append(~payment_due)
    return and_(*conditions)


def release_idle_customers(session: Session, rules: PoolRules, now: datetime) -> list[Notification]:
    """Move every idle, non-exempt customer to the pool and record a release event for each.

    Returns one notification per former owner and one per director of a former owner, each
    naming the first few of that person's customers released in this run and counting the rest.
    """
    batch = uuid.uuid4().hex
    idle = select(Customer.id, Customer.owner_id).where(idle_before(rules, rules.release_cutoff(now)))
    values = [
        literal(PoolEventKind.RELEASE.value), literal(f"{rules.release_after_days} 天未跟进"), literal(batch),
        literal(now, UTCDateTime()),
    ]
    if session.get_bind().dialect.name == "postgresql":
        released = _release_at_once(session, idle, values)
    else:
        released = _release_in_two_steps(session, idle, values, batch)
    log.info("pool release: customers=%d batch=%s", released, batch)
    if not released:
        return []
    return _release_notifications(session, rules, now, batch)


def _release_at_once(session: Session, idle, values: list) -> int:
    """Clear the owners and write the events in one PostgreSQL statement with a writing CTE.

    The UPDATE finds the idle customers itself, in table order. Its RETURNING list contains new
    values only, so the former owners come from the same condition read in the statement's
    snapshot. Only customers the UPDATE released get an event, so a customer followed up while
    the release waited for its row lock gets neither.
    """
    before = idle.cte("idle")
    cleared = (
        update(Customer).where(idle.whereclause).values(owner_id=None).returning(Customer.id.label("id")).cte("cleared")
    )
    events = insert(PoolEvent).from_select(
        EVENT_COLUMNS,
        select(cleared.c.id, before.c.owner_id, *values).join(before, before.c.id == cleared.c.id),
    )
    return session.execute(events.execution_options(preserve_rowcount=True)).rowcount


def _release_in_two_steps(session: Session, idle, values: list, batch: str) -> int:
    """Write the events, then clear the owners of the customers this batch released.

    SQLite allows no writing CTE. It has one writer at a time, so nothing changes in between.
    """
    session.execute(insert(PoolEvent).from_select(EVENT_COLUMNS, idle.add_columns(*values)))
    released_ids = select(PoolEvent.customer_id).where(PoolEvent.batch == batch)
    return session.execute(
        update(Customer).where(Customer.id.in_(released_ids)).values(owner_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _released_rows(session: Session, batch: str):
    """Return the batch's first RELEASE_LISTED customers per former owner, with `rank` and `total`.

    The events alone are ranked by customer id. Names and follow-up dates are looked up for the
    returned rows only, because a day's batch can release tens of thousands of customers.
    """
    query = select(PoolEvent.customer_id, PoolEvent.from_owner_id).where(PoolEvent.batch == batch)

    def lookups(rows):
        followed_up = select(Customer.last_follow_up_at).where(Customer.id == rows.c.customer_id).scalar_subquery()
        return [name_of(Customer, rows.c.customer_id, "name"), followed_up.label("last_follow_up_at")]

    return first_per_group(session, query, "from_owner_id", ["customer_id"], wording.RELEASE_LISTED, lookups)


def _people(session: Session, user_ids: list[int]) -> dict:
    """Return the id, WeCom UserID, name and manager of each user, by id, without loading User objects."""
    rows = session.execute(select(User.id, User.userid, User.name, User.manager_id).where(User.id.in_(user_ids)))
    return {row.id: row for row in rows}


def _release_notifications(session: Session, rules: PoolRules, now: datetime, batch: str) -> list[Notification]:
    rows = _released_rows(session, batch)
    by_owner: dict[int, list] = defaultdict(list)
    for row in rows:
        by_owner[row.from_owner_id].append(row)
    owners = _people(session, list(by_owner))
    today = local_day(now)

    notifications = []
    by_director: dict[int, dict[str, tuple[int, list[str]]]] = defaultdict(dict)
    first_customer: dict[int, int] = {}  # director id -> lowest customer id released from the team
    for owner_id, owned in by_owner.items():
        owner, total, first = owners[owner_id], owned[0].total, owned[0].customer_id
        owned.sort(key=lambda row: row.name)
        listed = [(row.name, local_day(row.last_follow_up_at) if row.last_follow_up_at else None) for row in owned]
        text = wording.released_notice(listed, total, rules.release_after_days, rules.claim_cooldown_days, today)
        notifications.append(Notification(owner.userid, Text(text), dedup_key=f"pool-release:{today}:{owner.userid}:{first}"))
        if owner.manager_id is not None:
            by_director[owner.manager_id][owner.name] = (total, [row.name for row in owned[:wording.TEAM_LISTED]])
            first_customer[owner.manager_id] = min(first_customer.get(owner.manager_id, first), first)

    directors = _people(session, list(by_director))
    for director_id, team in by_director.items():
        director = directors[director_id]
        key = f"pool-release:{today}:{director.userid}:{first_customer[director_id]}"
        text = wording.released_team_notice(team, rules.release_after_days)
        notifications.append(Notification(director.userid, Text(text), dedup_key=key))
    return notifications


def warn_idle_customers(session: Session, rules: PoolRules, now: datetime) -> list[Notification]:
    """Warn each owner, once a day, of their customers due to go back to the pool soon."""
    latest_start = (
        select(func.max(PoolEvent.at))
        .where(
            PoolEvent.customer_id == Customer.id,
            PoolEvent.to_owner_id == Customer.owner_id,
            PoolEvent.kind.in_(OWNERSHIP_STARTS),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.owner_id, last_touch().label("touched_at"), latest_start.label("started_at"))
        .where(idle_before(rules, rules.warning_cutoff(now)))
        .order_by(Customer.owner_id, Customer.name)
    ).all()
    today = local_day(now)

    due_by_owner: dict[int, list] = defaultdict(list)
    for row in rows:
        touched_at = max(row.touched_at, row.started_at) if row.started_at else row.touched_at
        release_at = rules.release_time(touched_at)
        if release_at > now:  # an overdue customer is the release job's, not a warning's
            due_by_owner[row.owner_id].append((row.name, local_day(release_at)))

    owners = {u.id: u for u in session.scalars(select(User).where(User.id.in_(due_by_owner))).unique()}
    notifications = []
    for owner_id, due in due_by_owner.items():
        owner = owners[owner_id]
        key = f"pool-warning:{today}:{owner.userid}"
        notifications.append(Notification(owner.userid, Text(wording.warning_notice(due, today)), dedup_key=key))
    log.info("pool warning: customers=%d owners=%d", sum(len(d) for d in due_by_owner.values()), len(notifications))
    return notifications
