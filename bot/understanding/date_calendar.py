"""Calendar arithmetic for resolving dates in notes: month ends, working days, the year of
a month and day written without one, and the holidays notes name."""

import calendar
from datetime import date, timedelta

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


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def add_working_days(start: date, count: int) -> date:
    # NOTE: skips Saturdays and Sundays only; public holidays and the
    # make-up working weekends around them are not modelled.
    current = start
    while count > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current


def period_end(value: date, precision: str) -> date:
    if precision == "week":
        return value + timedelta(days=6 - value.weekday())
    if precision == "month":
        return month_end(value.year, value.month)
    return value


def year_for_month_day(today: date, month: int, day: int) -> int | None:
    """Pick the year for a month/day written without one (see the module rules)."""
    candidate = safe_date(today.year, month, day)
    if candidate is None:
        # 2月29日 outside a leap year: try the neighbouring years.
        for year in (today.year + 1, today.year - 1):
            if safe_date(year, month, day) is not None and abs(year - today.year) == 1:
                candidate = date(year, month, day)
                break
        if candidate is None:
            return None
    if (today - candidate).days > PAST_WINDOW_DAYS:
        return candidate.year + 1
    if (candidate - today).days > FUTURE_WINDOW_DAYS:
        return candidate.year - 1
    return candidate.year


def next_holiday(name: str, today: date, year_word: str | None) -> date | None:
    def occurrence(year: int) -> date | None:
        if name in ("春节", "过年", "过完年"):
            return SPRING_FESTIVAL.get(year)
        fixed = {"元旦": (1, 1), "国庆": (10, 1), "国庆节": (10, 1), "劳动节": (5, 1),
                 "五一": (5, 1), "十一": (10, 1), "圣诞": (12, 25), "圣诞节": (12, 25)}
        month, day = fixed[name]
        return date(year, month, day)

    if year_word:
        return occurrence(today.year + YEAR_OFFSETS[year_word])
    for year in (today.year, today.year + 1):
        value = occurrence(year)
        if value is not None and value >= today:
            return value
    return None


YEAR_OFFSETS = {"今年": 0, "明年": 1, "去年": -1, "后年": 2, "今": 0, "明": 1, "去": -1, "后": 2}
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
REL_DAY_OFFSETS = {
    "今明两天": 1, "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明早": 1, "明晚": 1, "明儿": 1, "明儿个": 1,
    "今天": 0, "今日": 0, "今早": 0, "今晚": 0, "今儿": 0, "今儿个": 0,
    "昨天": -1, "昨日": -1, "昨晚": -1, "昨儿": -1, "昨儿个": -1, "前天": -2, "大前天": -3,
}
WEEK_OFFSETS = {"下下": 2, "下": 1, "上上": -2, "上": -1, "本": 0, "这": 0, "今": 0}
MONTH_OFFSETS = {"下下": 2, "下": 1, "本": 0, "这": 0, "当": 0, "上上": -2, "上": -1}
