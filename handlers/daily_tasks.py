"""Daily task lists (日清日结): each rep's morning list and evening progress, and each
director's team table.

Every figure is one grouped query over all reps, so a thousand reps cost a few queries, not a
few thousand. Reps on leave and non-working days get nothing. Each list is sent once per
person per day: its dedup key names the day and the person, and a run skips the people whose
key is already in the outbox.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from handlers.context import Context, DomainError
from handlers.outcome import Notification, Outcome, Text
from handlers.pool_release import idle_before as pool_idle_before
from handlers.stage_limits import already_queued, first_per_group, overdue_by_owner
from handlers.wording import daily_tasks as wording
from handlers.wording.format import local_day
from models.activity import Activity, FollowUpTask
from models.crm import Customer
from models.org import Department, Role, User
from models.rules import PipelineRules

log = logging.getLogger(__name__)

MAX_LISTED = wording.MAX_LISTED
DIRECTORS = (Role.REGIONAL_DIRECTOR, Role.SALES_DIRECTOR)


@dataclass(frozen=True)
class DailyTargets:
    """A rep's targets for each working day."""

    touches: int = 3  # distinct customers with an activity dated today
    requirement_updates: int = 1  # activities dated today that changed an opportunity's requirements

    @classmethod
    def from_settings(cls, settings) -> "DailyTargets":
        """Read the targets from `bot.settings.Settings` (DAILY_TARGET_TOUCHES, DAILY_TARGET_REQUIREMENT_UPDATES)."""
        return cls(settings.daily_target_touches, settings.daily_target_requirement_updates)


@dataclass
class MorningList:
    tasks: list = field(default_factory=list)
    tasks_total: int = 0
    overdue: list = field(default_factory=list)
    overdue_total: int = 0
    pool_due: list[str] = field(default_factory=list)
    pool_due_total: int = 0


@dataclass
class Progress:
    """One rep's figures for a day."""

    name: str
    department: str | None
    on_leave: bool = False
    touches: int = 0
    requirement_updates: int = 0
    open_tasks: int = 0
    overdue: int = 0

    def met(self, targets: DailyTargets) -> bool:
        return self.touches >= targets.touches and self.requirement_updates >= targets.requirement_updates


def _listed_reps():
    """SQL: ids of the reps who get lists: active and not on leave."""
    return select(User.id).where(User.role == Role.REP, User.active.is_(True), User.on_leave.is_(False))


def _working_day(rules: PipelineRules, today: date, job: str) -> bool:
    if rules.calendar.is_working_day(today):
        return True
    log.info("%s skipped: non-working day %s", job, today)
    return False


# -- morning ---------------------------------------------------------------------------------


def morning_lists(session: Session, rules: PipelineRules, targets: DailyTargets, now: datetime) -> list[Notification]:
    """Return the morning list of every listed rep who has not had today's yet."""
    today = local_day(now)
    if not _working_day(rules, today, "morning lists"):
        return []
    prefix = f"daily-list:{today}:"
    reps = session.execute(_listed_reps().add_columns(User.userid).order_by(User.id)).all()
    sent = already_queued(session, prefix, [rep.userid for rep in reps])
    reps = [rep for rep in reps if rep.userid not in sent]
    if not reps:
        return []

    lists: dict[int, MorningList] = defaultdict(MorningList)
    for row in first_per_group(session, _due_tasks(today), "assignee_id", ["due_date", "id"], MAX_LISTED):
        lists[row.assignee_id].tasks.append(row)
        lists[row.assignee_id].tasks_total = row.total
    for owner_id, (total, items) in overdue_by_owner(session, rules, today, _listed_reps()).items():
        lists[owner_id].overdue, lists[owner_id].overdue_total = items, total
    for row in first_per_group(session, _pool_due(rules, now), "owner_id", ["touched_at", "id"], MAX_LISTED):
        lists[row.owner_id].pool_due.append(row.name)
        lists[row.owner_id].pool_due_total = row.total

    notifications = []
    for rep in reps:
        text = wording.morning_list(lists[rep.id], targets, rules.pool.release_after_days, today)
        notifications.append(Notification(rep.userid, Text(text), dedup_key=f"{prefix}{rep.userid}"))
    log.info("morning lists: reps=%d already_sent=%d", len(notifications), len(sent))
    return notifications


def _due_tasks(today: date):
    """SQL: listed reps' open follow-ups due today or earlier."""
    return (
        select(
            FollowUpTask.id, FollowUpTask.assignee_id, FollowUpTask.title, FollowUpTask.due_date,
            Customer.name.label("customer"),
        )
        .outerjoin(Customer, Customer.id == FollowUpTask.customer_id)
        .where(
            FollowUpTask.assignee_id.in_(_listed_reps()),
            FollowUpTask.done_at.is_(None),
            FollowUpTask.due_date <= today,
        )
    )


