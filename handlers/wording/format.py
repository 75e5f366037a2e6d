"""Formatting numbers, dates and money the way reps read them."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"
MAX_REPLY_BYTES = 2048


def money(value: Decimal | float | int | None) -> str:
    """Format CNY: 800000 → 80万元, 10850 → 10,850元, 15680000 → 1,568万元."""
    if value is None:
        return "未知"
    amount = Decimal(str(value))
    if abs(amount) >= 10000:
        wan = (amount / 10000).quantize(Decimal("0.01")).normalize()
        return f"{wan:,f}万元"
    return f"{amount.quantize(Decimal('0.01')).normalize():,f}元"


def quantity(value: Decimal | float | None, unit: str | None) -> str:
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:,f}{unit or ''}"


def day(value: date | None, today: date | None = None) -> str:
    """Format a date as 12月9日(周三), with the year when it differs from today's."""
    if value is None:
        return "未定"
    text = f"{value.month}月{value.day}日(周{WEEKDAYS[value.weekday()]})"
    if today is not None and value.year != today.year:
        text = f"{value.year}年{text}"
    return text


def local_day(moment: datetime) -> date:
    """Return the calendar date of a stored (UTC) time in Shanghai, where reps live."""
    return moment.astimezone(SHANGHAI).date()


def fit_reply(text: str, limit: int = MAX_REPLY_BYTES) -> str:
    """Cut a reply to at most `limit` bytes of UTF-8, ending it with an ellipsis when cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    encoded = text.encode("utf-8")[: limit - len("…".encode("utf-8"))]
    return encoded.decode("utf-8", errors="ignore") + "…"
