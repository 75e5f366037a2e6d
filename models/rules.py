"""Pipeline rules that operators tune without a release, read from a TOML file.

The default file is `models/pipeline_rules.toml`; the `PIPELINE_RULES_PATH` setting names
another. It contains the public pool policy, the stages' owners, deliverables and time limits,
the working-day calendar, and the rules that notify people when an opportunity changes.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from models.org import Role
from models.stages import Stage

DEFAULT_RULES_PATH = Path(__file__).resolve().with_name("pipeline_rules.toml")


class RulesError(ValueError):
    """Raised when the rules file is missing, unreadable or has an invalid value; names the key."""


@dataclass(frozen=True)
class PoolRules:
    """The public pool (公海) policy: when customers go back to the pool and who may claim them."""

    release_after_days: int = 15
    warn_days_before: int = 3
    exempt_open_contracts: bool = True
    closed_contract_statuses: tuple[str, ...] = ("completed", "cancelled", "terminated", "draft", "rejected")
    exempt_payments_due: bool = True
    holding_limit: int = 50
    claim_cooldown_days: int = 7

    def release_cutoff(self, now: datetime) -> datetime:
        """Return the time before which an owner's last follow-up releases the customer."""
        return now - timedelta(days=self.release_after_days)

    def warning_cutoff(self, now: datetime) -> datetime:
        """Return the time before which an owner's last follow-up earns a release warning."""
        return now - timedelta(days=self.release_after_days - self.warn_days_before)

    def release_time(self, reference: datetime) -> datetime:
        """Return when a customer last followed up (or claimed) at `reference` is released."""
        return reference + timedelta(days=self.release_after_days)

    def cooldown_start(self, now: datetime) -> datetime:
        """Return the start of the window in which a lost customer cannot be claimed back."""
        return now - timedelta(days=self.claim_cooldown_days)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday to Friday, minus `holidays`, plus weekend days worked in lieu (调休)."""

    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, day: date, count: int) -> date:
        """Return the `count`-th working day after `day`; `day` itself never counts."""
        result = day
        while count > 0:
            result += timedelta(days=1)
            if self.is_working_day(result):
                count -= 1
        return result


def latest_day_where(today: date, holds: Callable[[date], bool], search_days: int = 400) -> date | None:
    """Return the latest day on or before `today` for which `holds` is true.

    `holds` must be true for every day before a day it holds for (the deadline helpers are
    monotonic), so the search walks back from `today` and stops at the first hit.
    """
    for offset in range(search_days):
        candidate = today - timedelta(days=offset)
        if holds(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class StageRule:
    """One stage's owner role, the deliverables that end it, and its time limit.

    The limit counts days after the day the opportunity entered the stage, so an opportunity
    that entered on Friday with a limit of 3 working days is due by the end of Wednesday and
    overdue from Thursday. `limit_days` 0 means the stage has no limit.
    """

    stage: Stage
    owner_role: Role = Role.REP
    deliverables: tuple[str, ...] = ()
    limit_days: int = 0
    working_days: bool = False

    def due_on(self, entered_on: date, calendar: WorkCalendar) -> date | None:
        """Return the last day on which the stage is still on time, or None without a limit."""
        if not self.limit_days:
            return None
        if self.working_days:
            return calendar.add_working_days(entered_on, self.limit_days)
        return entered_on + timedelta(days=self.limit_days)

    def latest_overdue_entry(self, today: date, calendar: WorkCalendar) -> date | None:
        """Return the latest entry day that is overdue on `today`; earlier days are overdue too."""
        if not self.limit_days:
            return None
        if not self.working_days:
            return today - timedelta(days=self.limit_days + 1)
        return latest_day_where(
            today - timedelta(days=1), lambda entered: self.due_on(entered, calendar) < today,
            search_days=2 * self.limit_days + 400,
        )


DEFAULT_STAGE_RULES: dict[Stage, StageRule] = {
    Stage.LEAD: StageRule(Stage.LEAD, Role.REP, ("首次联系客户",), 2),
    Stage.CONTACTED: StageRule(Stage.CONTACTED, Role.REP, ("确认联系人和需求方向",), 7),
    Stage.QUALIFIED: StageRule(Stage.QUALIFIED, Role.REP, ("确认产品、数量和预算",), 10),
    Stage.QUOTING: StageRule(Stage.QUOTING, Role.REP, ("提交报价单",), 3, working_days=True),
    Stage.CONTRACTED: StageRule(Stage.CONTRACTED, Role.REP, ("签订合同",), 15),
    Stage.FULFILLING: StageRule(Stage.FULFILLING, Role.REP, ("按合同发货", "回款到账"), 60),
}


@dataclass(frozen=True)
class StageLimitPolicy:
    """What happens to an opportunity past its stage's limit: daily reminders, then escalation."""

    escalate_after_working_days: int = 2

    def latest_escalating_reminder(self, today: date, calendar: WorkCalendar) -> date | None:
        """Return the latest first-reminder day that escalates on `today`; earlier days do too."""
        return latest_day_where(
            today, lambda reminded: calendar.add_working_days(reminded, self.escalate_after_working_days) <= today
        )


