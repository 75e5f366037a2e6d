"""Run note extraction over labelled notes and write predictions in the labelled format."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from bot.understanding.extract import NoteFacts, extract_note
from bot.understanding.lexicon import Lexicon


def facts_to_expected(facts: NoteFacts) -> dict[str, Any]:
    """Convert extracted facts to the field layout of a labelled note's `expected`."""
    return {
        "customers": [c.name for c in facts.customers],
        "new_customers": [c.name for c in facts.customers if c.is_new],
        "contacts": [{"name": c.name, "title": c.title, "phone": c.phone} for c in facts.contacts],
        "products": [
            {"name": p.name, "quantity": p.quantity, "unit": p.unit, "unit_price": p.unit_price}
            for p in facts.products
        ],
        "amount": facts.amount,
        "payment_amount": facts.payment_amount,
        "visit_date": facts.visit_date.isoformat() if facts.visit_date else None,
        "due_date": facts.due_date.isoformat() if facts.due_date else None,
        "competitors": list(facts.competitors),
        "stage": facts.stage.label if facts.stage else None,
        "lost": facts.lost,
    }


def parse_lines(world: dict[str, Any], lines: Iterable[str]) -> Iterator[str]:
    """Read notes as JSON lines ({"id", "now", "author", "text"}) and yield one prediction each.

    Each output line is {"id", ...the fields of `facts_to_expected`} with Chinese left unescaped.
    Blank input lines are skipped.
    """
    lexicon = Lexicon.from_world(world)
    for line in lines:
        if not line.strip():
            continue
        note = json.loads(line)
        now = datetime.fromisoformat(note["now"])
        facts = extract_note(note["text"], now, lexicon)
        yield json.dumps({"id": note["id"], **facts_to_expected(facts)}, ensure_ascii=False)
