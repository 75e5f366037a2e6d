"""Stage time limits: find open opportunities past their stage's limit, remind their owners
once a working day, and escalate to the owner's manager when reminders did not help.

Every step is one set-based statement over all opportunities; Python only formats the
messages. `stage_alerts` records each overdue stay in a stage with the time of its first
reminder, which starts the escalation clock.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, false, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Subquery

from handlers.context import SHANGHAI
from handlers.outcome import Notification, Text
from handlers.wording import stage_limits as wording
from handlers.wording.format import local_day
from models.base import UTCDateTime
from models.crm import Customer
from models.discipline import StageAlert
from models.messages import queued_keys
from models.org import User
from models.pipeline import Opportunity, OpportunityStatus
from models.rules import PipelineRules
from models.stages import Stage

log = logging.getLogger(__name__)

MAX_LISTED = wording.MAX_LISTED


@dataclass(frozen=True)
class OverdueItem:
    """One overdue opportunity as a message lists it."""

    opportunity_id: int
    customer: str
    title: str
    stage: Stage
    entered_on: date
    due_on: date
    deliverables: tuple[str, ...]


def local_midnight(day: date) -> datetime:
    """Return the start of `day` in Shanghai, where the limits are counted."""
    return datetime.combine(day, time(0), SHANGHAI)


def overdue_condition(rules: PipelineRules, today: date) -> ColumnElement[bool]:
    """SQL: the opportunity is open and its stay in its stage is past the limit on `today`.

    Each stage's limit becomes one cutoff on `stage_entered_at`, because every entry before
    the latest overdue entry day is overdue too.
    """
    clauses = []
    for stage, rule in rules.stages.items():
        latest = rule.latest_overdue_entry(today, rules.calendar)
        if latest is None:
            continue
        cutoff = local_midnight(latest + timedelta(days=1))
        clauses.append(and_(Opportunity.stage == stage.value, Opportunity.stage_entered_at < cutoff))
    if not clauses:
        return false()
    return and_(Opportunity.status == OpportunityStatus.OPEN, or_(*clauses))


def _reachable_owner():
    """SQL: the opportunity's owner is active and not on leave, so a reminder reaches someone."""
    return exists().where(User.id == Opportunity.owner_id, User.active.is_(True), User.on_leave.is_(False))


def _reachable_owner_ids() -> Select:
    return select(User.id).where(User.active.is_(True), User.on_leave.is_(False))


def _same_stay():
    """SQL: the alert's opportunity is still in the stay the alert was raised for."""
    return and_(
        Opportunity.id == StageAlert.opportunity_id,
        Opportunity.stage_entered_at == StageAlert.stage_entered_at,
        Opportunity.status == OpportunityStatus.OPEN,
    )


def _overdue_item(rules: PipelineRules, row) -> OverdueItem:
    stage = Stage(row.stage)
    rule = rules.stages[stage]
    entered_on = local_day(row.stage_entered_at)
    return OverdueItem(
        opportunity_id=row.opportunity_id, customer=row.customer, title=row.title, stage=stage,
        entered_on=entered_on, due_on=rule.due_on(entered_on, rules.calendar), deliverables=rule.deliverables,
    )


def ranked(query: Select, group: str, order_by: list):
    """Return `query` as a subquery with each row's `rank` within its `group` column value, in
    `order_by` order, and the group's `total` row count. Window functions keep this in SQL, so
    a group of thousands of rows costs one sort, not a transfer to Python."""
    subquery = query.subquery()
    column = subquery.c[group]
    return select(
        subquery,
        func.row_number().over(partition_by=column, order_by=[subquery.c[name] for name in order_by]).label("rank"),
        func.count().over(partition_by=column).label("total"),
    ).subquery()


def first_per_group(
    session: Session, query: Select, group: str, order_by: list, limit: int,
    lookups: Callable[[Subquery], list[ColumnElement]] | None = None,
):
    """Return up to `limit` rows of `query` per value of its column `group`, with `rank` and `total`.

    `lookups` builds extra labelled columns from the ranked rows, such as a customer's name.
    They are computed for the returned rows only, one index probe each. A group can contain
    thousands of rows, and PostgreSQL cannot estimate how many the rank filter keeps, so as a
    join it hashed every customer.
    """
    rows = ranked(query, group, order_by)
    extra = lookups(rows) if lookups else []
    listed = select(rows, *extra).where(rows.c.rank <= limit).order_by(rows.c[group], rows.c.rank)
    return session.execute(listed).all()


