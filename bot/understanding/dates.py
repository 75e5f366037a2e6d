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

__all__ = ["DateMention", "find_dates", "SPRING_FESTIVAL", "SHANGHAI"]

# China has used UTC+8 without daylight saving time since 1991, so a fixed
# offset is exact for every date a visit note can mention.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# Gregorian date of the Spring Festival (the first day of the lunar year),
# checked against LunarDate(year, 1, 1) of the lunardate package 0.3.0.
SPRING_FESTIVAL = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
}

PAST_WINDOW_DAYS = 60
FUTURE_WINDOW_DAYS = 300


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
# Numerals

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}


def _small_int(token: str) -> int | None:
    """Convert an Arabic or Chinese numeral below 100 (15, 十五, 二十, 三) to an int."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return None
        tens_value = _CN_DIGITS.get(tens, None) if tens else 1
        ones_value = _CN_DIGITS.get(ones, None) if ones else 0
        if tens_value is None or ones_value is None:
            return None
        return tens_value * 10 + ones_value
    if len(token) == 1:
        return _CN_DIGITS.get(token)
    return None


def _cn_year(token: str) -> int:
    if token.isdigit():
        return int(token)
    return int("".join(str(_CN_DIGITS[ch]) for ch in token))


# ---------------------------------------------------------------------------
# Patterns

_MON = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?:[12]\d|3[01]|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_CN_NUM_CHARS = "一二三四五六七八九十两零〇"
_YEAR_WORD = r"今年|明年|去年|后年"
_REL_MONTH = r"下下个?月|下个?月|本月|这个?月|当月|上上个?月|上个?月"
_MONTH_PART = r"月?底|月?末|月?初|中旬|上旬|下旬|中(?!心|间|标|介|层|型|午)"

# Characters that, right after a number, make it a quantity rather than a date.
_UNIT_AFTER = set("万千亿百元块角吨方立平米厘毫公斤克件张卷包袋车台套个只根支片桶箱%‰倍折成寸尺天周度")

_UNIT_CLASS = re.escape("".join(sorted(_UNIT_AFTER)))

_YMD_RE = re.compile(
    r"(?<![\d.\-/])(?:(?P<y>20\d{2})|(?P<ycn>[二][〇零][一二三四五六七八九〇零]{2}))"
    rf"(?:年(?P<m>{_MON})月份?(?:(?P<d>{_DAY})(?P<dsuf>[日号])?)?"
    r"|(?P<sep>[-/.])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?![\d.\-/]))"
)
_MONTH_RE = re.compile(
    rf"(?:(?P<yp>{_YEAR_WORD})|(?<![\d{_CN_NUM_CHARS}个第每.年]))"
    rf"(?:(?P<m>{_MON})月份?|(?P<rel>{_REL_MONTH}))"
    rf"(?:(?P<d>{_DAY})(?:(?P<dsuf>[日号])|(?![\d.\s{_UNIT_CLASS}]))|(?P<part>{_MONTH_PART}))?"
)
_BARE_MONTH_PART_RE = re.compile(r"(?<![个每])(?:月(?P<p1>底|末|初|中旬|上旬|下旬|中(?!心|间|标|介|层|型|午))|(?P<p2>上旬|中旬|下旬))")
_YEAR_PART_RE = re.compile(
    rf"(?:(?P<yp>今|明|去|后|20\d{{2}})年年?|(?<![\d{_CN_NUM_CHARS}几多今明去后前过新每])年)"
    r"(?P<part>底|末|初|内|前(?![三两几\d])|后)"
)
_WEEK_RE = re.compile(
    r"(?:(?P<wp>下下个?|下个?|上上个?|上个?|本|这个?|今)(?:周|星期|礼拜|週)"
    # A numeral before a bare 周 makes a duration (一周三次), except the day of a
    # preceding weekday (周三周四).
    rf"|(?:(?<![每{_CN_NUM_CHARS}几\d个上下本这今小老姓叫阿])|(?<=[周期拜][一二三四五六日天]))"
    r"(?:周|星期|礼拜|週))"
    # 下周二三 / 下周六日 name two days; the mention resolves to the first.
    rf"(?:(?P<wd>[一二三四五六日天末中初1-7])(?P<wd2>[二三四五六日天](?![\d{_CN_NUM_CHARS}]))?(?!\d))?"
)
_REL_DAY_RE = re.compile(
    r"今明两天|大后天|大前天|今天|今日|今早|今晚|今儿个?|明天|明日|明早|明晚|明儿个?|昨天|昨日|昨晚|昨儿个?"
    r"|(?<![之以然最提目眼跟面当往事先随此其落滞推延])(?:后天|前天)"
)
_DAY_ONLY_RE = re.compile(
    rf"(?<![\d.\-/月第路街道巷弄楼室栋幢层号年{_CN_NUM_CHARS}])(?P<d>{_DAY})(?P<suf>号|日)"
    r"(?!楼|线|机|库|仓|门|位|厅|车|地块|标|院|房|窗|口|桥|路|街|厂|罐|站|炉|窑|码|柜|箱|店|栋|单元|层"
    r"|期|常|均|产|用|报|志|照|光|夜|程|记|益|元|语|本|内|之内|以内)"
)
_DURATION_RE = re.compile(
    rf"(?<![\d.第])(?P<n>\d{{1,3}}|[{_CN_NUM_CHARS}]{{1,3}}|半|几)"
    r"(?P<u>个工作日|工作日|个?星期|个?礼拜|周|个半月|个月|天|日|年)"
    r"(?P<rel>之后|以后|后|之内|以内|内|之前|以前|前)"
)
_HOLIDAY_RE = re.compile(
    rf"(?P<yp>{_YEAR_WORD})?"
    r"(?P<h>元旦|春节|过完年|过年|国庆节?|劳动节|圣诞节?"
    r"|五一(?=前|之前|以前|后|之后|以后|假|节|长假|期间)|十一(?=长假|假期|黄金周))"
)
_NUMERIC_MD_RE = re.compile(
    r"(?<![\d.\-/:：A-Za-z])(?P<m>1[0-2]|0?[1-9])(?P<sep>[./\-])(?P<d>[12]\d|3[01]|0?[1-9])(?P<suf>[日号])?"
    r"(?![\d.\-/:：A-Za-z%])"
)

_TIME_QUALIFIER_RE = re.compile(
    r"\s?(?:上午|下午|中午|晚上|早上|早晨|傍晚|凌晨|夜里|白天|下班|上班)?"
    rf"(?:\s?(?:[01]?\d|2[0-3]|[{_CN_NUM_CHARS}]{{1,3}})(?:点|时|[:：][0-5]\d)(?:半|一刻|三刻|[0-5]?\d分|[0-5]\d)?)?"
)
_RELATION_RE = re.compile(
    r"之前|以前|前(?![往来去进台端])|之后|以后|后(?![续面期来勤台方天])|之内|以内|内(?![容部地外])"
)
_DATE_CONTEXT_AFTER_RE = re.compile(
    r"\s?(?:前|之前|以前|后|之后|以后|上午|下午|晚上|开标|交货|发货|到货|送货|供货|付款|签|开会|见面|到场|进场|开工)"
)
_BEFORE_PREFIX_RE = re.compile(r"(?:截止到?|截至|最晚|最迟|不晚于|不迟于)\s?$")
_CLAUSE_BREAK_RE = re.compile(r"[,，。;；!！?？\n、:：]")
_PAST_MARK_RE = re.compile(r"了|已经|已|刚|去过|见过|来过|聊过|谈过|过了")

_RELATION_WORDS = {
    "前": "before", "之前": "before", "以前": "before",
    "内": "before", "之内": "before", "以内": "before",
    "后": "after", "之后": "after", "以后": "after",
}


# ---------------------------------------------------------------------------
# Calendar helpers

def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _add_working_days(start: date, count: int) -> date:
    # NOTE: skips Saturdays and Sundays only; public holidays and the
    # make-up working weekends around them are not modelled.
    current = start
    while count > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current


def _period_end(value: date, precision: str) -> date:
    if precision == "week":
        return value + timedelta(days=6 - value.weekday())
    if precision == "month":
        return _month_end(value.year, value.month)
    return value


def _year_for_month_day(today: date, month: int, day: int) -> int | None:
    """Pick the year for a month/day written without one (see the module rules)."""
    candidate = _safe_date(today.year, month, day)
    if candidate is None:
        # 2月29日 outside a leap year: try the neighbouring years.
        for year in (today.year + 1, today.year - 1):
            if _safe_date(year, month, day) is not None and abs(year - today.year) == 1:
                candidate = date(year, month, day)
                break
        if candidate is None:
            return None
    if (today - candidate).days > PAST_WINDOW_DAYS:
        return candidate.year + 1
    if (candidate - today).days > FUTURE_WINDOW_DAYS:
        return candidate.year - 1
    return candidate.year


def _next_holiday(name: str, today: date, year_word: str | None) -> date | None:
    def occurrence(year: int) -> date | None:
        if name in ("春节", "过年", "过完年"):
            return SPRING_FESTIVAL.get(year)
        fixed = {"元旦": (1, 1), "国庆": (10, 1), "国庆节": (10, 1), "劳动节": (5, 1),
                 "五一": (5, 1), "十一": (10, 1), "圣诞": (12, 25), "圣诞节": (12, 25)}
        month, day = fixed[name]
        return date(year, month, day)

    if year_word:
        return occurrence(today.year + _YEAR_OFFSETS[year_word])
    for year in (today.year, today.year + 1):
        value = occurrence(year)
        if value is not None and value >= today:
            return value
    return None


_YEAR_OFFSETS = {"今年": 0, "明年": 1, "去年": -1, "后年": 2, "今": 0, "明": 1, "去": -1, "后": 2}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_REL_DAY_OFFSETS = {
    "今明两天": 1, "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "明儿": 1, "明儿个": 1,
    "今天": 0, "今日": 0, "今早": 0, "今晚": 0, "今儿": 0, "今儿个": 0,
    "昨天": -1, "昨日": -1, "昨晚": -1, "昨儿": -1, "昨儿个": -1, "前天": -2, "大前天": -3,
}
_WEEK_OFFSETS = {"下下": 2, "下": 1, "上上": -2, "上": -1, "本": 0, "这": 0, "今": 0}
_MONTH_OFFSETS = {"下下": 2, "下": 1, "本": 0, "这": 0, "当": 0, "上上": -2, "上": -1}


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
        for match in _CLAUSE_BREAK_RE.finditer(self.text, 0, self.start):
            left = match.end()
        right_match = _CLAUSE_BREAK_RE.search(self.text, self.end)
        right = right_match.start() if right_match else len(self.text)
        clause = self.text[left:self.start] + self.text[self.end:right]
        return _PAST_MARK_RE.search(clause) is not None


# A handler returns (value, precision, relation or None to keep the suffix relation).
_Resolved = tuple[date, str, "str | None"]


def _resolve_ymd(m: re.Match, ctx: _Context) -> _Resolved | None:
    year = _cn_year(m["y"] or m["ycn"])
    if m["sep"]:
        value = _safe_date(year, int(m["m2"]), int(m["d2"]))
        return (value, "day", None) if value else None
    month = _small_int(m["m"])
    if month is None:
        return None
    if m["d"] is None:
        return date(year, month, 1), "month", None
    day = _small_int(m["d"])
    value = _safe_date(year, month, day) if day else None
    return (value, "day", None) if value else None


def _part_day(part: str, year: int, month: int) -> date:
    part = part.lstrip("月")
    if part in ("底", "末"):
        return _month_end(year, month)
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
        year, month = _add_months(today.year, today.month, _MONTH_OFFSETS[prefix])
    else:
        month = _small_int(m["m"])
        if month is None or not 1 <= month <= 12:
            return None
        if m["yp"]:
            year = today.year + _YEAR_OFFSETS[m["yp"]]
        elif day_token is not None:
            day = _small_int(day_token)
            found = _year_for_month_day(today, month, day) if day else None
            if found is None:
                return None
            year = found
        else:
            year = _year_for_month_day(today, month, 1 if part is None or part.lstrip("月") == "初" else 28) or today.year
    if day_token is not None:
        day = _small_int(day_token)
        value = _safe_date(year, month, day) if day else None
        return (value, "day", None) if value else None
    if part:
        return _part_day(part, year, month), "day", None
    if ctx.relation == "before" and ctx.text[ctx.end - 1] in "内":
        return _month_end(year, month), "day", "before"
    return date(year, month, 1), "month", None


def _resolve_bare_month_part(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    part = m["p1"] or m["p2"]
    year, month = today.year, today.month
    if today.day > _PART_WINDOW_END[part] and not ctx.is_past_clause():
        year, month = _add_months(year, month, 1)
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
        year = today.year + _YEAR_OFFSETS[prefix]
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
    festival = _next_holiday("春节", today, None)
    return (festival, "day", "after") if festival else None


def _resolve_week(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    monday = today - timedelta(days=today.weekday())
    prefix, weekday_token = m["wp"], m["wd"]
    if prefix is None and weekday_token is None:
        return None
    if prefix is not None:
        offset = _WEEK_OFFSETS[prefix.replace("个", "")]
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
        return week_monday + timedelta(days=_WEEKDAYS[weekday_token]), "day", None

    if weekday_token in ("中", "初"):
        return None
    if weekday_token == "末":
        if today.weekday() >= 5:
            return today, "day", None
        return monday + timedelta(days=5), "day", None
    value = monday + timedelta(days=_WEEKDAYS[weekday_token])
    if value < today and not ctx.is_past_clause():
        value += timedelta(weeks=1)
    elif value == today and ctx.relation == "before":
        value += timedelta(weeks=1)
    return value, "day", None


def _resolve_rel_day(m: re.Match, ctx: _Context) -> _Resolved | None:
    value = ctx.today + timedelta(days=_REL_DAY_OFFSETS[m.group()])
    # 今明两天 (today or tomorrow) means by tomorrow.
    return value, "day", "before" if m.group() == "今明两天" else None


def _resolve_day_only(m: re.Match, ctx: _Context) -> _Resolved | None:
    today = ctx.today
    day = _small_int(m["d"])
    if day is None or not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    if day < today.day and not ctx.is_past_clause():
        year, month = _add_months(year, month, 1)
    for _ in range(3):
        value = _safe_date(year, month, day)
        if value is not None:
            return value, "day", None
        year, month = _add_months(year, month, 1)
    return None


def _duration_count(token: str) -> float | None:
    if token == "半":
        return 0.5
    if token == "几":
        return None
    value = _small_int(token)
    if value is not None:
        return value
    # 一两天, 两三周: a rough range; take the upper end.
    if len(token) == 2 and all(ch in _CN_DIGITS for ch in token):
        return max(_CN_DIGITS[ch] for ch in token)
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
        value = _add_working_days(today, int(count))
    elif unit.endswith(("周", "星期", "礼拜")):
        value = today + timedelta(days=sign * round(count * 7))
    else:
        months = {"个月": count, "个半月": count + 0.5, "年": count * 12}[unit]
        whole = int(months)
        year, month = _add_months(today.year, today.month, sign * whole)
        value = date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        if months != whole:
            value += timedelta(days=sign * 15)
    return value, "day", relation


def _resolve_holiday(m: re.Match, ctx: _Context) -> _Resolved | None:
    name = m["h"]
    value = _next_holiday(name, ctx.today, m["yp"])
    if value is None:
        return None
    if name == "过完年":
        return value, "day", "after"
    if ctx.relation == "before" and ctx.text[ctx.end - 1] != "内":
        return value - timedelta(days=1), "day", None
    return value, "day", None


def _resolve_numeric_md(m: re.Match, ctx: _Context) -> _Resolved | None:
    following = ctx.text[m.end():m.end() + 2].lstrip()
    if m["suf"] is None and following[:1] in _UNIT_AFTER:
        return None
    # 3.5 or 12.5 is more often a decimal (a price, a gap) than a date, so a dotted
    # form with a one-digit day needs 号/日 or a date word after it (1.8前, 1.8开标).
    if m["sep"] == "." and len(m["d"]) == 1 and m["suf"] is None:
        if not _DATE_CONTEXT_AFTER_RE.match(ctx.text, m.end()):
            return None
    month, day = int(m["m"]), int(m["d"])
    year = _year_for_month_day(ctx.today, month, day)
    if year is None:
        return None
    value = _safe_date(year, month, day)
    return (value, "day", None) if value else None


_Handler = Callable[[re.Match, _Context], "_Resolved | None"]
_RULES: tuple[tuple[re.Pattern, _Handler], ...] = (
    (_YMD_RE, _resolve_ymd),
    (_MONTH_RE, _resolve_month),
    (_BARE_MONTH_PART_RE, _resolve_bare_month_part),
    (_YEAR_PART_RE, _resolve_year_part),
    (_WEEK_RE, _resolve_week),
    (_REL_DAY_RE, _resolve_rel_day),
    (_DAY_ONLY_RE, _resolve_day_only),
    (_DURATION_RE, _resolve_duration),
    (_HOLIDAY_RE, _resolve_holiday),
    (_NUMERIC_MD_RE, _resolve_numeric_md),
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
        if _DURATION_RE is not match.re:
            qualifier = _TIME_QUALIFIER_RE.match(text, end, next_start)
            if qualifier and qualifier.group().strip():
                end = qualifier.end()
            suffix = _RELATION_RE.match(text, end, next_start)
            if suffix:
                end = suffix.end()
                relation = _RELATION_WORDS[suffix.group()]
        if relation == "on" and _BEFORE_PREFIX_RE.search(text, max(0, start - 4), start):
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
            is_past=_period_end(value, precision) < today,
        ))
    return mentions
