"""Key performance indicators, each defined beside its query and compared with the period before.

A measure returns None when it has nothing to measure (no leads, no quotes sent), so a
report can show 暂无数据 instead of a misleading zero.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from models.approvals import ApprovalRequest, ApprovalStep, StepStatus
from models.commerce import Quote
from models.crm import Customer
from models.org import Role, User
from models.pipeline import Opportunity, OpportunityStatus, StageChange, StageMoveKind
from models.service import ExternalBinding, KfMessageLog
from models.stages import Stage
from reports.figures import follow_up_authors, funnel
from reports.scope import Period, Scope
from reports.sql import in_times, seconds_between

Measure = Callable[[Session, Scope, Period], float | None]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str  # Chinese, as shown in reports
    unit: str  # Chinese unit shown after the value: %, 次, 小时
    value: float | None
    previous: float | None  # the same measure over the period before

    @property
    def change(self) -> float | None:
        """Return value minus previous (percentage points for rates), or None when either is missing."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def lead_conversion_rate(session: Session, scope: Scope, period: Period) -> float | None:
    """Percentage of the opportunities created in the period that reached 合同签订 or later.

    Every opportunity starts as a lead (线索登记) in the funnel's sense, so this is the funnel's
    合同签订 count over its 线索登记 count. Leads of a recent period have had less time to convert.
    """
    counts = funnel(session, scope, period)
    created = counts.stage(Stage.LEAD).count
    if created == 0:
        return None
    return 100.0 * counts.stage(Stage.CONTRACTED).count / created


def follow_ups_per_rep_month(session: Session, scope: Scope, period: Period) -> float | None:
    """Activities written by the scope's active reps per rep per month.

    An activity counts in the period of its visit date, or of the day it was recorded when it
    has none. Months are calendar months when the period is whole months, else days / 30.
    """
    reps = select(User.id).where(User.role == Role.REP, User.active.is_(True), scope.covers(User.id))
    rep_count = session.scalar(select(func.count()).select_from(reps.subquery()))
    if not rep_count:
        return None
    follow_ups = follow_up_authors(period)
    activity_count = session.scalar(
        select(func.count()).select_from(follow_ups).where(follow_ups.c.author_id.in_(reps))
    )
    return activity_count / rep_count / period.months


def quote_response_hours(session: Session, scope: Scope, period: Period) -> float | None:
    """Mean hours from a quote's request (`requested_at`) to sending it (`sent_at`).

    Counts the quotes requested in the period that were sent, for opportunities owned in the
    scope. Quotes not sent yet are left out, so a backlog lowers this figure until they go out.
    """
    mean_seconds = session.scalar(
        select(func.avg(seconds_between(Quote.requested_at, Quote.sent_at)))
        .join(Opportunity, Opportunity.id == Quote.opportunity_id)
        .where(in_times(Quote.requested_at, period), Quote.sent_at.is_not(None), scope.covers(Opportunity.owner_id))
    )
    return None if mean_seconds is None else float(mean_seconds) / 3600


def first_response_minutes(session: Session, scope: Scope, period: Period) -> float | None:
    """Mean minutes from a customer's message in WeChat customer service (微信客服) to the first reply.

    Counts the logged customer messages sent in the period that got a reply (`first_response_at`).
    Messages still unanswered or handed over to a rep have no reply time and are left out. A
    message counts for the current owner of the customer its sender is bound to, so only the
    company scope counts messages from WeChat users bound to no customer.
    """
    mean_seconds = session.scalar(
        select(func.avg(seconds_between(KfMessageLog.sent_at, KfMessageLog.first_response_at)))
        .select_from(KfMessageLog)
        .outerjoin(ExternalBinding, ExternalBinding.external_userid == KfMessageLog.external_userid)
        .outerjoin(Customer, Customer.id == ExternalBinding.customer_id)
        .where(
            in_times(KfMessageLog.sent_at, period),
            KfMessageLog.first_response_at.is_not(None),
            scope.covers(Customer.owner_id),
        )
    )
    return None if mean_seconds is None else float(mean_seconds) / 60


