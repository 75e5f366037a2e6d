"""The pipeline-discipline jobs: stage time limits, rule-driven notifications, daily task
lists (日清日结) and chasing approvals.

Like the pool jobs, each takes the time to act as (`now`) and may run twice. A second run
sends nothing new because of the records in `stage_alerts` and `rule_notices`, the approval
steps' reminder times and the dedup keys of the messages.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.outbox import enqueue_notifications
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.approvals import chase_pending_approvals
from handlers.daily_tasks import DailyTargets, evening_progress, morning_lists
from handlers.stage_limits import stage_overdue_sweep
from handlers.stage_rules import notify_by_rules
from models.approval_rules import load_approval_rules
from models.rules import load_rules
from scheduler.jobs import JobSpec

log = logging.getLogger(__name__)


def is_past(now: datetime, local_time: str, timezone: str) -> bool:
    """Return whether `now` is later than `local_time` (HH:MM) on its own day in `timezone`."""
    hour, minute = (int(part) for part in local_time.split(":"))
    local = now.astimezone(ZoneInfo(timezone))
    return (local.hour, local.minute) > (hour, minute)


def stage_overdue(runtime: Runtime, now: datetime) -> None:
    rules = load_rules(runtime.settings.pipeline_rules_path)
    with runtime.db.session() as session:
        enqueue_notifications(session, stage_overdue_sweep(session, rules, now))
    runtime.outbox_signal.set()


def stage_rules(runtime: Runtime, now: datetime) -> None:
    rules = load_rules(runtime.settings.pipeline_rules_path)
    lookback = timedelta(hours=runtime.settings.stage_rule_lookback_hours)
    with runtime.db.session() as session:
        enqueue_notifications(session, notify_by_rules(session, rules, now, lookback))
    runtime.outbox_signal.set()


def _send_daily(runtime: Runtime, now: datetime, build, latest: str, job: str) -> None:
    """Store the messages `build` returns, unless downtime delayed the run past `latest`."""
    settings = runtime.settings
    if is_past(now, latest, settings.timezone):
        # A morning list that arrives in the afternoon is noise, and tomorrow's comes on time.
        log.warning("%s skipped: run at %s is past %s", job, now.isoformat(), latest)
        return
    rules = load_rules(settings.pipeline_rules_path)
    with runtime.db.session() as session:
        enqueue_notifications(session, build(session, rules, DailyTargets.from_settings(settings), now))
    runtime.outbox_signal.set()


def daily_lists(runtime: Runtime, now: datetime) -> None:
    _send_daily(runtime, now, morning_lists, runtime.settings.daily_list_latest, "morning lists")


def daily_summary(runtime: Runtime, now: datetime) -> None:
    _send_daily(runtime, now, evening_progress, runtime.settings.daily_summary_latest, "evening summary")


def approval_chase(runtime: Runtime, now: datetime) -> None:
    rules = load_approval_rules(runtime.settings.approval_rules_path)
    with runtime.db.session() as session:
        enqueue_notifications(session, chase_pending_approvals(session, now, rules))
    runtime.outbox_signal.set()


def _at(local_time: str) -> dict:
    hour, minute = (int(part) for part in local_time.split(":"))
    return {"hour": hour, "minute": minute}


def pipeline_jobs(settings: Settings) -> tuple[JobSpec, ...]:
    """Return the jobs with their schedules; the daily lists' times come from the settings."""
    return (
        JobSpec("stage_overdue", stage_overdue, {"hour": 9, "minute": 30}, "remind and escalate opportunities past their stage limit"),
        # Every five minutes: an engineer need not hear within the minute, and each run writes
        # its job_runs row, which contends with the workers' writes on SQLite.
        JobSpec("stage_rules", stage_rules, {"minute": "*/5"}, "notify people by the [[notify]] rules on stage changes"),
        JobSpec("daily_lists", daily_lists, _at(settings.daily_list_time), "send reps their morning task lists"),
        JobSpec("daily_summary", daily_summary, _at(settings.daily_summary_time), "send reps their progress and directors the team table"),
        JobSpec("approval_chase", approval_chase, {"hour": "8-20", "minute": 15}, "remind and escalate approvals waiting too long"),
    )
