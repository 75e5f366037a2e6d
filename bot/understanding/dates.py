"""Find Chinese date expressions in visit notes and resolve them against the message time.

`find_dates(text, now)` returns every date mention with its span, the resolved
calendar date, a precision ("day", "week" or "month"), a relation ("on", "before"
for 前/之前/以前/内, "after" for 后/之后/以后) and whether it lies in the past.

Rules for the ambiguous cases:

* Weeks start on Monday (the Chinese convention). 下周X is weekday X of the week
  after the current Monday-to-Sunday week, so 下周三 in a message sent on a
  Sunday is 3 days later. 下下周X adds one more week, 上周X goes back one.
* A bare weekday (周X, 星期X, 礼拜X without 本/这/下/上) means this week's day X when
  that day is still ahead. When it has already passed this week, it means next
  week's day X unless the clause reads as past (了, 已, 刚, 过 as in 去过), in which
  case it stays in this week. When X is today, it stays today unless followed by
  前/之前/以前 (周五前 in a Friday message means next Friday).
* A month/day without a year (1月15号, 12.15) takes the message year, except that a
  date more than 60 days before the message date moves to next year, and a date
  more than 300 days after it moves to last year (12月28日 in a message of 3 January).
* A bare day of month (15号) is in the message month. When it has passed, it moves
  to next month unless the clause reads as past.
* 年底/年末/年前 are 31 December. 年后 and 过年后 mean after the Spring Festival.
  A bare 年初 from October on means January of next year.
* 周末 is this week's Saturday, or the message date itself on a Saturday or Sunday.
* A holiday with 前 resolves to the day before the holiday (元旦前 → 31 December,
  春节前 → the Spring Festival eve), with relation "before". A holiday is its next
  occurrence on or after the message date.
* N天后 / 两周后 resolve to that offset with relation "on". N天内 / 一周内 / 本周内 /
  本月内 resolve to the last day of the window with relation "before". N天前 is
  N days ago.
* 月初 → the 1st, 上旬 → 5th, 月中/中旬 → 15th, 下旬 → 25th, 月底/月末 → last day.
  Without a month prefix, a part of month whose window (1st–10th, 11th–20th,
  21st–end) has passed moves to next month unless the clause reads as past.
* is_past compares the end of the mentioned period with the message date: a
  "week" mention is past only when its Sunday is, a "month" mention only when its
  last day is.

Time-of-day words and clock times after a date (上午, 下午, 下班前, 9点半) are
included in the span but do not change the date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from bot.understanding.date_calendar import (  # noqa: F401  (SPRING_FESTIVAL: see __all__)
    MONTH_OFFSETS, REL_DAY_OFFSETS, SPRING_FESTIVAL, WEEK_OFFSETS, WEEKDAYS, YEAR_OFFSETS, add_months, add_working_days,
    month_end, next_holiday, period_end, safe_date, year_for_month_day,
)
from bot.understanding.date_patterns import (
    BARE_MONTH_PART_RE, BEFORE_PREFIX_RE, CLAUSE_BREAK_RE, CN_DIGITS, DATE_CONTEXT_AFTER_RE, DAY_ONLY_RE,
    DURATION_RE, HOLIDAY_RE, MONTH_RE, NUMERIC_MD_RE, PAST_MARK_RE, RELATION_RE, RELATION_WORDS, REL_DAY_RE,
    TIME_QUALIFIER_RE, UNIT_AFTER, WEEK_RE, YEAR_PART_RE, YMD_RE, cn_year, small_int,
)

__all__ = ["DateMention", "find_dates", "SPRING_FESTIVAL", "SHANGHAI"]

# China has used UTC+8 without daylight saving time since 1991, so a fixed
# offset is exact for every date a visit note can mention.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    value: date
    precision: str  # "day" | "week" | "month"
    relation: str  # "on" | "before" | "after"
    is_past: bool


# ---------------------------------------------------------------------------
# Resolution context and handlers

@dataclass
class _Context:
    text: str
    today: date
    start: int
    end: int
    relation: str

    def is_past_clause(self) -> bool:
        """Tell whether the clause around the mention reads as past (了, 已经, 刚 …)."""
        left = 0
        for match in CLAUSE_BREAK_RE.finditer(self.text, 0, self.start):
            left = match.end()
        right_match = CLAUSE_BREAK_RE.search(self.text, self.end)
        right = right_match.start() if right_match else len(self.text)
        clause = self.text[left:self.start] + self.text[self.end:right]
        return PAST_MARK_RE.search(clause) is not None


# A handler returns (value, precision, relation or None to keep the suffix relation).
_Resolved = tuple[date, str, "str | None"]


def _resolve_ymd(m: re.Match, ctx: _Context) -> _Resolved | None:
    year = cn_year(m["y"] or m["ycn"])
    if m["sep"]:
        value = safe_date(year, int(m["m2"]), int(m["d2"]))
        return (value, "day", None) if value else None
    month = small_int(m["m"])
    if month is None:
        return None
    if m["d"] is None:
        return date(year, month, 1), "month", None
    day = small_int(m["d"])
    value = safe_date(year, month, day) if day else None
    return (value, "day", None) if value else None


def _part_day(part: str, year: int, month: int) -> date:
    part = part.lstrip("月")
    if part in ("底", "末"):
        return month_end(year, month)
    if part == "初":
        return date(year, month, 1)
    if part == "上旬":
        return date(year, month, 5)
    if part == "下旬":
        return date(year, month, 25)
    return date(year, month, 15)  # 中, 中旬


_PART_WINDOW_END = {"初": 10, "上旬": 10, "中": 20, "中旬": 20, "下旬": 31, "底": 31, "末": 31}


def _resolve_month(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    day_token, part = m["d"], m["part"]
    if m["rel"]:
        prefix = m["rel"].replace("个", "").replace("月", "")
        year, month = add_months(today.year, today.month, MONTH_OFFSETS[prefix])
    else:
        month = small_int(m["m"])
        if month is None or not 1 <= month <= 12:
            return None
        if m["yp"]:
            year = today.year + YEAR_OFFSETS[m["yp"]]
        elif day_token is not None:
            day = small_int(day_token)
            found = year_for_month_day(today, month, day) if day else None
            if found is None:
                return None
            year = found
        else:
            year = year_for_month_day(today, month, 1 if part is None or part.lstrip("月") == "初" else 28) or today.year
    if day_token is not None:
        day = small_int(day_token)
        value = safe_date(year, month, day) if day else None
        return (value, "day", None) if value else None
    if part:
        return _part_day(part, year, month), "day", None
    if ctx.relation == "before" and ctx.text[ctx.end - 1] in "内":
        return month_end(year, month), "day", "before"
    return date(year, month, 1), "month", None


def _resolve_bare_month_part(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    part = m["p1"] or m["p2"]
    year, month = today.year, today.month
    if today.day > _PART_WINDOW_END[part] and not ctx.is_past_clause():
        year, month = add_months(year, month, 1)
    return _part_day(part, year, month), "day", None


def _resolve_year_part(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    prefix, part = m["yp"], m["part"]
    if prefix and part in ("前", "后"):
        return None
    if prefix is None:
        year = today.year
    elif prefix.isdigit():
        year = int(prefix)
    else:
        year = today.year + YEAR_OFFSETS[prefix]
    if part in ("底", "末", "前"):
        # NOTE: reps sometimes mean the Spring Festival by 年前; it resolves to
        # 31 December here, like 年底.
        return date(year, 12, 31), "day", None
    if part == "内":
        return date(year, 12, 31), "day", "before"
    if part == "初":
        if prefix is None and today.month >= 10:
            year += 1
        return date(year, 1, 1), "month", None
    # 年后: after the Spring Festival.
    festival = next_holiday("春节", today, None)
    return (festival, "day", "after") if festival else None


def _resolve_week(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    monday = today - timedelta(days=today.weekday())
    prefix, weekday_token = m["wp"], m["wd"]
    if prefix is None and weekday_token is None:
        return None
    if prefix is not None:
        offset = WEEK_OFFSETS[prefix.replace("个", "")]
        week_monday = monday + timedelta(weeks=offset)
        if weekday_token is None:
            if ctx.relation == "before" and ctx.text[ctx.end - 1] in "内":
                return week_monday + timedelta(days=6), "day", "before"
            return week_monday, "week", None
        if weekday_token in ("中",):
            return week_monday + timedelta(days=2), "day", None
        if weekday_token == "初":
            return week_monday, "day", None
        if weekday_token == "末":
            return week_monday + timedelta(days=5), "day", None
        return week_monday + timedelta(days=WEEKDAYS[weekday_token]), "day", None

    if weekday_token in ("中", "初"):
        return None
    if weekday_token == "末":
        if today.weekday() >= 5:
            return today, "day", None
        return monday + timedelta(days=5), "day", None
    value = monday + timedelta(days=WEEKDAYS[weekday_token])
    if value < today and not ctx.is_past_clause():
        value += timedelta(weeks=1)
    elif value == today and ctx.relation == "before":
        value += timedelta(weeks=1)
    return value, "day", None


def _resolve_rel_day(m: re.Match, ctx: _Context) -> _Resolved | None:
    value = ctx.today + timedelta(days=REL_DAY_OFFSETS[m.group()])
    # 今明两天 (today or tomorrow) means by tomorrow.
    return value, "day", "before" if m.group() == "今明两天" else None


def _resolve_day_only(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    day = small_int(m["d"])
    if day is None or not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    if day < today.day and not ctx.is_past_clause():
        year, month = add_months(year, month, 1)
    for _ in range(3):
        value = safe_date(year, month, day)
        if value is not None:
            return value, "day", None
        year, month = add_months(year, month, 1)
    return None


def _duration_count(token: str) -> float | None:
    if token == "半":
        return 0.5
    if token == "几":
        return None
    value = small_int(token)
    if value is not None:
        return value
    # 一两天, 两三周: a rough range; take the upper end.
    if len(token) == 2 and all(ch in CN_DIGITS for ch in token):
        return max(CN_DIGITS[ch] for ch in token)
    return None


def _resolve_duration(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    count = _duration_count(m["n"])
    if count is None:
        return None
    unit, rel = m["u"], m["rel"]
    sign = -1 if rel in ("前", "之前", "以前") else 1
    relation = "before" if rel in ("内", "之内", "以内") else "on"
    if unit in ("天", "日"):
        if count != int(count):
            return None
        value = today + timedelta(days=sign * int(count))
    elif unit in ("个工作日", "工作日"):
        if sign < 0 or count != int(count):
            return None
        value = add_working_days(today, int(count))
    elif unit.endswith(("周", "星期", "礼拜")):
        value = today + timedelta(days=sign * round(count * 7))
    else:
        months = {"个月": count, "个半月": count + 0.5, "年": count * 12}[unit]
        whole = int(months)
        year, month = add_months(today.year, today.month, sign * whole)
        value = date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        if months != whole:
            value += timedelta(days=sign * 15)
    return value, "day", relation


def _resolve_holiday(m: re.Match, ctx: _Context) -> _Resolved | None:
    name = m["h"]
    value = next_holiday(name, ctx.today, m["yp"])
    if value is None:
        return None
    if name == "过完年":
        return value, "day", "after"
    if ctx.relation == "before" and ctx.text[ctx.end - 1] != "内":
        return value - timedelta(days=1), "day", None
    return value, "day", None


def _resolve_numeric_md(m: re.Match, ctx: _Context) -> _Resolved | None:
    following = ctx.text[m.end():m.end() + 2].lstrip()
    if m["suf"] is None and following[:1] in UNIT_AFTER:
        return None
    # 3.5 or 12.5 is more often a decimal (a price, a gap) than a date, so a dotted
    # form with a one-digit day needs 号/日 or a date word after it (1.8前, 1.8开标).
    if m["sep"] == "." and len(m["d"]) == 1 and m["suf"] is None:
        if not DATE_CONTEXT_AFTER_RE.match(ctx.text, m.end()):
            return None
    month, day = int(m["m"]), int(m["d"])
    year = year_for_month_day(ctx.today, month, day)
    if year is None:
        return None
    value = safe_date(year, month, day)
    return (value, "day", None) if value else None


_Handler = Callable[[re.Match, _Context], "_Resolved | None"]
_RULES: tuple[tuple[re.Pattern, _Handler], ...] = (
    (YMD_RE, _resolve_ymd),
    (MONTH_RE, _resolve_month),
    (BARE_MONTH_PART_RE, _resolve_bare_month_part),
    (YEAR_PART_RE, _resolve_year_part),
    (WEEK_RE, _resolve_week),
    (REL_DAY_RE, _resolve_rel_day),
    (DAY_ONLY_RE, _resolve_day_only),
    (DURATION_RE, _resolve_duration),
    (HOLIDAY_RE, _resolve_holiday),
    (NUMERIC_MD_RE, _resolve_numeric_md),
)

# Characters one of which every date expression contains; a text without any
# of them is skipped without running the patterns.
_TRIGGER_RE = re.compile(r"[天日早晚儿号月年周期拜週旦节春国劳诞/.\-内前后旬底末初中]")


def _select_matches(text: str) -> list[tuple[re.Match, _Handler]]:
    """Collect candidate matches and keep the leftmost-longest non-overlapping ones."""
    candidates = []
    for order, (pattern, handler) in enumerate(_RULES):
        for match in pattern.finditer(text):
            if match.end() > match.start():
                candidates.append((match.start(), -(match.end() - match.start()), order, match, handler))
    candidates.sort(key=lambda item: item[:3])
    chosen = []
    covered_until = -1
    for start, _, _, match, handler in candidates:
        if start >= covered_until:
            chosen.append((match, handler))
            covered_until = match.end()
    return chosen


def find_dates(text: str, now: datetime) -> list[DateMention]:
    """Find date expressions in `text` and resolve them against the message time `now`.

    `now` should be timezone-aware. It is converted to Asia/Shanghai; a naive
    datetime is taken as Shanghai local time.
    """
    if not text or _TRIGGER_RE.search(text) is None:
        return []
    local_now = now.astimezone(SHANGHAI) if now.tzinfo is not None else now
    today = local_now.date()

    selected = _select_matches(text)
    mentions: list[DateMention] = []
    for index, (match, handler) in enumerate(selected):
        next_start = selected[index + 1][0].start() if index + 1 < len(selected) else len(text)
        start, end = match.start(), match.end()

        relation = "on"
        if DURATION_RE is not match.re:
            qualifier = TIME_QUALIFIER_RE.match(text, end, next_start)
            if qualifier and qualifier.group().strip():
                end = qualifier.end()
            suffix = RELATION_RE.match(text, end, next_start)
            if suffix:
                end = suffix.end()
                relation = RELATION_WORDS[suffix.group()]
        if relation == "on" and BEFORE_PREFIX_RE.search(text, max(0, start - 4), start):
            relation = "before"

        context = _Context(text=text, today=today, start=start, end=end, relation=relation)
        resolved = handler(match, context)
        if resolved is None:
            continue
        value, precision, relation_override = resolved
        if relation_override is not None:
            relation = relation_override
        mentions.append(DateMention(
            start=start,
            end=end,
            text=text[start:end],
            value=value,
            precision=precision,
            relation=relation,
            is_past=period_end(value, precision) < today,
        ))
    return mentions