def process_compliance_rate(session: Session, scope: Scope, period: Period) -> float | None:
    """Percentage of the period's decided opportunities whose stage history has no skip and no back.

    Decided means closed (won or lost, `closed_at` in the period) or moved into 合同签订 in the
    period. The whole history of each counts, including moves made before the period.
    """
    closed = select(Opportunity.id).where(
        Opportunity.status.in_([OpportunityStatus.WON, OpportunityStatus.LOST]), in_times(Opportunity.closed_at, period)
    )
    contracted = select(StageChange.opportunity_id).where(
        StageChange.to_stage == Stage.CONTRACTED, in_times(StageChange.changed_at, period)
    )
    decided = union(closed, contracted).subquery("decided")
    irregular = case((StageChange.kind.in_([StageMoveKind.SKIP, StageMoveKind.BACK]), 1), else_=0)
    history = (
        select(StageChange.opportunity_id, func.max(irregular).label("irregular"))
        .where(StageChange.opportunity_id.in_(select(decided.c.id)))
        .group_by(StageChange.opportunity_id)
        .subquery("history")
    )
    compliant = or_(history.c.irregular.is_(None), history.c.irregular == 0)
    row = session.execute(
        select(func.count().label("decided"), func.sum(case((compliant, 1), else_=0)).label("compliant"))
        .select_from(Opportunity)
        .join(decided, decided.c.id == Opportunity.id)
        .outerjoin(history, history.c.opportunity_id == Opportunity.id)
        .where(scope.covers(Opportunity.owner_id))
    ).one()
    if not row.decided:
        return None
    return 100.0 * row.compliant / row.decided


def approval_wait_hours(session: Session, scope: Scope, period: Period) -> float | None:
    """Mean hours a cross-department approval step waited: from its card being sent to the decision.

    Counts the steps approved or rejected in the period on requests by the scope's users, where
    the approver's department differs from the requester's (a rep waiting on finance, say).
    """
    requester = aliased(User)
    approver = aliased(User)
    mean_seconds = session.scalar(
        select(func.avg(seconds_between(ApprovalStep.sent_at, ApprovalStep.decided_at)))
        .join(ApprovalRequest, ApprovalRequest.id == ApprovalStep.request_id)
        .join(requester, requester.id == ApprovalRequest.requester_id)
        .join(approver, approver.id == ApprovalStep.approver_id)
        .where(
            ApprovalStep.status.in_([StepStatus.APPROVED, StepStatus.REJECTED]),
            ApprovalStep.sent_at.is_not(None),
            in_times(ApprovalStep.decided_at, period),
            scope.covers(ApprovalRequest.requester_id),
            approver.department_id.is_distinct_from(requester.department_id),
        )
    )
    return None if mean_seconds is None else float(mean_seconds) / 3600


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: str
    unit: str
    measure: Measure


KPI_DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition("lead_conversion", "线索转化率", "%", lead_conversion_rate),
    KpiDefinition("follow_ups", "人均月跟进次数", "次", follow_ups_per_rep_month),
    KpiDefinition("quote_response", "报价响应时长", "小时", quote_response_hours),
    KpiDefinition("first_response", "客户咨询首次响应时长", "分钟", first_response_minutes),
    KpiDefinition("process_compliance", "流程合规率", "%", process_compliance_rate),
    KpiDefinition("approval_wait", "跨部门审批等待时长", "小时", approval_wait_hours),
)


def kpis(session: Session, scope: Scope, period: Period) -> list[Kpi]:
    """Measure every KPI over `period` and over the period before it."""
    before = period.previous()
    return [
        Kpi(
            key=definition.key, label=definition.label, unit=definition.unit,
            value=definition.measure(session, scope, period),
            previous=definition.measure(session, scope, before),
        )
        for definition in KPI_DEFINITIONS
    ]
