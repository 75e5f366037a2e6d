"""Typed facts that note extraction returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.stages import Stage


@dataclass
class CustomerMention:
    """A customer company named in a note.

    `customer_id` is set when the mention names exactly one known customer. When it fits several,
    `customer_id` is None and `candidates` contains every matching id so that the bot can ask which.
    """

    written: str
    name: str
    customer_id: int | str | None
    candidates: tuple = ()
    is_new: bool = False


@dataclass
class ContactFact:
    name: str
    title: str | None
    phone: str | None
    customer_name: str | None


@dataclass
class ProductFact:
    name: str
    product_id: int | str | None
    quantity: float | None
    unit: str | None
    unit_price: float | None


@dataclass
class NoteFacts:
    customers: list[CustomerMention] = field(default_factory=list)
    contacts: list[ContactFact] = field(default_factory=list)
    products: list[ProductFact] = field(default_factory=list)
    amount: float | None = None
    payment_amount: float | None = None
    visit_date: date | None = None
    due_date: date | None = None
    next_action: str | None = None
    competitors: list[str] = field(default_factory=list)
    stage: Stage | None = None
    lost: bool = False
    lost_reason: str | None = None
    reached: bool | None = None
    activity_kind: str = "other"