def name_of(model, id_column: ColumnElement, label: str) -> ColumnElement:
    """Return the `name` of the `model` row whose id is in `id_column`, as a labelled scalar subquery."""
    return select(model.name).where(model.id == id_column).scalar_subquery().label(label)


def overdue_by_owner(session: Session, rules: PipelineRules, today: date, owners: Select | None = None, limit: int = MAX_LISTED) -> dict[int, tuple[int, list[OverdueItem]]]:
    """Return each owner's count of overdue opportunities and up to `limit` of them, oldest
    stay first. `owners` is a query of user ids to restrict to; None means every owner."""
    query = select(
        Opportunity.id.label("opportunity_id"), Opportunity.owner_id, Opportunity.stage, Opportunity.stage_entered_at,
        Opportunity.title, Opportunity.customer_id,
    ).where(overdue_condition(rules, today))
    if owners is not None:
        query = query.where(Opportunity.owner_id.in_(owners))
    rows = first_per_group(
        session, query, "owner_id", ["stage_entered_at", "opportunity_id"], limit,
        lambda ranked_rows: [name_of(Customer, ranked_rows.c.customer_id, "customer")],
    )
    result: dict[int, tuple[int, list[OverdueItem]]] = {}
    for row in rows:
        total, items = result.setdefault(row.owner_id, (row.total, []))
        items.append(_overdue_item(rules, row))
    return result


def stage_overdue_sweep(session: Session, rules: PipelineRules, now: datetime) -> list[Notification]:
    """Remind owners of overdue opportunities and escalate old reminders; return the messages.

    Runs on working days only. Each owner gets at most one reminder a day, because its dedup
    key names the day and the owner. Each stay escalates once, because `escalated_at` is then
    set. Owners who are inactive or on leave get no reminder.
    """
    today = local_day(now)
    if not rules.calendar.is_working_day(today):
        log.info("stage overdue sweep skipped: non-working day %s", today)
        return []

    recorded = _record_new_stays(session, rules, now, today)
    escalated = _escalate(session, rules, now, today)
    notifications = _reminder_notifications(session, rules, today)
    log.info(
        "stage overdue sweep: new_stays=%d owners_reminded=%d escalated=%d", recorded, len(notifications), escalated
    )
    if escalated:
        notifications += _escalation_notifications(session, rules, now, today)
    return notifications


def insert_new_rows(session: Session, table, columns: list[str], rows: Select) -> int:
    """Insert the rows of the query `rows`, skipping those that hit a unique key; return the count inserted.

    This uses ON CONFLICT DO NOTHING rather than NOT EXISTS on the target. PostgreSQL plans a
    NOT EXISTS against a freshly emptied table as a nested loop, which rescans the rows this
    very statement inserts. About 140,000 new rows ran for over four minutes before being stopped.
    """
    dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(table).from_select(columns, rows).on_conflict_do_nothing()
    # SQLAlchemy 2 reports rowcount -1 for an INSERT unless asked to keep it.
    return session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def already_queued(session: Session, prefix: str, userids: list[str]) -> set[str]:
    """Return those of `userids` that have a queued message with dedup key `prefix<userid>`."""
    return {key[len(prefix):] for key in queued_keys(session, [f"{prefix}{userid}" for userid in userids])}


def _record_new_stays(session: Session, rules: PipelineRules, now: datetime, today: date) -> int:
    """Record the overdue stays not yet recorded, with `now` as their first reminder."""
    new_stays = select(
        Opportunity.id, Opportunity.stage, Opportunity.stage_entered_at, literal(now, UTCDateTime()),
    ).where(overdue_condition(rules, today), _reachable_owner())
    if session.scalar(select(StageAlert.opportunity_id).limit(1)) is not None:
        # Most overdue stays were recorded on earlier days. Leaving them out halves the time
        # ON CONFLICT takes to reject them. Against an empty table the anti join is skipped,
        # because PostgreSQL would plan it as insert_new_rows describes.
        recorded = exists().where(
            StageAlert.opportunity_id == Opportunity.id, StageAlert.stage_entered_at == Opportunity.stage_entered_at
        )
        new_stays = new_stays.where(~recorded)
    columns = ["opportunity_id", "stage", "stage_entered_at", "first_reminded_at"]
    return insert_new_rows(session, StageAlert, columns, new_stays)