# Opportunity columns a notification rule may watch, with the number type each holds.
RULE_FIELDS = ("amount",)


@dataclass(frozen=True)
class NotifyRule:
    """Notify everyone with one of `roles` when an opportunity enters `stage`, or once when its
    `field` first reaches `at_least`. Exactly one of the two conditions is set."""

    name: str
    roles: tuple[Role, ...]
    stage: Stage | None = None
    field: str | None = None
    at_least: Decimal | None = None
    title: str = ""


DEFAULT_NOTIFY_RULES: tuple[NotifyRule, ...] = (
    NotifyRule("quote-needs-engineer", (Role.ENGINEER,), stage=Stage.QUOTING, title="商机进入方案报价,请技术部准备方案"),
)


@dataclass(frozen=True)
class PipelineRules:
    pool: PoolRules
    stages: dict[Stage, StageRule] = field(default_factory=lambda: dict(DEFAULT_STAGE_RULES))
    stage_limits: StageLimitPolicy = StageLimitPolicy()
    calendar: WorkCalendar = WorkCalendar()
    notify: tuple[NotifyRule, ...] = DEFAULT_NOTIFY_RULES


def _pool_rules(table: dict, source: str) -> PoolRules:
    known = {field.name: field for field in fields(PoolRules)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise RulesError(f"{source}: unknown key pool.{key}; expected one of {', '.join(known)}")
        default = known[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise RulesError(f"{source}: pool.{key} must be true or false, got {value!r}")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RulesError(f"{source}: pool.{key} must be a whole number of 0 or more, got {value!r}")
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise RulesError(f"{source}: pool.{key} must be a list of strings, got {value!r}")
            value = tuple(value)
        values[key] = value

    rules = PoolRules(**values)
    if rules.release_after_days < 1:
        raise RulesError(f"{source}: pool.release_after_days must be at least 1, got {rules.release_after_days}")
    if rules.warn_days_before >= rules.release_after_days:
        raise RulesError(
            f"{source}: pool.warn_days_before ({rules.warn_days_before}) must be less than "
            f"pool.release_after_days ({rules.release_after_days})"
        )
    return rules


TOP_LEVEL_KEYS = {"pool", "stages", "stage_limits", "calendar", "notify"}


def _table(document: dict, key: str, source: str) -> dict:
    table = document.get(key, {})
    if not isinstance(table, dict):
        raise RulesError(f"{source}: {key} must be a table ([{key}])")
    return table


def _check_keys(table: dict, allowed: tuple[str, ...], prefix: str, source: str) -> None:
    for key in table:
        if key not in allowed:
            raise RulesError(f"{source}: unknown key {prefix}.{key}; expected one of {', '.join(allowed)}")


def _whole_number(value, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RulesError(f"{source}: {key} must be a whole number of 0 or more, got {value!r}")
    return value


def _member(enum, value, key: str, source: str):
    """Return the member of the string enum `enum` named by `value`, or raise naming the choices."""
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise RulesError(f"{source}: {key} must be one of {choices}, got {value!r}") from None


def _role(value, key: str, source: str) -> Role:
    return _member(Role, value, key, source)


def _stage(value, key: str, source: str) -> Stage:
    return _member(Stage, value, key, source)


def _strings(value, key: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesError(f"{source}: {key} must be a list of strings, got {value!r}")
    return tuple(value)


def _stage_rules(table: dict, source: str) -> dict[Stage, StageRule]:
    """Read [stages.<stage>] tables over the defaults; a stage not named keeps its default."""
    rules = dict(DEFAULT_STAGE_RULES)
    allowed = ("owner_role", "deliverables", "limit_days", "working_days")
    for name, stage_table in table.items():
        stage = _stage(name, "stages.<name>", source)
        prefix = f"stages.{name}"
        if not isinstance(stage_table, dict):
            raise RulesError(f"{source}: {prefix} must be a table ([{prefix}])")
        _check_keys(stage_table, allowed, prefix, source)
        default = rules[stage]
        working_days = stage_table.get("working_days", default.working_days)
        if not isinstance(working_days, bool):
            raise RulesError(f"{source}: {prefix}.working_days must be true or false, got {working_days!r}")
        rules[stage] = StageRule(
            stage=stage,
            owner_role=_role(stage_table.get("owner_role", default.owner_role), f"{prefix}.owner_role", source),
            deliverables=_strings(stage_table.get("deliverables", list(default.deliverables)), f"{prefix}.deliverables", source),
            limit_days=_whole_number(stage_table.get("limit_days", default.limit_days), f"{prefix}.limit_days", source),
            working_days=working_days,
        )
    return rules


def _stage_limit_policy(table: dict, source: str) -> StageLimitPolicy:
    _check_keys(table, ("escalate_after_working_days",), "stage_limits", source)
    days = table.get("escalate_after_working_days", StageLimitPolicy.escalate_after_working_days)
    days = _whole_number(days, "stage_limits.escalate_after_working_days", source)
    if days < 1:
        raise RulesError(f"{source}: stage_limits.escalate_after_working_days must be at least 1, got {days}")
    return StageLimitPolicy(escalate_after_working_days=days)


def _dates(value, key: str, source: str) -> frozenset[date]:
    if not isinstance(value, list):
        raise RulesError(f"{source}: {key} must be a list of dates such as 2027-01-01, got {value!r}")
    days = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(item))
        except (TypeError, ValueError):
            raise RulesError(f"{source}: {key} has an invalid date {item!r}; write it as 2027-01-01") from None
    return frozenset(days)


def _calendar(table: dict, source: str) -> WorkCalendar:
    _check_keys(table, ("holidays", "extra_workdays"), "calendar", source)
    return WorkCalendar(
        holidays=_dates(table.get("holidays", []), "calendar.holidays", source),
        extra_workdays=_dates(table.get("extra_workdays", []), "calendar.extra_workdays", source),
    )


def _notify_rules(value, source: str) -> tuple[NotifyRule, ...]:
    """Read [[notify]] entries; without any, the defaults apply, and `notify = []` turns them off."""
    if value is None:
        return DEFAULT_NOTIFY_RULES
    if not isinstance(value, list):
        raise RulesError(f"{source}: notify must be an array of tables ([[notify]])")
    allowed = ("name", "roles", "when_stage", "when_field", "at_least", "title")
    rules, names = [], set()
    for index, entry in enumerate(value):
        prefix = f"notify[{index}]"
        if not isinstance(entry, dict):
            raise RulesError(f"{source}: {prefix} must be a table")
        _check_keys(entry, allowed, prefix, source)
        name = entry.get("name")
        if not isinstance(name, str) or not name or len(name) > 40:
            raise RulesError(f"{source}: {prefix}.name must be a text of 1 to 40 characters, got {name!r}")
        if name in names:
            raise RulesError(f"{source}: {prefix}.name {name!r} is used twice; each rule needs its own name")
        names.add(name)
        roles = tuple(_role(role, f"{prefix}.roles", source) for role in _strings(entry.get("roles"), f"{prefix}.roles", source))
        if not roles:
            raise RulesError(f"{source}: {prefix}.roles must name at least one role")
        stage = _stage(entry["when_stage"], f"{prefix}.when_stage", source) if "when_stage" in entry else None
        watched = entry.get("when_field")
        if (stage is None) == (watched is None):
            raise RulesError(f"{source}: {prefix} needs exactly one of when_stage and when_field")
        at_least = None
        if watched is not None:
            if watched not in RULE_FIELDS:
                raise RulesError(f"{source}: {prefix}.when_field must be one of {', '.join(RULE_FIELDS)}, got {watched!r}")
            at_least = _decimal(entry.get("at_least"), f"{prefix}.at_least", source)
        title = entry.get("title", "")
        if not isinstance(title, str):
            raise RulesError(f"{source}: {prefix}.title must be a text, got {title!r}")
        rules.append(NotifyRule(name, roles, stage=stage, field=watched, at_least=at_least, title=title))
    return tuple(rules)


def _decimal(value, key: str, source: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"{source}: {key} must be a number, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise RulesError(f"{source}: {key} must be a number, got {value!r}") from None


def parse_rules(text: str, source: str = "<string>") -> PipelineRules:
    """Parse rules from TOML text; `source` names the file in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{source}: invalid TOML: {error}") from error
    unknown = set(document) - TOP_LEVEL_KEYS
    if unknown:
        expected = ", ".join(sorted(TOP_LEVEL_KEYS))
        raise RulesError(f"{source}: unknown table {sorted(unknown)[0]!r}; expected one of {expected}")
    pool = document.get("pool", {})
    if not isinstance(pool, dict):
        raise RulesError(f"{source}: pool must be a table ([pool])")
    return PipelineRules(
        pool=_pool_rules(pool, source),
        stages=_stage_rules(_table(document, "stages", source), source),
        stage_limits=_stage_limit_policy(_table(document, "stage_limits", source), source),
        calendar=_calendar(_table(document, "calendar", source), source),
        notify=_notify_rules(document.get("notify"), source),
    )


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> PipelineRules:
    """Read the rules file once per process; `path` None means the default file."""
    file = Path(path) if path else DEFAULT_RULES_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"cannot read pipeline rules from {file}: {error}; check PIPELINE_RULES_PATH") from error
    return parse_rules(text, str(file))
