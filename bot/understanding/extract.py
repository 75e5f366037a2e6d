"""Turn a rep's free-text visit note into CRM facts.

Extraction runs in a fixed order because each step masks what it claims in the working text:
phone numbers, then company names, then products and product codes, then dates. Only then are
the remaining numbers read as quantities, prices and sums of money, so that "P.O 42.5",
"0513-85123456" or "12月18日" are never taken for amounts.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.understanding.dates import SHANGHAI, DateMention, find_dates
from bot.understanding.lexicon import Lexicon
from bot.understanding.note.contacts import find_contacts, find_phones
from bot.understanding.note.customers import find_customers
from bot.understanding.note.facts import ContactFact, CustomerMention, NoteFacts, ProductFact
from bot.understanding.note.measures import QUANTITY, Measure, find_measures
from bot.understanding.note.money import find_amounts, price_times_quantity
from bot.understanding.note.products import build_product_facts, find_products
from bot.understanding.note.stage import activity_kind_of, lost_of, reached_of, stage_of
from bot.understanding.note.text import NoteText, Span
from models.stages import Stage
from bot.understanding.note.timing import TOUCH_RE, resolve_dates

__all__ = ["ContactFact", "CustomerMention", "NoteFacts", "ProductFact", "extract_note"]

MAX_NEXT_ACTION_LENGTH = 20


def extract_note(text: str, now: datetime, lexicon: Lexicon) -> NoteFacts:
    """Extract customers, contacts, products, money, dates and stage from one note.

    `now` is the message time; relative dates (明天, 下周三) resolve against its date in
    Asia/Shanghai.
    """
    note = NoteText(text, lexicon)
    phones = find_phones(note)
    referral_spans: list[Span] = []
    customers = find_customers(note, lexicon, referral_spans)
    product_mentions = find_products(note, lexicon)
    competitors = _competitors(note, lexicon)

    date_mentions = find_dates(note.masked, now)
    for mention in date_mentions:
        note.mask(mention.start, mention.end)
    measures = find_measures(note, lexicon)

    customer_spans = [(mention.name, span) for mention, span in customers]
    contacts = find_contacts(note, lexicon, phones, customer_spans, referral_spans)

    amount, payment, excluded_prices = find_amounts(note, lexicon, measures)
    products = build_product_facts(note, lexicon, product_mentions, measures, excluded_prices)
    if amount is None:
        amount = price_times_quantity(products)

    today = now.date() if now.tzinfo is None else now.astimezone(SHANGHAI).date()
    visit_date, due_date, due_mention = resolve_dates(note, date_mentions, today, bool(customers))

    lost, lost_reason = lost_of(note.text, competitors)
    has_touch = visit_date is not None
    facts = NoteFacts(
        customers=[mention for mention, _ in customers],
        contacts=contacts,
        products=products,
        amount=amount,
        payment_amount=payment,
        visit_date=visit_date,
        due_date=due_date,
        next_action=_next_action(note, due_mention),
        competitors=competitors,
        stage=_stage(note, customers, measures) if customers or products else None,
        lost=lost,
        lost_reason=lost_reason,
        reached=reached_of(note.text, has_touch),
        activity_kind=activity_kind_of(note.text) if TOUCH_RE.search(note.text) else "other",
    )
    return facts


def _competitors(note: NoteText, lexicon: Lexicon) -> list[str]:
    if lexicon.competitor_regex is None:
        return []
    names: list[str] = []
    for match in lexicon.competitor_regex.finditer(note.key):
        name = lexicon.competitor_by_key[match.group()]
        span = note.key_span_to_text(match.start(), match.end())
        if note.is_masked(span.start, span.end):
            continue
        note.mask(span.start, span.end)
        if name not in names:
            names.append(name)
    return names


def _stage(
    note: NoteText, customers: list[tuple[CustomerMention, Span]], measures: list[Measure]
) -> Stage | None:
    """Return the furthest stage evidenced, or None when customers are at different stages."""
    starts = [span.start for _, span in customers]
    if len(starts) <= 1:
        return stage_of(note.text, _has_quantity(measures, 0, len(note.text)))
    bounds = [0] + starts[1:] + [len(note.text)]
    stages = set()
    for begin, end in zip(bounds, bounds[1:]):
        stage = stage_of(note.text[begin:end], _has_quantity(measures, begin, end))
        if stage is not None:
            stages.add(stage)
    return stages.pop() if len(stages) == 1 else None


def _has_quantity(measures: list[Measure], begin: int, end: int) -> bool:
    return any(m.kind == QUANTITY and begin <= m.start < end for m in measures)


def _next_action(note: NoteText, due_mention: DateMention | None) -> str | None:
    """Return the words after the due date in its clause (下周三前给他们报价 → 给他们报价)."""
    if due_mention is None:
        return None
    _, clause_end = note.clause_bounds(due_mention.start)
    action = note.text[due_mention.end : clause_end]
    action = re.sub(r"^\s?(?:之前|以前|前|内|再|就|要)+", "", action).strip(" ,")
    if not action:
        clause_start, _ = note.clause_bounds(due_mention.start)
        action = note.text[clause_start : due_mention.start].strip(" ,")
    return action[:MAX_NEXT_ACTION_LENGTH] or None
