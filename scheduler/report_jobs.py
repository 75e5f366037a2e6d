"""Scheduled report deliveries: the weekly charts to the report groups, and last month's
reconciliation to finance.

Their times come from the settings (WEEKLY_REPORT_DAY, WEEKLY_REPORT_TIME and
RECONCILIATION_TIME, in TIMEZONE). Like every job, each takes the time to act as (`now`), and
the dedup keys of what it stores make a second run send nothing new.
"""

import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.outbox import enqueue_appchat_reply, enqueue_notifications, enqueue_robot_reply
from bot.runtime import Runtime
from bot.settings import Settings
from handlers import report_delivery
from handlers.report_delivery import GroupMessage, ReportTargetsError, load_report_groups
from handlers.report_files import remove_old_report_files
from handlers.reports import default_folder, last_month, last_week, report_settings
from models.rules import load_rules
from scheduler.jobs import JobSpec

log = logging.getLogger(__name__)


def _enqueue_group_message(session, message: GroupMessage) -> None:
    group = message.group
    if group.channel == "appchat":
        chat = {"name": group.title, "owner": group.owner, "members": list(group.members)}
        enqueue_appchat_reply(session, group.chatid, message.reply, dedup_key=message.dedup_key, chat=chat)
    else:
        enqueue_robot_reply(session, group.name, group.webhook_key, message.reply, dedup_key=message.dedup_key)


def weekly_reports(runtime: Runtime, now: datetime, folder: Path | None = None) -> None:
    """Store last week's three charts for every report group in the outbox.

    A group whose viewer is unknown is skipped, and the other groups still get their charts.
    The job then raises, so `zhongshu jobs` shows the run as failed with the group's name.
    """
    settings = runtime.settings
    groups = load_report_groups(settings.report_targets_path, settings.report_robot_keys)
    week = last_week(now.astimezone(ZoneInfo(settings.timezone)).date())
    folder = folder or default_folder()

    errors = []
    for group in groups:
        try:
            with runtime.db.session() as session:
                messages = report_delivery.weekly_charts(session, group, week, folder)
                for message in messages:
                    _enqueue_group_message(session, message)
        except ReportTargetsError as error:
            log.error("weekly charts not queued: group=%s error=%s", group.name, error)
            errors.append(str(error))
            continue
        log.info("weekly charts queued: group=%s week=%s charts=%d", group.name, week.start, len(messages))
    runtime.outbox_signal.set()
    if errors:
        raise ReportTargetsError("; ".join(errors))


def monthly_reconciliation(runtime: Runtime, now: datetime, folder: Path | None = None) -> None:
    """On a working day, store last month's reconciliation workbook for finance, once per month.

    The job runs every day and acts on working days only (the pipeline rules' calendar), so
    the first working day of the month sends the workbook. When that run was missed, the next
    working day of the month sends it, and every later run finds it queued and sends nothing.
    """
    settings = runtime.settings
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    calendar = load_rules(settings.pipeline_rules_path).calendar
    if not calendar.is_working_day(today):
        log.info("reconciliation not sent: %s is not a working day", today)
        return

    month = last_month(today)
    with runtime.db.session() as session:
        notifications = report_delivery.finance_reconciliation(session, month, folder or default_folder())
        enqueue_notifications(session, notifications)
    runtime.outbox_signal.set()
    log.info("reconciliation queued: month=%s messages=%d", report_delivery.month_id(month), len(notifications))


def report_files_cleanup(runtime: Runtime, now: datetime, folder: Path | None = None) -> None:
    """Delete report files older than the retention days that no unsent message needs."""
    retention = timedelta(days=report_settings().report_retention_days)
    with runtime.db.session() as session:
        remove_old_report_files(session, folder or default_folder(), now - retention)


def report_jobs(settings: Settings) -> tuple[JobSpec, ...]:
    """Return the report delivery jobs with the times the settings give."""
    weekly = settings.weekly_report_time
    monthly = settings.reconciliation_time
    return (
        JobSpec(
            "weekly_reports", weekly_reports,
            {"day_of_week": settings.weekly_report_day, "hour": weekly.hour, "minute": weekly.minute},
            "send last week's charts to the report groups",
        ),
        JobSpec(
            "reconciliation", monthly_reconciliation, {"hour": monthly.hour, "minute": monthly.minute},
            "send last month's reconciliation to finance on the first working day",
        ),
        JobSpec("report_files_cleanup", report_files_cleanup, {"hour": 3, "minute": 0}, "delete old chart and workbook files"),
    )
