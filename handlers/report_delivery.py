"""Scheduled report delivery: the weekly charts for each report group, and the monthly
reconciliation workbook for finance.

The report groups come from a TOML file (`models/report_targets.toml` unless the
`REPORT_TARGETS_PATH` setting names another). Each `[[group]]` table is one chat:

    name = "region-sunan"     # id in logs and dedup keys: a-z, 0-9 and -, at most 40 characters
    viewer = "zhaomin"        # WeCom UserID whose report scope the charts cover
    channel = "appchat"       # "appchat" (an app group chat) or "robot" (a group robot)
    chatid = "zhongshusunan"  # appchat only: 1 to 32 characters of [0-9A-Za-z]
    title = "苏南大区周报"      # appchat only: the chat's name, at most 50 characters
    owner = "zhaomin"         # appchat only: the chat owner, one of the members
    members = ["zhaomin", "zhangwei", "lina"]  # appchat only: 2 to 2,000 WeCom UserIDs

A robot group's webhook key is a secret, so it comes from the `REPORT_ROBOT_KEYS` setting, a
JSON object from group name to key.

Like every handler, this module knows nothing of WeCom: it returns the replies with their
targets and dedup keys, and the scheduler stores them in the outbox.
"""

from __future__ import annotations

import logging
import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.outcome import File, Image, Notification, Reply, Text
from handlers.wording import reports as wording
from models.messages import OutboundMessage
from models.org import Role, User
from reports import charts
from reports.figures import collection_trend, funnel, leaderboard
from reports.reconciliation import write_reconciliation
from reports.scope import COMPANY, Period, scope_for
from reports.weekly import COLLECTION_MONTHS

log = logging.getLogger(__name__)

DEFAULT_TARGETS_PATH = Path(__file__).resolve().parents[1] / "models" / "report_targets.toml"

GROUP_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
CHAT_ID_PATTERN = re.compile(r"[0-9A-Za-z]{1,32}")
CHAT_TITLE_MAX_CHARS = 50
CHAT_MIN_MEMBERS = 2
CHAT_MAX_MEMBERS = 2000
WEEKLY_CHARTS = ("funnel", "collection", "leaderboard")

Channel = Literal["appchat", "robot"]


class ReportTargetsError(ValueError):
    """Raised when the report groups are misconfigured; the message names the file, group and key."""


@dataclass(frozen=True)
class ReportGroup:
    """A chat that receives the weekly charts of one viewer's scope."""

    name: str
    viewer: str  # WeCom UserID; the charts cover what this user's own reports cover
    channel: Channel
    chatid: str | None = None
    title: str = ""
    owner: str | None = None
    members: tuple[str, ...] = ()
    webhook_key: str | None = None

    def __repr__(self) -> str:
        # The webhook key lets anyone post to the chat, so it stays out of reprs and logs.
        return f"ReportGroup(name={self.name!r}, viewer={self.viewer!r}, channel={self.channel!r})"


@dataclass(frozen=True)
class GroupMessage:
    """One reply for a report group, with the dedup key that makes a rerun send nothing twice."""

    group: ReportGroup
    reply: Reply
    dedup_key: str


class WorkingDays(Protocol):
    def is_working_day(self, day: date) -> bool: ...


# -- configuration ---------------------------------------------------------------------------

APPCHAT_KEYS = {"name", "viewer", "channel", "chatid", "title", "owner", "members"}
ROBOT_KEYS = {"name", "viewer", "channel"}


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ReportTargetsError(f"{where}: {key} is missing or not a non-empty string")
    return value.strip()


