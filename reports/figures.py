"""The figures managers read: the funnel, collections by month and the leaderboard.

Every figure is one SQL query that aggregates with GROUP BY and CASE; Python only shapes the
few result rows. Amounts are CNY (元) as stored; charts convert them to 万元.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy import ColumnElement, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from models.activity import Activity
from models.commerce import Contract, Payment
from models.crm import Customer
from models.org import Department, Role, User
from models.pipeline import Opportunity, StageChange
from models.stages import STAGE_ORDER, Stage
from reports.scope import Period, Scope, month_starts
from reports.sql import first_of_month, in_days, in_times, month_key, stage_rank, zero_if_null

# NOTE: a contract counts as signed once `signed_on` is set, unless it was cancelled later.
CANCELLED_CONTRACT_STATUSES = ("cancelled",)

FunnelGrouping = Literal["rep", "department"]


# -- funnel ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    stage: Stage
    count: int
    amount: Decimal
    conversion: float | None  # share of the previous stage's count; None for 线索登记 or 0 / 0


@dataclass(frozen=True)
class Funnel:
    """The opportunities created in a period, counted at every stage they reached."""

    label: str  # the group: a rep's name, a department's name, or the scope's label
    stages: tuple[FunnelStage, ...]

    def stage(self, stage: Stage) -> FunnelStage:
        return self.stages[stage.rank]


def _highest_stage_reached(scope: Scope, period: Period):
    """Return (opportunity id, owner id, amount, highest stage rank) for the period's new opportunities.

    The highest rank comes from the stage history and the current stage, so an opportunity
    moved back still counts at the stage it once reached, and a skip counts the stages passed.
    """
    cohort = (
        select(Opportunity.id, Opportunity.owner_id, Opportunity.amount, stage_rank(Opportunity.stage).label("rank"))
        .where(in_times(Opportunity.created_at, period), scope.covers(Opportunity.owner_id))
        .cte("cohort")
    )
    ranks = union_all(
        select(cohort.c.id, cohort.c.rank),
        select(StageChange.opportunity_id, stage_rank(StageChange.to_stage))
        .join(cohort, cohort.c.id == StageChange.opportunity_id),
    ).subquery("ranks")
    highest = select(ranks.c.id, func.max(ranks.c.rank).label("rank")).group_by(ranks.c.id).subquery("highest")
    return (
        select(cohort.c.id, cohort.c.owner_id, cohort.c.amount, highest.c.rank)
        .join(highest, highest.c.id == cohort.c.id)
        .subquery("reached")
    )


def _funnel_columns(reached) -> list[ColumnElement]:
    columns = []
    for stage in STAGE_ORDER:
        at_or_past = reached.c.rank >= stage.rank
        columns.append(func.sum(case((at_or_past, 1), else_=0)).label(f"count_{stage.value}"))
        columns.append(func.sum(case((at_or_past, zero_if_null(reached.c.amount)), else_=0)).label(f"amount_{stage.value}"))
    return columns


def _funnel_from_row(label: str, row) -> Funnel:
    stages = []
    previous_count = None
    for stage in STAGE_ORDER:
        count = int(getattr(row, f"count_{stage.value}") or 0)
        amount = Decimal(getattr(row, f"amount_{stage.value}") or 0)
        conversion = count / previous_count if previous_count else None
        stages.append(FunnelStage(stage=stage, count=count, amount=amount, conversion=conversion))
        previous_count = count
    return Funnel(label=label, stages=tuple(stages))


def funnel(session: Session, scope: Scope, period: Period) -> Funnel:
    """Count the scope's opportunities created in `period` at each stage they reached.

    Count and amount at a stage include every opportunity that reached it or a later stage.
    Conversion at a stage is its count divided by the previous stage's count.
    """
    reached = _highest_stage_reached(scope, period)
    row = session.execute(select(*_funnel_columns(reached))).one()
    return _funnel_from_row(scope.label, row)


def funnel_by(session: Session, scope: Scope, period: Period, by: FunnelGrouping) -> list[Funnel]:
    """Return `funnel` per owner (`rep`) or per owner's department (`department`, the 大区).

    Groups with no opportunity created in the period are left out.
    """
    reached = _highest_stage_reached(scope, period)
    query = select(*_funnel_columns(reached)).select_from(reached).join(User, User.id == reached.c.owner_id)
    if by == "rep":
        query = query.add_columns(User.name.label("label")).group_by(User.id, User.name).order_by(User.id)
    elif by == "department":
        label = func.coalesce(Department.name, "未分配部门").label("label")
        query = (
            query.outerjoin(Department, Department.id == User.department_id)
            .add_columns(label)
            .group_by(Department.id, Department.name)
            .order_by(Department.id)
        )
    else:
        raise ValueError(f"invalid funnel grouping {by!r}; expected 'rep' or 'department'")
    return [_funnel_from_row(row.label, row) for row in session.execute(query)]


# -- collections -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionMonth:
    month: date  # the first day of the month
    planned: Decimal  # payments planned for the month, whether received yet or not
    received: Decimal  # payments received in the month


def payment_owner_id() -> ColumnElement[int]:
    """Return the rep a payment counts for: its contract's owner, else its customer's owner.

    Use it in a query that outer-joins Contract and joins Customer to Payment.
    """
    return func.coalesce(Contract.owner_id, Customer.owner_id)


def _scoped_payments(query, scope: Scope):
    if scope.user_ids is None:
        return query
    return (
        query.outerjoin(Contract, Contract.id == Payment.contract_id)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(scope.covers(payment_owner_id()))
    )


def collection_trend(session: Session, scope: Scope, months: Period) -> list[CollectionMonth]:
    """Sum planned and received payments per calendar month of `months` (whole months only).

    A payment counts as planned in the month of `planned_on` and as received in the month of
    `received_on`, so a payment received late shows in two different months. Months without
    payments are returned with zeros.
    """
    starts = month_starts(months)
    # Each branch sums per month before the union, so only a few rows per month are appended.
    planned_month = month_key(Payment.planned_on)
    planned = _scoped_payments(
        select(planned_month.label("month"), func.sum(Payment.amount).label("planned"), literal(0).label("received"))
        .where(in_days(Payment.planned_on, months))
        .group_by(planned_month),
        scope,
    )
    received_month = month_key(Payment.received_on)
    received = _scoped_payments(
        select(received_month.label("month"), literal(0).label("planned"), func.sum(Payment.amount).label("received"))
        .where(in_days(Payment.received_on, months))
        .group_by(received_month),
        scope,
    )
    both = union_all(planned, received).subquery("payment_months")
    query = (
        select(both.c.month, func.sum(both.c.planned).label("planned"), func.sum(both.c.received).label("received"))
        .group_by(both.c.month)
    )
    totals = {first_of_month(row.month): row for row in session.execute(query)}
    result = []
    for start in starts:
        row = totals.get(start)
        result.append(CollectionMonth(
            month=start,
            planned=Decimal(row.planned) if row else Decimal(0),
            received=Decimal(row.received) if row else Decimal(0),
        ))
    return result


# -- leaderboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderboardRow:
    user_id: int
    name: str
    signed: Decimal  # contract amount signed in the period
    collected: Decimal  # payments received in the period
    activities: int  # follow-ups dated in the period


def signed_contracts(period: Period):
    """Return a query of contracts signed in `period` and not cancelled."""
    return select(Contract).where(
        in_days(Contract.signed_on, period), Contract.status.not_in(CANCELLED_CONTRACT_STATUSES)
    )


def follow_up_authors(period: Period):
    """Return a subquery of one `author_id` row per activity dated in the period, or undated and
    recorded in it.

    The two cases are a UNION ALL, not an OR, so that each reads one index alone (visit date
    and author, or recording time and author of undated activities) without visiting the table.
    """
    dated = select(Activity.author_id).where(in_days(Activity.occurred_on, period))
    undated = select(Activity.author_id).where(Activity.occurred_on.is_(None), in_times(Activity.created_at, period))
    return union_all(dated, undated).subquery("dated_or_recorded")


def leaderboard(session: Session, scope: Scope, period: Period) -> list[LeaderboardRow]:
    """Rank the scope's active reps by contract amount signed, then collections, then follow-ups.

    Follow-ups are activities the rep wrote, dated in the period, or undated and recorded in it.
    Reps with no figures are listed with zeros.
    """
    signed_query = signed_contracts(period).subquery()
    signed = (
        select(signed_query.c.owner_id.label("user_id"), func.sum(signed_query.c.amount).label("total"))
        .group_by(signed_query.c.owner_id)
        .subquery("signed")
    )
    owner = payment_owner_id()
    collected = (
        select(owner.label("user_id"), func.sum(Payment.amount).label("total"))
        .outerjoin(Contract, Contract.id == Payment.contract_id)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(in_days(Payment.received_on, period))
        .group_by(owner)
        .subquery("collected")
    )
    dated_or_recorded = follow_up_authors(period)
    activities = (
        select(dated_or_recorded.c.author_id.label("user_id"), func.count().label("total"))
        .group_by(dated_or_recorded.c.author_id)
        .subquery("follow_ups")
    )

    signed_total = zero_if_null(signed.c.total).label("signed")
    collected_total = zero_if_null(collected.c.total).label("collected")
    activity_total = zero_if_null(activities.c.total).label("activities")
    query = (
        select(User.id, User.name, signed_total, collected_total, activity_total)
        .outerjoin(signed, signed.c.user_id == User.id)
        .outerjoin(collected, collected.c.user_id == User.id)
        .outerjoin(activities, activities.c.user_id == User.id)
        .where(User.role == Role.REP, User.active.is_(True), scope.covers(User.id))
        .order_by(signed_total.desc(), collected_total.desc(), activity_total.desc(), User.id)
    )
    return [
        LeaderboardRow(
            user_id=row.id, name=row.name, signed=Decimal(row.signed), collected=Decimal(row.collected),
            activities=int(row.activities),
        )
        for row in session.execute(query)
    ]
