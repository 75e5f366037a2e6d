"""Numbers written in notes: Arabic and Chinese numerals, 万/亿/w/k, 大写 and rough ranges.

`NUMBER_PATTERN` finds a numeral and `parse_numeral` turns the matched text into a value with
`bot.understanding.numbers.parse_number`. A rough range (三四百, 两三万, 300-400) becomes its
midpoint, which lies inside the range.
"""

from __future__ import annotations

import re

from bot.understanding.numbers import parse_number

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
CN_NUMERAL_CHARS = "".join(_DIGITS) + "十拾百佰千仟万萬亿億"

_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MULTIPLIER = r"(?:[十百千万亿萬億]+|[kKwW](?![a-zA-Z]))"
# The space before a multiplier (1.2 万) belongs to the numeral only when a multiplier follows.
_SINGLE = rf"(?:{_ARABIC}(?:\s?{_MULTIPLIER})?|[{CN_NUMERAL_CHARS}]+)"

# One numeral, or two joined by a range sign (300-400, 3到4万).
NUMBER_PATTERN = rf"{_SINGLE}(?:\s?[-~～到至]\s?{_SINGLE})?"

_RANGE_SPLIT_RE = re.compile(r"\s?[-~～到至]\s?")


def _parse_single(text: str) -> float | None:
    text = text.strip()
    # 三四百, 两三万: two consecutive digits one apart make a rough range.
    if len(text) >= 2 and text[0] in _DIGITS and text[1] in _DIGITS:
        low_digit, high_digit = _DIGITS[text[0]], _DIGITS[text[1]]
        if high_digit != low_digit + 1:
            return None
        rest = text[2:]
        low = parse_number(text[0] + rest)
        high = parse_number(text[1] + rest)
        if low is None or high is None:
            return None
        return (low + high) / 2
    return parse_number(text)


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