def _appchat_group(table: dict, name: str, viewer: str, where: str) -> ReportGroup:
    chatid = _text(table, "chatid", where)
    if not CHAT_ID_PATTERN.fullmatch(chatid):
        raise ReportTargetsError(f"{where}: chatid {chatid!r} must be 1 to 32 characters of 0-9, a-z and A-Z")
    title = _text(table, "title", where)
    if len(title) > CHAT_TITLE_MAX_CHARS:
        raise ReportTargetsError(f"{where}: title is {len(title)} characters; WeCom keeps at most {CHAT_TITLE_MAX_CHARS}")
    members = table.get("members")
    if not isinstance(members, list) or not all(isinstance(m, str) and m for m in members):
        raise ReportTargetsError(f"{where}: members must be a list of WeCom UserIDs")
    if len(set(members)) != len(members):
        raise ReportTargetsError(f"{where}: members lists a UserID twice")
    if not CHAT_MIN_MEMBERS <= len(members) <= CHAT_MAX_MEMBERS:
        raise ReportTargetsError(
            f"{where}: an app group chat needs {CHAT_MIN_MEMBERS} to {CHAT_MAX_MEMBERS} members, got {len(members)}"
        )
    owner = _text(table, "owner", where)
    if owner not in members:
        raise ReportTargetsError(f"{where}: owner {owner!r} must be one of the members")
    return ReportGroup(
        name=name, viewer=viewer, channel="appchat", chatid=chatid, title=title, owner=owner, members=tuple(members)
    )


def _group(table: object, index: int, source: str, robot_keys: dict[str, str]) -> ReportGroup:
    where = f"{source}: group {index + 1}"
    if not isinstance(table, dict):
        raise ReportTargetsError(f"{where} must be a table ([[group]])")
    name = _text(table, "name", where)
    if not GROUP_NAME_PATTERN.fullmatch(name):
        raise ReportTargetsError(f"{where}: name {name!r} must be 1 to 40 characters of a-z, 0-9 and -")
    where = f"{source}: group {name!r}"
    viewer = _text(table, "viewer", where)
    channel = table.get("channel")
    allowed = {"appchat": APPCHAT_KEYS, "robot": ROBOT_KEYS}.get(channel)
    if allowed is None:
        raise ReportTargetsError(f"{where}: channel must be \"appchat\" or \"robot\", got {channel!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ReportTargetsError(f"{where}: unknown key {unknown[0]!r} for channel {channel}; expected {sorted(allowed)}")

    if channel == "appchat":
        return _appchat_group(table, name, viewer, where)
    key = robot_keys.get(name, "").strip()
    if not key:
        raise ReportTargetsError(
            f"{where}: REPORT_ROBOT_KEYS has no webhook key for this robot; add \"{name}\": \"<key>\" to it"
        )
    return ReportGroup(name=name, viewer=viewer, channel="robot", webhook_key=key)


def parse_report_groups(text: str, robot_keys: dict[str, str], source: str = "<string>") -> tuple[ReportGroup, ...]:
    """Parse and check the groups of a targets file; `source` names the file in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ReportTargetsError(f"{source}: invalid TOML: {error}") from error
    unknown = sorted(set(document) - {"group"})
    if unknown:
        raise ReportTargetsError(f"{source}: unknown key {unknown[0]!r}; expected only [[group]] tables")
    tables = document.get("group", [])
    if not isinstance(tables, list):
        raise ReportTargetsError(f"{source}: group must be an array of tables ([[group]])")

    groups = tuple(_group(table, index, source, robot_keys) for index, table in enumerate(tables))
    for attribute, label in (("name", "name"), ("chatid", "chatid"), ("webhook_key", "webhook key")):
        values = [getattr(group, attribute) for group in groups if getattr(group, attribute)]
        if len(values) != len(set(values)):
            raise ReportTargetsError(f"{source}: two groups have the same {label}; each chat needs its own")
    return groups


def load_report_groups(path: str | None, robot_keys: dict[str, str]) -> tuple[ReportGroup, ...]:
    """Read the report groups from `path`, or from `models/report_targets.toml` when it is None."""
    file = Path(path) if path else DEFAULT_TARGETS_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ReportTargetsError(f"cannot read report groups from {file}: {error}; check REPORT_TARGETS_PATH") from error
    return parse_report_groups(text, robot_keys, str(file))


# -- weekly charts ---------------------------------------------------------------------------


def iso_week(period: Period) -> str:
    """Return the ISO week of the period's first day, such as 2026-W48."""
    year, week, _ = period.start.isocalendar()
    return f"{year}-W{week:02d}"


def _already_queued(session: Session, dedup_key: str) -> bool:
    """Return whether a reply with this key is in the outbox; enqueueing appends the part index."""
    return session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedup_key == f"{dedup_key}:0")) is not None


