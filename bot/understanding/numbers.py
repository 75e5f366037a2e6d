"""Find quantities and money amounts in Chinese visit notes.

* `parse_number(span)` converts one number span (Arabic, Chinese lower-case or
  大写 numerals, with 万/亿/千/w/k multipliers) to a float.
* `find_numbers(text)` returns every quantity with its unit as written, range
  bounds and an approximate flag. Digits inside phone numbers, license plates,
  product and contract codes, dates and clock times are skipped, and so are
  numeral characters inside ordinary words (统一, 一下, 第一次 …).
* `find_money(text)` returns the mentions that are amounts of money in CNY,
  marking unit prices (305元/吨, 310一吨, 每吨15元) and price differences
  (每吨再降15元, 高了5块一方).

Conventions:

* A multiplier is part of the number: 156.8万元 has value 1568000 and unit "元",
  and 1.2万方 has value 12000 and unit "方".
* A range (三四百, 300-400, 3到5万) has `low` and `high`, and `value` is their
  midpoint.
* A mention's span covers the number, a following 多/余 and the unit.
  Approximate markers (约, 左右 …) set `approximate` but are outside the span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import cn2an

from bot.understanding.dates import SHANGHAI, find_dates

__all__ = ["NumberMention", "MoneyMention", "parse_number", "find_numbers", "find_money"]


@dataclass(frozen=True)
class NumberMention:
    start: int
    end: int
    text: str
    value: float  # the midpoint for a range
    low: float
    high: float
    approximate: bool
    unit: str | None  # as written, normalized only for ％ → %; None when no unit follows


@dataclass(frozen=True)
class MoneyMention:
    start: int
    end: int
    text: str
    value: float  # CNY
    per_unit: str | None  # the unit of a unit price (吨 for 305元/吨), None for a total
    is_difference: bool = False  # a price change or gap (降15元, 高了5块), not a price


# ---------------------------------------------------------------------------
# Parsing one number span

_MULTIPLIERS = {
    "万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8, "千": 1e3, "百": 1e2,
    "w": 1e4, "W": 1e4, "k": 1e3, "K": 1e3,
    "千万": 1e7, "百万": 1e6, "万亿": 1e12,
}
_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_CAPITAL_TO_LOWER = str.maketrans({
    "壹": "一", "贰": "二", "貳": "二", "叁": "三", "參": "三", "肆": "四", "伍": "五",
    "陆": "六", "陸": "六", "柒": "七", "捌": "八", "玖": "九", "拾": "十",
    "佰": "百", "仟": "千", "萬": "万", "億": "亿",
})

# 壹佰元伍角, 一百二十万元整: the yuan part, then optional 角 (0.1) and 分 (0.01).
_YUAN_SUFFIX_RE = re.compile(
    r"(?P<yuan>.+?)[元圆](?:(?P<jiao>[零壹贰叁肆伍陆柒捌玖一二三四五六七八九])角)?"
    r"(?:零?(?P<fen>[壹贰叁肆伍陆柒捌玖一二三四五六七八九])分)?整?|(?P<whole>.+?)整"
)
_ARABIC_SPAN_RE = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?P<mult>千万|百万|万亿|万|亿|千|百|[wWkK])?"
)
_CN_RANGE_SPAN_RE = re.compile(
    r"(?P<a>[一二两三四五六七八九])(?P<b>[一二两三四五六七八九])(?P<mult>十万|百万|千万|十|百|千|万|亿)?"
)


def _cn_integer(token: str) -> int | None:
    try:
        return int(cn2an.cn2an(token, "normal"))
    except (ValueError, KeyError):
        return None


@lru_cache(maxsize=4096)
def parse_number(text: str) -> float | None:
    """Parse one number span such as 五百, 1.2万, 1,200, 壹佰贰拾万元整, 5w or 8k.

    Returns None for text that is not a single number, including ranges such
    as 三四百 or 300-400 (use `find_numbers` for those).
    """
    span = text.strip().replace(" ", "")
    cents = 0.0
    yuan = _YUAN_SUFFIX_RE.fullmatch(span)
    if yuan:
        span = yuan["yuan"] or yuan["whole"]
        cents = sum(_CN_DIGITS[digit.translate(_CAPITAL_TO_LOWER)] * scale
                    for digit, scale in ((yuan["jiao"], 0.1), (yuan["fen"], 0.01)) if digit)
    if not span:
        return None
    value = _parse_plain_number(span)
    return value + cents if value is not None else None


def _parse_plain_number(span: str) -> float | None:
    arabic = _ARABIC_SPAN_RE.fullmatch(span)
    if arabic:
        value = float(arabic["num"].replace(",", ""))
        return value * _MULTIPLIERS[arabic["mult"]] if arabic["mult"] else value

    lower = span.translate(_CAPITAL_TO_LOWER)
    if not re.fullmatch(r"[零〇一二两三四五六七八九十百千万亿点]+", lower):
        return None
    if _CN_RANGE_SPAN_RE.fullmatch(lower) and _is_adjacent_pair(lower[0], lower[1]):
        return None
    if "点" in lower:
        return _parse_cn_decimal(lower)
    value = _cn_integer(lower)
    return float(value) if value is not None else None


def _parse_cn_decimal(token: str) -> float | None:
    """Parse 一点五万 or 三点二, because cn2an 0.5.24 rejects 一点五万 in "normal" mode."""
    integer_part, _, rest = token.partition("点")
    multiplier = 1.0
    if rest and rest[-1] in "万亿":
        multiplier = _MULTIPLIERS[rest[-1]]
        rest = rest[:-1]
    if not rest or any(ch not in _CN_DIGITS for ch in rest):
        return None
    integer = _cn_integer(integer_part) if integer_part else 0
    if integer is None:
        return None
    fraction = float("0." + "".join(str(_CN_DIGITS[ch]) for ch in rest))
    return (integer + fraction) * multiplier


def _is_adjacent_pair(first: str, second: str) -> bool:
    """Tell whether two numerals form a rough range: 三四, 五六, 一两, 两三, 三五."""
    a, b = _CN_DIGITS.get(first), _CN_DIGITS.get(second)
    if a is None or b is None:
        return False
    return b == a + 1 or (a, b) == (3, 5)


# ---------------------------------------------------------------------------
# Spans that contain digits but are not quantities

_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_BLOCK_PATTERNS = [
    # Mobile numbers: 13912345678, 138-0571-2233, 186 2345 6789, +86 prefix.
    r"(?:\+?86[\s-]?)?(?<!\d)1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)",
    # Landlines with an area code: 0513-85123456, (0513)85123456, 400-820-1234.
    r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3}[\s-]?)\d{7,8}(?!\d)",
    r"(?<!\d)400[\s-]?\d{3}[\s-]?\d{4}(?!\d)",
    # License plates: 苏E12345, 浙A·8B123.
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·\s]?[A-Z0-9]{5,6}",
    # Cement grades with optional dot and space: P.O42.5, P.O 42.5, PO42.5, P.C32.5R.
    r"(?<![A-Za-z])P\s?[.·]?\s?[OCSFPI]\s?[.·]?\s?\d{2}(?:\.\d)?R?",
    # Latin-prefixed codes: C30, c40, M7.5, HT-2026-0012, XPS250.
    r"(?<![A-Za-z0-9])[A-Za-z]+(?:[.\-][A-Za-z]+)*[.\-]?\d[A-Za-z0-9]*(?:[.\-][A-Za-z0-9]+)*",
    # Clock times: 9点, 9点半, 10:30, 三点钟, 十点二十分.
    r"(?<![\d.])\d{1,2}(?:[点时](?:半|钟|\d{1,2}分|[一二三]刻)?|[:：][0-5]\d)",
    rf"(?<![{_CN_NUM}])[一二两三四五六七八九十]{{1,3}}点(?:半|钟|[一二三]刻|[零一二三四五六七八九十]{{1,3}}分|(?![零一二三四五六七八九]))",
    # Designations: 1号楼, 3号线, 中山路15号 (a day of month is blocked as a date).
    rf"[\d{_CN_NUM}]+号",
    # Ordinals: 第一次, 第三批, 第2期.
    rf"第[\d{_CN_NUM}]+",
    # Words that contain numeral characters but are not numbers.
    # NOTE: 一个 is not listed, so the article in 出一个报价 is a count of 1 with unit 个.
    r"统一|唯一|万一|之一|逐一|不一|一一|一下|一起|一直|一些|一般|一定|一样|一边|一旦|一致|一切|一共"
    r"|一向|一再|一律|一贯|一概|一番|一阵|一会|一带|一流|一同|一道|一体|一开始|一口价|一方面"
    r"|一把手|一手|一线|一心|一眼|一时|一并|一味|一点点|一块儿|一块去|一揽子|一站式|一系列"
    r"|一部分|一半|一旁|一头|一举|一路|一模一样|一五一十|乱七八糟|七七八八|三思|四处|五金"
    r"|三方(?=协议|合同|会谈|会议|监理|检测)|万万|十分(?!钟)|千万(?=别|不|要|记|注意|小心)|[一二三四五六七八九十]级|双十一|五一|十一(?=长假|假期|黄金周)",
]
_BLOCK_RE = re.compile("|".join(f"(?:{pattern})" for pattern in _BLOCK_PATTERNS))

# Any fixed instant works: only the spans of date mentions are used here.
_DATE_SPAN_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=SHANGHAI)


def _blocked_spans(text: str) -> list[tuple[int, int]]:
    spans = [match.span() for match in _BLOCK_RE.finditer(text)]
    spans.extend((mention.start, mention.end) for mention in find_dates(text, _DATE_SPAN_NOW))
    return spans


# ---------------------------------------------------------------------------
# Number mentions

_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_ARABIC_MULT = r"\s?(?:千万|百万|万|亿|千|[wW](?![A-Za-z])|[kK](?![A-Za-z]))"
_CN_SINGLE = rf"[零〇一二两三四五六七八九十][{_CN_NUM}]*(?:点[零一二三四五六七八九]+[万亿]?)?"
_CAPITAL = r"[壹贰貳叁參肆伍陆陸柒捌玖拾][零壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億]*(?:[元圆](?:零?[壹贰叁肆伍陆柒捌玖][角分]){0,2}整?)?"
_RANGE_SEP = r"\s?(?:-|~|～|—|–|到|至)\s?"

_NUMBER_RE = re.compile(
    # 百分之三十 → 30 %.
    rf"(?P<percent>百分之(?P<pnum>{_ARABIC}|[零〇一二两三四五六七八九十百点]+))"
    # 300-400, 3到5万, 三到五万, 1.2-1.5万.
    rf"|(?P<xrange>(?P<lo>(?<![\d.,])(?:{_ARABIC})(?:{_ARABIC_MULT})?|(?<![{_CN_NUM}])[一二两三四五六七八九十]{{1,3}})"
    rf"{_RANGE_SEP}(?P<hi>(?:{_ARABIC})(?:{_ARABIC_MULT})?(?![\d.])|[一二两三四五六七八九十百千万亿]{{1,5}}))"
    # 三四百, 五六千, 两三万.
    rf"|(?P<crange>(?<![{_CN_NUM}])[一二两三四五六七八九][一二两三四五六七八九](?:十万|百万|千万|十|百|千|万|亿)?(?![{_CN_NUM}点]))"
    rf"|(?P<capital>{_CAPITAL})"
    rf"|(?P<arabic>(?<![\d.,])(?:{_ARABIC})(?:{_ARABIC_MULT})?(?![\d]))"
    rf"|(?P<chinese>(?<![{_CN_NUM}]){_CN_SINGLE})"
)

_UNIT_RE = re.compile(
    r"\s?(?P<more>多|余|来(?=[吨方张卷件车块元个平立米]))?\s?"
    r"(?P<unit>立方米|平方米|平方|平米|平(?![时常均安台])|立方|m³|m3|㎡|m²|m2|块钱|人民币|元|圆|块|吨|方|张|卷|件|车|袋|包|桶"
    r"|箱|套|台|个月|个|家|次|根|支|片|捆|托|批|期|层|毫米|厘米|公分|公里|公斤|千克|米|克|mm|MM|cm|km|kg|KG"
    r"|%|％|‰|折|成(?!本|交|品|功|为|了)|倍|分钟|小时|天|周|月|年|人|栋|户)"
)
_APPROX_BEFORE_RE = re.compile(r"约|大约|大概|大致|估计|预计|差不多|将近|接近|近乎|可能")
_APPROX_AFTER_RE = re.compile(r"\s?(?:左右|上下(?!游|班|楼)|出头|多(?!少)|余)")
_CLAUSE_BREAK = "，,。;；!！?？\n、:："
_APPROX_WINDOW = 8
_PER_UNIT_WORDS = "吨|方|立方|平方米|平方|平米|平|张|卷|件|车|袋|包|桶|箱|套|台|个|块|米|公斤|千克|kg"
# 一吨 / 一方 after a price (310一吨, 5块一方) or before one (一吨310) means "per ton".
_PER_ONE_RE = re.compile(rf"一(?P<unit>{_PER_UNIT_WORDS})")


def _clause_before(text: str, start: int, window: int) -> str:
    left = max(0, start - window)
    segment = text[left:start]
    for index in range(len(segment) - 1, -1, -1):
        if segment[index] in _CLAUSE_BREAK:
            return segment[index + 1:]
    return segment


def _overlaps(span: tuple[int, int], blocked: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start < b_end and b_start < end for b_start, b_end in blocked)


def _value_with_multiplier(token: str) -> tuple[float | None, float]:
    """Parse a range bound and return (value, the multiplier it was written with)."""
    value = parse_number(token)
    stripped = token.strip()
    for suffix in ("千万", "百万", "万", "亿", "千", "百", "十", "w", "W", "k", "K"):
        if stripped.endswith(suffix) and len(stripped) > len(suffix):
            return value, _MULTIPLIERS.get(suffix, 10.0)
    return value, 1.0


def _range_bounds(match: re.Match) -> tuple[float, float] | None:
    if match["crange"]:
        token = match["crange"]
        low_digit, high_digit = _CN_DIGITS[token[0]], _CN_DIGITS[token[1]]
        if not _is_adjacent_pair(token[0], token[1]):
            return None
        multiplier = 1.0
        for ch in token[2:]:
            multiplier *= {"十": 10, "百": 100, "千": 1000, "万": 1e4, "亿": 1e8}[ch]
        return low_digit * multiplier, high_digit * multiplier
    low, low_mult = _value_with_multiplier(match["lo"])
    high, high_mult = _value_with_multiplier(match["hi"])
    if low is None or high is None:
        return None
    if low_mult == 1.0 and high_mult != 1.0 and low < high / high_mult:
        low *= high_mult  # 3到5万: the multiplier applies to both ends.
    if low >= high:
        return None
    return low, high


def _single_value(match: re.Match) -> float | None:
    if match["percent"]:
        return parse_number(match["pnum"])
    token = match["capital"] or match["arabic"] or match["chinese"]
    return parse_number(token)


def find_numbers(text: str) -> list[NumberMention]:
    """Find quantities, amounts and percentages in `text`, in order of position."""
    blocked = _blocked_spans(text)
    mentions: list[NumberMention] = []
    for match in _NUMBER_RE.finditer(text):
        start, end = match.span()
        if _overlaps((start, end), blocked):
            continue

        if match["xrange"] or match["crange"]:
            bounds = _range_bounds(match)
            if bounds is None:
                continue
            low, high = bounds
            value = (low + high) / 2
        else:
            single = _single_value(match)
            if single is None:
                continue
            low = high = value = single

        unit = None
        if match["percent"]:
            unit = "%"
        elif match["capital"] and re.search("[元圆]", match["capital"]):
            unit = "元"
        more = False
        unit_match = _UNIT_RE.match(text, end) if unit is None else None
        if unit_match:
            unit = unit_match["unit"]
            more = unit_match["more"] is not None
            end = unit_match.end()
        if unit == "％":
            unit = "%"

        if match["chinese"] == "一" and unit is not None and _is_per_unit_one(text, start, end):
            continue

        approximate = (
            more
            or _APPROX_BEFORE_RE.search(_clause_before(text, start, _APPROX_WINDOW)) is not None
            or _APPROX_AFTER_RE.match(text, end) is not None
        )
        mentions.append(NumberMention(
            start=start, end=end, text=text[start:end], value=value,
            low=low, high=high, approximate=approximate, unit=unit,
        ))
    return mentions


def _is_per_unit_one(text: str, start: int, end: int) -> bool:
    """Tell whether 一吨 / 一方 at [start, end) is a "per ton" marker, not a quantity of 1."""
    before = text[max(0, start - 3):start]
    after = text[end:end + 2].lstrip()
    if re.search(r"[\d元块钱]$", before):
        return True
    return bool(after) and (after[0].isdigit() or after[0] in "块元" or after[0] in _CN_NUM)


# ---------------------------------------------------------------------------
# Money

_MONEY_UNITS = {"元", "圆", "块钱", "人民币"}
_MONEY_CUE_BEFORE_RE = re.compile(
    r"金额|预算|合同额|合同价|总价|总额|价|款|付|打|费|成本|投资|造价|资金|钱|标的|到账|欠|差|余额"
    r"|利润|销售额|营业额|收入|¥|￥|人民币"
)
_MONEY_CUE_AFTER_RE = re.compile(r"\s?(?:已?到账|没回|未回|没付|未付|的货款|货款|的款|的单子|的合同|块钱)")
_PRICE_CUE_RE = re.compile(r"(?:单价|价格|报价|价钱|价)(?:是|为|按|在)?$")
_DIFFERENCE_CUE_RE = re.compile(r"降|便宜|高了|高出|贵了|贵|低了|低|差价|让|优惠|涨|上调|下调|减|少了|多了")
# 价格涨了3.5 / 每吨再让5: a bare number right after a price change is money.
_PRICE_CHANGE_RE = re.compile(
    rf"(?:价|每(?:{_PER_UNIT_WORDS})).{{0,6}}?(?:降了?|便宜了?|高了|高出|贵了|低了|让|优惠|涨了?|上调|下调|减了?|少了|多了)\s?$"
)
_PER_SLASH_RE = re.compile(rf"\s?(?:/|每)\s?(?P<unit>{_PER_UNIT_WORDS})")
_PER_EACH_BEFORE_RE = re.compile(rf"每(?P<unit>{_PER_UNIT_WORDS})")
_PIECE_NOUN_RE = re.compile(r"\s?(?:板|砖|石|玻璃|钢|木|布|料|牌|瓦|地|田|片|块|样品|试块)")


def _money_per_unit(text: str, mention: NumberMention) -> str | None:
    """Find the unit of a unit price around a money mention, or None for a total."""
    slash = _PER_SLASH_RE.match(text, mention.end)
    if slash:
        return slash["unit"]
    after = _PER_ONE_RE.match(text, mention.end)
    if after:
        return after["unit"]
    before = _clause_before(text, mention.start, 8)
    per_unit_matches = list(_PER_EACH_BEFORE_RE.finditer(before))
    if per_unit_matches:
        return per_unit_matches[-1]["unit"]
    one_before = re.search(rf"一(?P<unit>{_PER_UNIT_WORDS})\s?$", before)
    if one_before:
        return one_before["unit"]
    return None


def _is_money(text: str, mention: NumberMention) -> bool:
    if mention.unit in _MONEY_UNITS:
        return True
    if mention.unit == "块":
        # 5块 and 让2块就签 are money; 三块板 and 两块砖 count pieces.
        return not _PIECE_NOUN_RE.match(text, mention.end)
    if mention.unit is not None:
        return False
    if re.search(r"(?:[¥￥]|人民币)\s?$", text[max(0, mention.start - 4):mention.start]):
        return True
    if re.match(r"[壹贰貳叁參肆伍陆陸柒捌玖拾]", mention.text):
        return True
    if _PER_ONE_RE.match(text, mention.end) or _PER_SLASH_RE.match(text, mention.end):
        return True
    before = _clause_before(text, mention.start, 10)
    if re.search(rf"(?:每|一)(?:{_PER_UNIT_WORDS})\s?$", before):
        return True
    if _PRICE_CUE_RE.search(before) or _PRICE_CHANGE_RE.search(before):
        return True
    has_multiplier = re.search(r"[万亿千wWkK]\s*$", mention.text) is not None
    if has_multiplier:
        return _MONEY_CUE_BEFORE_RE.search(before) is not None or _MONEY_CUE_AFTER_RE.match(text, mention.end) is not None
    return False


def find_money(text: str, numbers: list[NumberMention] | None = None) -> list[MoneyMention]:
    """Find amounts of money in CNY: totals, unit prices and price differences.

    Pass `numbers` when `find_numbers(text)` has already run, to skip running it again.
    """
    money: list[MoneyMention] = []
    for mention in find_numbers(text) if numbers is None else numbers:
        if not _is_money(text, mention):
            continue
        before = _clause_before(text, mention.start, 8)
        money.append(MoneyMention(
            start=mention.start,
            end=mention.end,
            text=mention.text,
            value=mention.value,
            per_unit=_money_per_unit(text, mention),
            is_difference=_DIFFERENCE_CUE_RE.search(before) is not None,
        ))
    return money
