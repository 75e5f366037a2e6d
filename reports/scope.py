"""What a report covers: whose records (the scope) and which days (the period).

A rep sees their own figures, a regional director their team's, and everyone else the whole
company. The team is the one `handlers.access.visible_customers` uses: users of the director's
department plus the users who report to the director.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, or_, select, true

from models.org import Role, User

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Scope:
    """The users whose records a report counts; `user_ids` None means the whole company."""

    label: str  # shown in chart titles: a name, a department or 全公司
    user_ids: Select | None = None

    def covers(self, column: ColumnElement) -> ColumnElement[bool]:
        """Return a condition that the user id in `column` is in the scope."""
        if self.user_ids is None:
            return true()
        return column.in_(self.user_ids)


def scope_for(user: User) -> Scope:
    """Return the scope of the reports `user` may see."""
    if user.role == Role.REP:
        return Scope(label=user.name, user_ids=select(User.id).where(User.id == user.id))
    if user.role == Role.REGIONAL_DIRECTOR:
        team = select(User.id).where(or_(User.department_id == user.department_id, User.manager_id == user.id))
        label = user.department.name if user.department is not None else user.name
        return Scope(label=label, user_ids=team)
    return Scope(label="全公司")


COMPANY = Scope(label="全公司")


@dataclass(frozen=True)
class Period:
    """Calendar days from `start` up to but excluding `end`, in Shanghai time."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after its start {self.start}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = date(year, month, 1)
        return cls(start, _add_months(start, 1))

    @classmethod
    def week_of(cls, day: date) -> Period:
        """Return the Monday-to-Sunday week that contains `day`."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=7))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def whole_months(self) -> int | None:
        """Return how many calendar months the period is, or None when it is not whole months."""
        if self.start.day != 1 or self.end.day != 1:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    @property
    def months(self) -> float:
        """Return the period's length in months: whole calendar months, else days / 30."""
        return self.whole_months or self.days / 30

    def previous(self) -> Period:
        """Return the period just before: the previous months for whole months, else as many days."""
        months = self.whole_months
        if months is not None:
            return Period(_add_months(self.start, -months), self.start)
        return Period(self.start - timedelta(days=self.days), self.start)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Return the period as aware UTC datetimes, for comparing with stored timestamps."""
        return _utc_midnight(self.start), _utc_midnight(self.end)

    def last_months(self, count: int) -> Period:
        """Return the `count` calendar months that end with the month of the period's last day."""
        last_day = self.end - timedelta(days=1)
        end = _add_months(date(last_day.year, last_day.month, 1), 1)
        return Period(_add_months(end, -count), end)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def month_starts(period: Period) -> list[date]:
    """Return the first day of each calendar month the whole-month `period` covers."""
    months = period.whole_months
    if months is None:
        raise ValueError(f"period {period.start}..{period.end} is not whole calendar months")
    return [_add_months(period.start, index) for index in range(months)]
