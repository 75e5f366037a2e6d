"""Products named in a note, matched to the catalog, with quantity, unit and unit price."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.understanding.lexicon import Lexicon
from bot.understanding.note.facts import ProductFact
from bot.understanding.note.measures import PRICE, QUANTITY, Measure
from bot.understanding.note.text import NoteText, Span

# Cement grades (P.O 52.5, P.S.A 32.5R) and concrete strength classes (C35) that the catalog
# lacks are still products. They keep the spelling the rep used.
PRODUCT_CODE_RE = re.compile(
    r"(?<![A-Za-z0-9.])(?:P\s?[.·]?\s?[OCSFPI](?:\s?[.·]?\s?[AB])?\s?[.·]?\s?\d{2}\.\d\s?R?"
    r"|[Cc][1-8][05])(?![A-Za-z0-9]|\.\d)(?P<kind>混凝土|商砼|水泥)?"
)

# Common building materials that a catalog may lack. A rep who asks for them names a product
# all the same, so they are reported by the word the rep wrote.
MATERIAL_NOUN_RE = re.compile(
    r"矿粉|粉煤灰|硅灰|减水剂|外加剂|膨胀剂|速凝剂|钢筋|螺纹钢|线材|盘螺|钢绞线|机制砂|河砂|黄砂|石子|碎石|"
    r"岩棉板|岩棉|玻璃棉|聚苯板|EPS板|瓷砖胶|瓷砖|腻子粉|石灰|抹灰石膏|防水涂料|聚氨酯涂料|JS涂料|"
    r"透水砖|路缘石|预制板|水泥砖|灰砂砖|红砖|轻质隔墙板|铝模板|木模板"
)

# A quantity after one of these is the sum over several products (总量五万方), not one product's.
TOTAL_BEFORE_RE = re.compile(r"(?:总量|总共|一共|合计|共计|加起来|总计)\S{0,4}$")

# A quantity after one of these replaces the one written before it.
CHANGE_CUE_RE = re.compile(r"(?:改成|改为|改到|变成|调整为|调整到|调到|增加到|加到|减到|减少到|降到|换成|追加到|最终)\s?$")

# Words before a price that make it a difference (再降15元) or a competitor's price.
PRICE_DIFFERENCE_RE = re.compile(r"比|差|降|让|便宜|贵|高了|低了|高出|低出|优惠|少|多了|涨|上调|下调")


@dataclass
class _ProductMention:
    span: Span
    index: int | None
    name: str


def find_products(note: NoteText, lexicon: Lexicon) -> list[_ProductMention]:
    """Find catalog products by name or alias, then product codes outside the catalog.

    Spans are masked so that the digits of P.O 42.5 or C30 are not read as numbers.
    """
    mentions: list[_ProductMention] = []
    if lexicon.product_regex is not None:
        for match in lexicon.product_regex.finditer(note.key):
            span = note.key_span_to_text(match.start(), match.end())
            if not _alphanumeric_edges_clear(note.text, span):
                continue
            if note.is_masked(span.start, span.end):
                continue
            index = lexicon.product_index_by_key[match.group()]
            mentions.append(_ProductMention(span, index, lexicon.products[index].name))
            note.mask(span.start, span.end)

    masked = note.masked
    for match in PRODUCT_CODE_RE.finditer(masked):
        name = "".join(match.group().split())
        mentions.append(_ProductMention(Span(match.start(), match.end()), None, name))
        note.mask(match.start(), match.end())
    masked = note.masked
    for match in MATERIAL_NOUN_RE.finditer(masked):
        mentions.append(_ProductMention(Span(match.start(), match.end()), None, match.group()))
        note.mask(match.start(), match.end())
    mentions.sort(key=lambda m: m.span.start)
    return mentions


def _alphanumeric_edges_clear(text: str, span: Span) -> bool:
    """Reject C30 inside C300 or PC30: a code must not run on into more letters or digits."""
    first, last = text[span.start], text[span.end - 1]
    if first.isascii() and first.isalnum() and span.start > 0:
        before = text[span.start - 1]
        if before.isascii() and before.isalnum():
            return False
    if last.isascii() and last.isalnum() and span.end < len(text):
        after = text[span.end]
        if after.isascii() and after.isalnum():
            return False
        if after == "." and text[span.end + 1 : span.end + 2].isdigit():
            return False
    return True


def build_product_facts(
    note: NoteText,
    lexicon: Lexicon,
    mentions: list[_ProductMention],
    measures: list[Measure],
    excluded_prices: set[int],
) -> list[ProductFact]:
    """Attach quantities and unit prices to the products they describe."""
    facts: dict[str, ProductFact] = {}
    default_units: dict[str, str | None] = {}
    for mention in mentions:
        if mention.name not in facts:
            product_id = lexicon.products[mention.index].id if mention.index is not None else None
            facts[mention.name] = ProductFact(mention.name, product_id, None, None, None)
            default_units[mention.name] = lexicon.products[mention.index].unit if mention.index is not None else None
    if not facts:
        return []

    changed: set[str] = set()
    for measure in measures:
        if measure.kind == QUANTITY and len(facts) > 1 and TOTAL_BEFORE_RE.search(
            note.text, max(0, measure.start - 8), measure.start
        ):
            continue
        if measure.kind == QUANTITY:
            owner = _owner(note, mentions, default_units, measure)
            if owner is None:
                continue
            fact = facts[owner]
            is_change = bool(CHANGE_CUE_RE.search(note.text, max(0, measure.start - 5), measure.start))
            if fact.quantity is None or (is_change and owner not in changed):
                fact.quantity = measure.value
                fact.unit = measure.unit or default_units[owner]
                if is_change:
                    changed.add(owner)
        elif measure.kind == PRICE and id(measure) not in excluded_prices:
            owner = _owner(note, mentions, default_units, measure)
            if owner is None:
                continue
            fact = facts[owner]
            if fact.unit_price is None:
                fact.unit_price = measure.value
                if fact.unit is None:
                    fact.unit = measure.unit or default_units[owner]

    for name, fact in facts.items():
        if fact.quantity is not None and fact.unit is None:
            fact.unit = default_units[name]
    return list(facts.values())


def _owner(
    note: NoteText,
    mentions: list[_ProductMention],
    default_units: dict[str, str | None],
    measure: Measure,
) -> str | None:
    """Pick the product a quantity or price belongs to.

    The nearest product before it in the same clause wins. Next comes the nearest product
    anywhere whose catalog unit is the measure's unit, then the only product of the note.
    """
    clause = note.clause_of(measure.start)
    same_clause = [m for m in mentions if m.span.end <= measure.start and note.clause_of(m.span.start) == clause]
    if same_clause:
        return same_clause[-1].name
    if measure.unit is not None:
        matching = [m for m in mentions if default_units.get(m.name) == measure.unit]
        if matching:
            before = [m for m in matching if m.span.end <= measure.start]
            return (before[-1] if before else matching[0]).name
    following = [m for m in mentions if m.span.start >= measure.end and note.clause_of(m.span.start) == clause]
    if following:
        return following[0].name
    names = {m.name for m in mentions}
    if len(names) == 1:
        only = next(iter(names))
        if measure.unit is None or default_units.get(only) in (None, measure.unit):
            return only
    return None
