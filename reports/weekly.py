"""The weekly report: the funnel, collections, leaderboard and KPIs of one week for one scope."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from reports.figures import CollectionMonth, Funnel, LeaderboardRow, collection_trend, funnel, leaderboard
from reports.kpis import Kpi, kpis
from reports.scope import Period, Scope

COLLECTION_MONTHS = 12


@dataclass(frozen=True)
class WeeklyReport:
    scope: Scope
    period: Period
    funnel: Funnel
    collection: list[CollectionMonth]  # the 12 calendar months ending with the period's month
    leaderboard: list[LeaderboardRow]
    kpis: list[Kpi]


def weekly_report(session: Session, scope: Scope, period: Period) -> WeeklyReport:
    """Query the funnel, the collection trend, the leaderboard and the KPIs of `period`."""
    return WeeklyReport(
        scope=scope,
        period=period,
        funnel=funnel(session, scope, period),
        collection=collection_trend(session, scope, period.last_months(COLLECTION_MONTHS)),
        leaderboard=leaderboard(session, scope, period),
        kpis=kpis(session, scope, period),
    )