def _pool_due(rules: PipelineRules, now: datetime):
    """SQL: listed reps' customers inside the pool's warning window but not yet due for release."""
    touched_at = func.coalesce(Customer.last_follow_up_at, Customer.created_at)
    return select(Customer.id, Customer.name, Customer.owner_id, touched_at.label("touched_at")).where(
        Customer.owner_id.in_(_listed_reps()),
        pool_idle_before(rules.pool, rules.pool.warning_cutoff(now)),
        touched_at >= rules.pool.release_cutoff(now),
    )


# -- evening ---------------------------------------------------------------------------------


def day_progress(session: Session, rules: PipelineRules, today: date, reps) -> dict[int, Progress]:
    """Return the day's figures of the reps that the query `reps` (of user ids) selects."""
    people = session.execute(
        select(User.id, User.name, User.on_leave, Department.name.label("department"))
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.id.in_(reps))
        .order_by(User.id)
    ).all()
    progress = {row.id: Progress(row.name, row.department, row.on_leave) for row in people}

    touched = session.execute(
        select(Activity.author_id, func.count(distinct(Activity.customer_id)), func.count().filter(Activity.changed_requirements))
        .where(Activity.occurred_on == today, Activity.customer_id.is_not(None), Activity.author_id.in_(reps))
        .group_by(Activity.author_id)
    )
    for author_id, touches, updates in touched:
        progress[author_id].touches = touches
        progress[author_id].requirement_updates = updates

    open_tasks = session.execute(
        select(FollowUpTask.assignee_id, func.count())
        .where(FollowUpTask.assignee_id.in_(reps), FollowUpTask.done_at.is_(None), FollowUpTask.due_date <= today)
        .group_by(FollowUpTask.assignee_id)
    )
    for assignee_id, count in open_tasks:
        progress[assignee_id].open_tasks = count
    for owner_id, (total, _items) in overdue_by_owner(session, rules, today, reps, limit=1).items():
        progress[owner_id].overdue = total
    return progress


def evening_progress(session: Session, rules: PipelineRules, targets: DailyTargets, now: datetime) -> list[Notification]:
    """Return each listed rep's progress and each director's team table, once a day each."""
    today = local_day(now)
    if not _working_day(rules, today, "evening progress"):
        return []
    rep_prefix, team_prefix = f"daily-progress:{today}:", f"team-daily:{today}:"
    everyone = select(User.id).where(User.role == Role.REP, User.active.is_(True))
    progress = day_progress(session, rules, today, everyone)
    users = {
        row.id: row for row in session.execute(
            select(User.id, User.userid, User.manager_id).where(User.id.in_(everyone))
        )
    }
    sent = already_queued(session, rep_prefix, [user.userid for user in users.values()])
    notifications = []
    for user_id, figures in progress.items():
        userid = users[user_id].userid
        if figures.on_leave or userid in sent:
            continue
        text = wording.rep_progress(figures, targets, today)
        notifications.append(Notification(userid, Text(text), dedup_key=f"{rep_prefix}{userid}"))

    directors = session.execute(
        select(User.id, User.userid, User.role)
        .where(User.role.in_(DIRECTORS), User.active.is_(True), User.on_leave.is_(False))
        .order_by(User.id)
    ).all()
    sent_tables = already_queued(session, team_prefix, [director.userid for director in directors])
    for director in directors:
        if director.userid in sent_tables:
            continue
        text = _team_text(progress, users, director.id, director.role, targets, today)
        if text is not None:
            notifications.append(Notification(director.userid, Text(text), dedup_key=f"{team_prefix}{director.userid}"))
    log.info("evening progress: messages=%d already_sent=%d", len(notifications), len(sent) + len(sent_tables))
    return notifications


def _team_text(progress: dict[int, Progress], users, director_id: int, role: str, targets: DailyTargets, today: date) -> str | None:
    """Return a regional director's table of their reps, or the sales director's table of departments."""
    if role == Role.SALES_DIRECTOR:
        by_department: dict[str, list[Progress]] = defaultdict(list)
        for figures in progress.values():
            by_department[figures.department or "未分部门"].append(figures)
        return wording.company_table(dict(sorted(by_department.items())), targets, today) if by_department else None
    team = [figures for user_id, figures in progress.items() if users[user_id].manager_id == director_id]
    return wording.team_table(team, targets, today) if team else None


def team_report(ctx: Context, rules: PipelineRules, targets: DailyTargets) -> Outcome:
    """Show a director today's table so far (团队日报)."""
    if ctx.actor.role not in DIRECTORS:
        raise DomainError(wording.DIRECTORS_ONLY, "forbidden")
    everyone = select(User.id).where(User.role == Role.REP, User.active.is_(True))
    progress = day_progress(ctx.session, rules, ctx.today, everyone)
    users = {
        row.id: row for row in ctx.session.execute(select(User.id, User.manager_id).where(User.id.in_(everyone)))
    }
    text = _team_text(progress, users, ctx.actor.id, ctx.actor.role, targets, ctx.today)
    return Outcome.text(text or wording.NO_TEAM)

