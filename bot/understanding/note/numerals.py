"""Numbers written in notes: Arabic and Chinese numerals, 万/亿/w/k, 大写 and rough ranges.

`NUMBER_PATTERN` finds a numeral and `parse_numeral` turns the matched text into a value. A rough
range (三四百, 两三万, 300-400) becomes its midpoint, which lies inside the range.
"""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_LARGE_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_SUFFIX_MULTIPLIERS = {"k": 1000, "w": 10_000, **_SMALL_UNITS, **_LARGE_UNITS}

CN_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_LARGE_UNITS)

_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MULTIPLIER = r"(?:[十百千万亿萬億]+|[kKwW](?![a-zA-Z]))"
_SINGLE = rf"(?:{_ARABIC}\s?{_MULTIPLIER}?|[{CN_NUMERAL_CHARS}]+)"

# One numeral, or two joined by a range sign (300-400, 3到4万).
NUMBER_PATTERN = rf"{_SINGLE}(?:\s?[-~～到至]\s?{_SINGLE})?"

_ARABIC_RE = re.compile(rf"({_ARABIC})\s?({_MULTIPLIER})?$")
_RANGE_SPLIT_RE = re.compile(r"\s?[-~～到至]\s?")


def _parse_chinese(text: str) -> float | None:
    """Convert a Chinese numeral (五百, 一百二十万, 壹佰贰拾万, 一万五) to a number."""
    if not text or not any(ch in _DIGITS for ch in text) and text[0] not in "十拾":
        return None
    total = 0
    section = 0
    digit: int | None = None
    last_unit = 0
    for ch in text:
        if ch in _DIGITS:
            if digit is not None and digit != 0:
                return None  # two digits in a row outside a range: not a numeral
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            last_unit = _SMALL_UNITS[ch]
            digit = None
        elif ch in _LARGE_UNITS:
            unit = _LARGE_UNITS[ch]
            value = section + (digit or 0)
            if value == 0 and total == 0:
                value = 1
            if unit > 10_000:
                total = (total + value) * unit
            else:
                total += value * unit
            section = 0
            digit = None
            last_unit = unit
        else:
            return None
    if digit is not None:
        # 一千二 means 1200 and 一万五 means 15000: a trailing digit counts in tenths of the
        # last unit.
        if last_unit >= 100 and text[-2] in _SMALL_UNITS or text[-2:-1] in _LARGE_UNITS:
            section += digit * last_unit // 10
        else:
            section += digit
    return float(total + section)


def _parse_single(text: str) -> float | None:
    text = text.strip()
    match = _ARABIC_RE.match(text)
    if match:
        value = float(match.group(1).replace(",", ""))
        for ch in (match.group(2) or "").lower():
            value *= _SUFFIX_MULTIPLIERS[ch]
        return value
    # 三四百, 两三万: two consecutive digits make a rough range.
    if len(text) >= 2 and text[0] in _DIGITS and text[1] in _DIGITS:
        low_digit, high_digit = _DIGITS[text[0]], _DIGITS[text[1]]
        if high_digit == low_digit + 1:
            rest = text[2:]
            low = _parse_chinese(text[0] + rest)
            high = _parse_chinese(text[1] + rest)
            if low is not None and high is not None:
                return (low + high) / 2
        return None
    return _parse_chinese(text)


def parse_numeral(text: str) -> float | None:
    """Return the value of a numeral matched by `NUMBER_PATTERN`, or None when it is not one."""
    parts = _RANGE_SPLIT_RE.split(text.strip(), maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        low, high = _parse_single(parts[0]), _parse_single(parts[1])
        if low is None or high is None:
            return None
        # 3到4万: the multiplier written once applies to both ends.
        tail = re.search(_MULTIPLIER + "$", parts[1])
        if tail and high > low * 10 and re.fullmatch(_ARABIC, parts[0].strip()):
            low = _parse_single(parts[0] + tail.group())
        return (low + high) / 2 if low is not None else None
    return _parse_single(text)
