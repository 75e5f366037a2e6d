"""Quantities, money, unit prices and percentages found in a note.

Scanning runs on the masked text, so dates, phone numbers and product codes claimed earlier
(P.O 42.5, C30) are never read as numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.understanding.lexicon import Lexicon
from bot.understanding.note.numerals import NUMBER_PATTERN, parse_numeral
from bot.understanding.note.text import NoteText

QUANTITY = "quantity"
MONEY = "money"
PRICE = "price"
PERCENT = "percent"

# A value written in 块 below this is money (5块一方, 再让2块); from here on it counts pieces.
MIN_PIECE_COUNT = 1000


@dataclass
class Measure:
    start: int
    end: int
    kind: str
    value: float
    unit: str | None = None
    written_unit: str | None = None


@dataclass(frozen=True)
class _Patterns:
    number: re.Pattern[str]
    price_tail: re.Pattern[str]
    quantity_tail: re.Pattern[str]
    per_unit_before: re.Pattern[str]


_MONEY_TAIL = re.compile(r"\s?(?:多|余)?\s?(?:万元|万块|元|块钱|块|圆|rmb)")
_PERCENT_TAIL = re.compile(r"\s?(?:%|个点)")
_PERCENT_WORDS = re.compile(r"百分之([一二三四五六七八九十百零两\d.]+)")
_APPROXIMATE_TAIL = re.compile(r"\s?(?:多|余|来)")
# A bare number right after one of these is a unit price (单价300, 价格按上次的310).
_PRICE_BEFORE = re.compile(r"(?:单价|价格|报价|价钱)\s?(?:是|为|按|:|报了?|报的|给了?|给的|定在|谈到)?\s?(?:上次的?)?\s?$")


# Count words that the catalog units omit but reps use for deliveries (两车, 300袋). They are
# quantities only, and the unit keeps the rep's word.
EXTRA_COUNT_UNITS = ("车", "袋", "包", "桶", "托")


@lru_cache(maxsize=32)
def _patterns(unit_pattern: str) -> _Patterns:
    units = rf"(?P<unit>{unit_pattern})(?![a-zA-Z])"
    counts = "|".join(EXTRA_COUNT_UNITS)
    return _Patterns(
        number=re.compile(NUMBER_PATTERN),
        price_tail=re.compile(rf"\s?(?:元|块钱|块)?\s?(?:/|每|一)\s?{units}"),
        quantity_tail=re.compile(rf"\s?(?:多|余|来)?\s?(?:{units}|(?P<count>{counts}))"),
        per_unit_before=re.compile(rf"(?:每|一)\s?{units}\s?(?:价格?|单价)?\s?(?:是|为|要|按)?\s?$"),
    )


def find_measures(note: NoteText, lexicon: Lexicon) -> list[Measure]:
    """Return every number in the unmasked text that carries a unit, a currency or a %."""
    masked = note.masked
    patterns = _patterns(lexicon.unit_pattern)
    measures: list[Measure] = []

    for match in patterns.number.finditer(masked):
        start, end = match.span()
        written = match.group()
        if start > 0 and masked[start - 1] == "第":
            continue
        if start > 0 and masked[start - 1].isalpha() and masked[start - 1].isascii():
            continue  # part of a code such as C35 or 50mm handled elsewhere
        value = parse_numeral(written)
        if value is None:
            continue
        measure = _classify(masked, start, end, written, value, patterns, lexicon)
        if measure is not None:
            measures.append(measure)

    for match in _PERCENT_WORDS.finditer(masked):
        value = parse_numeral(match.group(1))
        if value is not None:
            measures.append(Measure(match.start(), match.end(), PERCENT, value))
    measures.sort(key=lambda m: m.start)
    return measures


def _classify(
    masked: str,
    start: int,
    end: int,
    written: str,
    value: float,
    patterns: _Patterns,
    lexicon: Lexicon,
) -> Measure | None:
    tail = masked[end : end + 12]

    price = patterns.price_tail.match(tail)
    if price:
        unit = lexicon.canonical_unit(price.group("unit"))
        return Measure(start, end + price.end(), PRICE, value, unit, price.group("unit"))

    percent = _PERCENT_TAIL.match(tail)
    if percent:
        return Measure(start, end + percent.end(), PERCENT, value)

    money = _MONEY_TAIL.match(tail)
    if money and not (money.group().strip().startswith("块") and value >= MIN_PIECE_COUNT):
        per_unit = patterns.per_unit_before.search(masked, max(0, start - 8), start)
        if per_unit:
            unit = lexicon.canonical_unit(per_unit.group("unit"))
            return Measure(per_unit.start(), end + money.end(), PRICE, value, unit, per_unit.group("unit"))
        return Measure(start, end + money.end(), MONEY, value)

    quantity = patterns.quantity_tail.match(tail)
    if quantity:
        if written == "一":
            return None  # 一吨, 一方 name the unit of a price, not an amount of goods
        written_unit = quantity.group("unit") or quantity.group("count")
        unit = lexicon.canonical_unit(written_unit) or written_unit
        return Measure(start, end + quantity.end(), QUANTITY, value, unit, written_unit)

    if re.search(r"[万亿萬億wWkK]\s?$", written):
        approximate = _APPROXIMATE_TAIL.match(tail)
        return Measure(start, end + (approximate.end() if approximate else 0), MONEY, value)
    if _PRICE_BEFORE.search(masked, max(0, start - 8), start) and re.fullmatch(r"[\d.]+", written):
        return Measure(start, end, PRICE, value)
    per_unit = patterns.per_unit_before.search(masked, max(0, start - 8), start)
    if per_unit and re.fullmatch(r"[\d.]+", written):
        # 一吨280, 每方405: a bare figure after "per unit" is a unit price.
        unit = lexicon.canonical_unit(per_unit.group("unit"))
        return Measure(per_unit.start(), end, PRICE, value, unit, per_unit.group("unit"))
    return None
