"""The scheduled jobs and their schedules.

Each job takes the time to act as (`now`), so tests move the clock by passing a later time.
A job may run twice: the changes it makes and the dedup keys of its notifications make a
second run send nothing new.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.outbox import enqueue_notifications
from bot.runtime import Runtime
from handlers import service_followup
from handlers.pool_release import release_idle_customers, warn_idle_customers
from models.rules import load_rules


@dataclass(frozen=True)
class JobSpec:
    """A job and its schedule: keyword arguments of APScheduler's CronTrigger, in local time."""

    id: str
    run: Callable[[Runtime, datetime], None]
    cron: dict = field(default_factory=dict)
    description: str = ""


def pool_release(runtime: Runtime, now: datetime) -> None:
    rules = load_rules(runtime.settings.pipeline_rules_path).pool
    with runtime.db.session() as session:
        enqueue_notifications(session, release_idle_customers(session, rules, now))
    runtime.outbox_signal.set()


def pool_warning(runtime: Runtime, now: datetime) -> None:
    rules = load_rules(runtime.settings.pipeline_rules_path).pool
    with runtime.db.session() as session:
        enqueue_notifications(session, warn_idle_customers(session, rules, now))
    runtime.outbox_signal.set()


def service_request_chase(runtime: Runtime, now: datetime) -> None:
    with runtime.db.session() as session:
        enqueue_notifications(session, service_followup.chase_overdue_requests(session, now))
    runtime.outbox_signal.set()


# The release runs before the warning, so that a warning never lists a customer already released.
JOBS: tuple[JobSpec, ...] = (
    JobSpec("pool_release", pool_release, {"hour": 8, "minute": 30}, "release idle customers to the public pool"),
    JobSpec("pool_warning", pool_warning, {"hour": 9, "minute": 0}, "warn owners of customers due for release"),
    JobSpec("service_request_chase", service_request_chase, {"minute": "*/15"},
            "remind owners of service requests past their response deadline"),
)
