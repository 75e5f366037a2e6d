"""Reports on demand: funnel, collection and leaderboard charts, KPIs, the weekly report and the
monthly reconciliation workbook, each for the scope the asking user may see.

Charts and workbooks are written under the reports folder (`REPORTS_DIR`, default
`var/reports` under the working folder) and returned as Image and File replies.
"""

import logging
import time
import uuid
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.context import Context
from handlers.outcome import File, Image, Outcome, Text
from handlers.wording import reports as wording
from reports import charts
from reports.figures import collection_trend, funnel, leaderboard
from reports.kpis import kpis
from reports.reconciliation import write_reconciliation
from reports.scope import Period, Scope, scope_for
from reports.weekly import COLLECTION_MONTHS, weekly_report

log = logging.getLogger(__name__)


class ReportSettings(BaseSettings):
    """The folder for report files and how long they are kept, read from `REPORTS_DIR` and
    `REPORT_RETENTION_DAYS` in the environment or `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    reports_dir: Path = Path("var/reports")
    # Files older than this are deleted once no unsent message names them (handlers.report_files).
    report_retention_days: int = Field(default=30, ge=1)


@lru_cache(maxsize=1)
def report_settings() -> ReportSettings:
    """Return the report settings, read once per process."""
    return ReportSettings()


def default_folder() -> Path:
    """Return the reports folder from the settings."""
    return report_settings().reports_dir


def this_month(today: date) -> Period:
    return Period.month(today.year, today.month)


def last_month(today: date) -> Period:
    return this_month(today).previous()


def last_week(today: date) -> Period:
    """Return the Monday-to-Sunday week before the one that contains `today`."""
    return Period.week_of(today).previous()


def _output_path(folder: Path, ctx: Context, kind: str, suffix: str) -> Path:
    """Return a new file path that no other request uses: kind, user, time and a random part."""
    stamp = ctx.now.strftime("%Y%m%d%H%M%S")
    return folder / f"{kind}-{ctx.actor.userid}-{stamp}-{uuid.uuid4().hex[:8]}{suffix}"


def _scope(ctx: Context) -> Scope:
    return scope_for(ctx.actor)


def funnel_chart(ctx: Context, folder: Path, period: Period | None = None) -> Outcome:
    """Render the funnel of the opportunities created in `period` (default: this month)."""
    period = period or this_month(ctx.today)
    scope = _scope(ctx)
    result = funnel(ctx.session, scope, period)
    path = charts.render_funnel(result, period, _output_path(folder, ctx, "funnel", ".png"))
    return Outcome(replies=[Image(str(path), wording.funnel_caption(result, period))])


def collection_chart(ctx: Context, folder: Path, period: Period | None = None) -> Outcome:
    """Render planned and received payments for the 12 months ending with `period`'s month."""
    months = (period or this_month(ctx.today)).last_months(COLLECTION_MONTHS)
    scope = _scope(ctx)
    result = collection_trend(ctx.session, scope, months)
    path = charts.render_collection(result, scope.label, _output_path(folder, ctx, "collection", ".png"))
    return Outcome(replies=[Image(str(path), wording.collection_caption(result, scope.label))])


def leaderboard_chart(ctx: Context, folder: Path, period: Period | None = None) -> Outcome:
    """Render the reps ranked by signed amount, collections and follow-ups (default: this month)."""
    period = period or this_month(ctx.today)
    scope = _scope(ctx)
    rows = leaderboard(ctx.session, scope, period)
    path = charts.render_leaderboard(rows, scope.label, period, _output_path(folder, ctx, "leaderboard", ".png"))
    return Outcome(replies=[Image(str(path), wording.leaderboard_caption(rows, scope.label, period))])


def kpi_report(ctx: Context, period: Period | None = None) -> Outcome:
    """Report the KPIs of `period` (default: this month) next to the period before."""
    period = period or this_month(ctx.today)
    scope = _scope(ctx)
    return Outcome.text(wording.kpi_text(kpis(ctx.session, scope, period), scope.label, period))


def weekly(ctx: Context, folder: Path, week: Period | None = None) -> Outcome:
    """Build the weekly report (default: last week): three chart images and the KPI text."""
    week = week or last_week(ctx.today)
    scope = _scope(ctx)
    started = time.perf_counter()
    report = weekly_report(ctx.session, scope, week)
    queried = time.perf_counter()

    funnel_path = charts.render_funnel(report.funnel, week, _output_path(folder, ctx, "weekly-funnel", ".png"))
    collection_path = charts.render_collection(
        report.collection, scope.label, _output_path(folder, ctx, "weekly-collection", ".png")
    )
    leaderboard_path = charts.render_leaderboard(
        report.leaderboard, scope.label, week, _output_path(folder, ctx, "weekly-leaderboard", ".png")
    )
    log.info(
        "weekly report for user %s: queries %.0f ms, charts %.0f ms", ctx.actor.id,
        (queried - started) * 1000, (time.perf_counter() - queried) * 1000,
    )
    return Outcome(replies=[
        Image(str(funnel_path), wording.funnel_caption(report.funnel, week)),
        Image(str(collection_path), wording.collection_caption(report.collection, scope.label)),
        Image(str(leaderboard_path), wording.leaderboard_caption(report.leaderboard, scope.label, week)),
        Text(wording.kpi_text(report.kpis, scope.label, week)),
    ])


def reconciliation(ctx: Context, folder: Path, month: Period | None = None) -> Outcome:
    """Write the reconciliation workbook of `month` (default: last month) for the user's scope."""
    month = month or last_month(ctx.today)
    scope = _scope(ctx)
    path = write_reconciliation(ctx.session, scope, month, _output_path(folder, ctx, "reconciliation", ".xlsx"))
    return Outcome(replies=[
        File(str(path), wording.reconciliation_name(scope.label, month)),
        Text(wording.reconciliation_caption(scope.label, month)),
    ])


def show(ctx: Context, kind: str, folder: Path | None = None) -> Outcome:
    """Run the report a chat command names with its default period."""
    folder = folder or default_folder()
    match kind:
        case "funnel":
            return funnel_chart(ctx, folder)
        case "collection":
            return collection_chart(ctx, folder)
        case "leaderboard":
            return leaderboard_chart(ctx, folder)
        case "kpi":
            return kpi_report(ctx)
        case "weekly":
            return weekly(ctx, folder)
        case "reconciliation":
            return reconciliation(ctx, folder)
    raise ValueError(f"unknown report kind {kind!r}")
