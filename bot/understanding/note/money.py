"""The deal amount and the payment amount of a note.

Each sum of money is read by the words before it in its clause: a budget, contract, bid or
quote total is the deal amount; 回款, 货款, 尾款, 打款 and 首付款 make it a payment. A price
difference, a competitor's price or a unit price is neither.
"""

from __future__ import annotations

import bisect
import re

from bot.understanding.lexicon import Lexicon
from bot.understanding.note.facts import ProductFact
from bot.understanding.note.measures import MONEY, PERCENT, PRICE, Measure
from bot.understanding.note.products import PRICE_DIFFERENCE_RE
from bot.understanding.note.text import NoteText

AMOUNT_CUE_RE = re.compile(
    r"预算|合同金额|合同总额|合同总价|合同价|合同额|合同|总价|总金额|总额|金额|标的|投标价|投标总价|报价总|"
    r"中标价|中标金额|订单金额|货值|总计|合计|一共|共计|采购额|价值|总报价|报价|整单|这单|单子"
)
AMOUNT_AFTER_RE = re.compile(r"^\s?(?:的)?(?:单子|订单|合同|生意|项目|大单|标)")
PAYMENT_CUE_RE = re.compile(
    r"回款|货款|尾款|余款|打款|首付款|首付|预付款|预付|定金|订金|付款|欠款|欠|进度款|质保金|"
    r"到账|打过来|转账|汇款|结清|付清|付了|的款|款"
)
PAYMENT_AFTER_RE = re.compile(
    r"^\s?(?:已|已经)?\s?(?:到账|到了|收到|打过来|付了|回了|没回|未回|还没|的?(?:欠款|货款|尾款|余款|回款))"
)
ARRIVED_RE = re.compile(r"已到账|已经到账|到账了|已收到|收到了|已回|已经回|已付|已经付|打过来了|到了")
REMAINING_RE = re.compile(r"剩余|剩下|还剩|余款|尾款|还差|还欠|未付|没付")

# How far back in a clause a cue word still governs a sum.
CUE_WINDOW = 10


def find_amounts(
    note: NoteText,
    lexicon: Lexicon,
    measures: list[Measure],
) -> tuple[float | None, float | None, set[int]]:
    """Return (deal amount, payment amount, ids of price measures that are not our prices).

    The deal amount is None when no sum is cued as one; the caller may then compute it from
    the products with `price_times_quantity`. A percentage of payment (首付款30%) is taken of
    the cued deal amount only.
    """
    amounts: list[float] = []
    payments: list[tuple[bool, bool, float]] = []
    percents: list[float] = []
    excluded_prices: set[int] = set()

    for measure in measures:
        clause_start, _ = note.clause_bounds(measure.start)
        before = note.masked[max(clause_start, measure.start - CUE_WINDOW) : measure.start]
        after = note.text[measure.end : measure.end + 8]
        whole_before = note.text[clause_start : measure.start]
        competitor_before = _competitor_between(note, lexicon, clause_start, measure.start)

        if measure.kind == PRICE:
            if PRICE_DIFFERENCE_RE.search(whole_before) or competitor_before:
                excluded_prices.add(id(measure))
            continue
        if measure.kind == PERCENT:
            if PAYMENT_CUE_RE.search(before):
                percents.append(measure.value)
            continue
        if measure.kind != MONEY:
            continue

        if measure.start - clause_start <= 2 and not (PAYMENT_CUE_RE.search(before) or AMOUNT_CUE_RE.search(before)):
            # 润扬打款了,30万: a sum that opens its clause takes its cue from the clause before.
            before = note.masked[max(0, measure.start - CUE_WINDOW) : measure.start]
        payment_cue = PAYMENT_CUE_RE.search(before) or PAYMENT_AFTER_RE.match(after)
        amount_cue = AMOUNT_CUE_RE.search(before) or AMOUNT_AFTER_RE.match(after)
        if payment_cue and not (amount_cue and amount_cue.end() > payment_cue.end()):
            arrived = bool(ARRIVED_RE.search(after) or ARRIVED_RE.search(before))
            remaining = bool(REMAINING_RE.search(before))
            payments.append((arrived, remaining, measure.value))
            continue
        if amount_cue and not PRICE_DIFFERENCE_RE.search(before) and not competitor_before:
            amounts.append(measure.value)

    amount = amounts[0] if amounts else None
    payment = _choose_payment(payments)
    if payment is None and percents and amount is not None:
        payment = round(amount * percents[0] / 100, 2)
    return amount, payment, excluded_prices


def _competitor_between(note: NoteText, lexicon: Lexicon, start: int, end: int) -> bool:
    """Tell whether a competitor is named in `note.text[start:end]` (海螺报价280 is theirs)."""
    if lexicon.competitor_regex is None:
        return False
    key_start = bisect.bisect_left(note.key_to_text, start)
    key_end = bisect.bisect_left(note.key_to_text, end)
    return lexicon.competitor_regex.search(note.key, key_start, key_end) is not None


def _choose_payment(payments: list[tuple[bool, bool, float]]) -> float | None:
    """Prefer what arrived over what is still owed; otherwise take the first sum."""
    if not payments:
        return None
    for arrived, _, value in payments:
        if arrived:
            return value
    for _, remaining, value in payments:
        if not remaining:
            return value
    return payments[0][2]


def price_times_quantity(products: list[ProductFact]) -> float | None:
    """Return unit price × quantity when exactly one product has both, else None."""
    priced = [p for p in products if p.unit_price is not None and p.quantity is not None]
    if len(priced) == 1:
        return round(priced[0].unit_price * priced[0].quantity, 2)
    return None