def _viewer(session: Session, group: ReportGroup) -> User:
    user = session.scalars(select(User).where(User.userid == group.viewer, User.active.is_(True))).unique().first()
    if user is None:
        raise ReportTargetsError(f"group {group.name!r}: viewer {group.viewer!r} is not an active user")
    return user


def weekly_charts(session: Session, group: ReportGroup, week: Period, folder: Path) -> list[GroupMessage]:
    """Render the week's funnel, the 12-month collection trend and the week's leaderboard for a group.

    Charts whose dedup key is already in the outbox are neither rendered nor returned, so a
    second run of the same week returns nothing.
    """
    week_id = iso_week(week)
    keys = {chart: f"weekly-report:{group.name}:{week_id}:{chart}" for chart in WEEKLY_CHARTS}
    missing = [chart for chart in WEEKLY_CHARTS if not _already_queued(session, keys[chart])]
    if not missing:
        return []

    scope = scope_for(_viewer(session, group))
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{group.name}-{week_id}"
    messages = []
    for chart in missing:
        path = folder / f"{stem}-{chart}-{uuid.uuid4().hex[:8]}.png"
        if chart == "funnel":
            charts.render_funnel(funnel(session, scope, week), week, path)
        elif chart == "collection":
            months = collection_trend(session, scope, week.last_months(COLLECTION_MONTHS))
            charts.render_collection(months, scope.label, path)
        else:
            charts.render_leaderboard(leaderboard(session, scope, week), scope.label, week, path)
        messages.append(GroupMessage(group, Image(str(path)), keys[chart]))
    return messages


# -- monthly reconciliation ------------------------------------------------------------------


def month_id(month: Period) -> str:
    return f"{month.start.year}-{month.start.month:02d}"


def finance_reconciliation(session: Session, month: Period, folder: Path) -> list[Notification]:
    """Write the company's reconciliation workbook of `month` for each active finance head.

    Returns the file and a caption for every finance head who has not been sent this month's
    workbook yet, and writes no workbook when every one has. Raises ReportTargetsError when no
    active user has the role finance_head.
    """
    heads = session.scalars(
        select(User).where(User.role == Role.FINANCE_HEAD, User.active.is_(True)).order_by(User.id)
    ).unique().all()
    if not heads:
        raise ReportTargetsError("no active user has the role finance_head, so the reconciliation has no recipient")
    keys = {head.userid: f"monthly-reconciliation:{month_id(month)}:{head.userid}" for head in heads}
    waiting = [head for head in heads if not _already_queued(session, f"{keys[head.userid]}:file")]
    if not waiting:
        return []

    # The uploaded file keeps its name on disk, so the workbook gets the name shown in the chat
    # inside a folder of its own.
    name = wording.reconciliation_name(COMPANY.label, month)
    path = folder / f"reconciliation-{month_id(month)}-{uuid.uuid4().hex[:8]}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write_reconciliation(session, COMPANY, month, path)
    caption = wording.reconciliation_caption(COMPANY.label, month)
    notifications = []
    for head in waiting:
        key = keys[head.userid]
        notifications.append(Notification(head.userid, File(str(path), name), dedup_key=f"{key}:file"))
        notifications.append(Notification(head.userid, Text(caption), dedup_key=f"{key}:caption"))
    return notifications