def _escalate(session: Session, rules: PipelineRules, now: datetime, today: date) -> int:
    """Mark the stays whose first reminder is old enough as escalated.

    The escalation goes to the owner's manager, whom the messages look up in the same
    transaction. The outbox row of each message records its recipient.
    """
    latest = rules.stage_limits.latest_escalating_reminder(today, rules.calendar)
    if latest is None:
        return 0
    cutoff = local_midnight(latest + timedelta(days=1))
    # UPDATE … FROM joins the opportunities once for all alerts.
    return session.execute(
        update(StageAlert)
        .where(StageAlert.escalated_at.is_(None), StageAlert.first_reminded_at < cutoff, _same_stay())
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def _alert_rows(session: Session, condition, group: str, limit: int):
    """Return the alerts matching `condition`, up to `limit` per `group` column, with totals.

    Each row carries its opportunity's owner and the owner's `manager_id`, and the customer and
    owner names of the returned rows only: on the day a backlog escalates, 180,000 alerts match.
    """
    query = (
        select(
            StageAlert.opportunity_id, StageAlert.stage, StageAlert.stage_entered_at,
            Opportunity.owner_id, User.manager_id, Opportunity.title, Opportunity.customer_id,
        )
        .join(Opportunity, Opportunity.id == StageAlert.opportunity_id)
        .join(User, User.id == Opportunity.owner_id)
        .where(condition)
    )
    return first_per_group(
        session, query, group, ["owner_id", "stage_entered_at", "opportunity_id"], limit,
        lambda rows: [name_of(Customer, rows.c.customer_id, "customer"), name_of(User, rows.c.owner_id, "owner_name")],
    )


def _reminder_notifications(session: Session, rules: PipelineRules, today: date) -> list[Notification]:
    """Return one message per reachable owner with overdue opportunities, unless sent today."""
    overdue = overdue_by_owner(session, rules, today, _reachable_owner_ids())
    userids = dict(session.execute(select(User.id, User.userid).where(User.id.in_(list(overdue)))).all()) if overdue else {}
    prefix = f"stage-overdue:{today}:"
    sent = already_queued(session, prefix, list(userids.values()))

    notifications = []
    for owner_id, (total, items) in overdue.items():
        userid = userids[owner_id]
        if userid in sent:
            continue
        items = sorted(items, key=lambda item: (item.due_on, item.opportunity_id))
        text = wording.overdue_reminder(items, total, today)
        notifications.append(Notification(userid, Text(text), dedup_key=f"{prefix}{userid}"))
    return notifications


def _escalation_notifications(session: Session, rules: PipelineRules, now: datetime, today: date) -> list[Notification]:
    """Merge this run's escalations into one message per manager, grouped by owner."""
    # Alerts of owners without a manager rank in a group of their own, counted for the log.
    rows = _alert_rows(session, StageAlert.escalated_at == now, "manager_id", MAX_LISTED)
    unrouted = next((row.total for row in rows if row.manager_id is None), 0)
    if unrouted:
        log.warning("stage escalation has no manager: alerts=%d", unrouted)

    by_manager: dict[int, dict[str, list[OverdueItem]]] = defaultdict(lambda: defaultdict(list))
    totals: dict[int, int] = {}
    first_alert: dict[int, int] = {}
    for row in rows:
        if row.manager_id is None:
            continue
        by_manager[row.manager_id][row.owner_name].append(_overdue_item(rules, row))
        totals[row.manager_id] = row.total
        first_alert[row.manager_id] = min(first_alert.get(row.manager_id, row.opportunity_id), row.opportunity_id)

    managers = {u.id: u for u in session.scalars(select(User).where(User.id.in_(by_manager))).unique()}
    notifications = []
    for manager_id, team in by_manager.items():
        manager = managers[manager_id]
        text = wording.escalation(team, totals[manager_id], rules.stage_limits.escalate_after_working_days, today)
        key = f"stage-escalation:{today}:{manager.userid}:{first_alert[manager_id]}"
        notifications.append(Notification(manager.userid, Text(text), dedup_key=key))
    return notifications
