"""Quotes and discounts by command, and what their approvals change.

A quote is always bound to a customer and one of its open opportunities (created when there is
none). A quote priced within the free discount goes out at once. A quote priced beyond it, or
below a product's floor price, waits for the pricing approvers. Sending a quote moves the opportunity
forward to 方案报价 and fixes `sent_at`, so `sent_at - requested_at` is the quote response time.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import approvals
from handlers.access import can_change_deals, can_see_customer
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.customers import find_customers
from handlers.deals import (
    create_opportunity,
    open_opportunities,
    pick_opportunity,
    record_stage_change,
)
from handlers.outcome import Outcome, Text
from handlers.wording import quotes as wording
from models.approval_rules import ApprovalRules
from models.approvals import ApprovalKind, ApprovalRequest
from models.commerce import Quote, QuoteLine
from models.crm import Customer, Product, UnitSpelling
from models.pipeline import Opportunity, StageMoveKind
from models.stages import Stage

log = logging.getLogger(__name__)

CENT = Decimal("0.01")


class QuoteStatus:
    DRAFT = "draft"  # withdrawn from approval; can be submitted again
    PENDING_APPROVAL = "pending_approval"
    SENT = "sent"
    REJECTED = "rejected"


@dataclass(frozen=True)
class PricedItem:
    product: Product
    quantity: Decimal
    unit_price: Decimal


# -- shared with contracts -------------------------------------------------------------------


def one_customer(ctx: Context, query: str) -> Customer:
    """Return the one customer the actor may change deals of that `query` names."""
    matches = [c for c in find_customers(ctx, query) if can_see_customer(ctx.actor, c)]
    if not matches:
        raise DomainError(wording.CUSTOMER_NOT_FOUND.format(query=query), "not_found")
    if len(matches) > 1:
        raise DomainError(wording.several_customers(query, [c.name for c in matches]), "ambiguous")
    customer = matches[0]
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(customer=customer.name), "forbidden")
    return customer


def next_number(session: Session, model, prefix: str, year: int) -> str:
    """Return the next document number `<prefix>-<year>-<serial>`, such as BJ-2026-0001.

    NOTE: two workers numbering at the same moment may pick the same number; the unique
    constraint then fails one message, which the inbox retries.
    """
    stem = f"{prefix}-{year}-"
    latest = session.scalar(select(func.max(model.number)).where(model.number.like(f"{stem}%")))
    serial = int(latest.removeprefix(stem)) + 1 if latest else 1
    return f"{stem}{serial:04d}"


def advance_opportunity(ctx: Context, batch: ChangeBatch, opportunity: Opportunity, stage: Stage, reason: str) -> bool:
    """Move the opportunity forward to `stage`; never back. Return whether it moved."""
    current = Stage(opportunity.stage)
    if stage.rank <= current.rank:
        return False
    kind = StageMoveKind.FORWARD if stage.rank == current.rank + 1 else StageMoveKind.SKIP
    record_stage_change(ctx, batch, opportunity, stage, kind, reason=reason)
    return True


def opportunity_for(ctx: Context, batch: ChangeBatch, customer: Customer, product_names: set[str], stage: Stage) -> Opportunity:
    """Return the customer's open opportunity about these products, else its latest, else a new one."""
    opportunity = pick_opportunity(open_opportunities(ctx, customer), product_names)
    if opportunity is not None:
        return opportunity
    short_name = (customer.aliases or [customer.name])[0]
    title = f"{short_name} {min(product_names)}" if product_names else short_name
    return create_opportunity(ctx, batch, customer, title, stage)


# -- products --------------------------------------------------------------------------------


def _normalized(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def find_product(session: Session, written: str) -> Product:
    """Return the catalog product whose name or alias is `written`, else the one that contains it."""
    key = _normalized(written)
    products = list(session.scalars(select(Product).order_by(Product.id)))
    exact = [p for p in products if key in {_normalized(n) for n in [p.name, *(p.aliases or [])]}]
    if len(exact) == 1:
        return exact[0]
    partial = [p for p in products if any(key in _normalized(n) for n in [p.name, *(p.aliases or [])])]
    if len(partial) == 1:
        return partial[0]
    if not exact and not partial:
        raise DomainError(wording.PRODUCT_NOT_FOUND.format(product=written), "not_found")
    raise DomainError(wording.several_products(written, [p.name for p in exact or partial]), "ambiguous")


def _check_unit(session: Session, product: Product, written: str | None) -> None:
    if written is None or written == product.unit:
        return
    unit = session.scalar(select(UnitSpelling.unit).where(UnitSpelling.spelling == written))
    if unit != product.unit:
        raise DomainError(wording.WRONG_UNIT.format(product=product.name, unit=written, expected=product.unit), "invalid")


def _priced_items(ctx: Context, items, opportunity_lines) -> list[PricedItem]:
    priced = []
    for item in items:
        product = find_product(ctx.session, item.product)
        _check_unit(ctx.session, product, item.unit)
        priced.append(PricedItem(product, item.quantity, _price(product, item.unit_price)))
    for line in opportunity_lines:
        product = ctx.session.get(Product, line.product_id) if line.product_id else find_product(ctx.session, line.product_name)
        if line.quantity is None:
            raise DomainError(wording.LINE_WITHOUT_QUANTITY.format(product=product.name), "invalid")
        priced.append(PricedItem(product, line.quantity, _price(product, line.unit_price)))
    return priced


def _price(product: Product, written: Decimal | None) -> Decimal:
    price = written if written is not None else product.list_price
    if price is None:
        raise DomainError(wording.PRICE_MISSING.format(product=product.name), "invalid")
    return Decimal(price).quantize(CENT)


# -- quotes ----------------------------------------------------------------------------------


def create_quote(ctx: Context, rules: ApprovalRules, valid_days: int, customer_query: str, items) -> Outcome:
    """Make a numbered quote; send it at once, or submit it when a price needs approval."""
    customer = one_customer(ctx, customer_query)
    batch = ChangeBatch(ctx.session, ctx.actor.id, "quote", ctx.source_message_id)

    if items:
        priced = _priced_items(ctx, items, [])
        opportunity = opportunity_for(ctx, batch, customer, {p.product.name for p in priced}, Stage.QUALIFIED)
    else:
        opportunity = pick_opportunity(open_opportunities(ctx, customer), set())
        if opportunity is None or not opportunity.lines:
            raise DomainError(wording.NO_LINES.format(customer=customer.name), "invalid")
        priced = _priced_items(ctx, [], opportunity.lines)

    quote = Quote(
        number=next_number(ctx.session, Quote, "BJ", ctx.today.year), customer_id=customer.id,
        opportunity_id=opportunity.id, author_id=ctx.actor.id, status=QuoteStatus.DRAFT,
        valid_until=ctx.today + timedelta(days=valid_days), requested_at=ctx.now,
    )
    for item in priced:
        quote.lines.append(
            QuoteLine(
                product_id=item.product.id, product_name=item.product.name, quantity=item.quantity,
                unit=item.product.unit, unit_price=item.unit_price, list_price=item.product.list_price,
            )
        )
    quote.total = quote_total(quote)
    ctx.session.add(quote)
    batch.created(quote)
    log.info("quote created: quote_id=%d lines=%d", quote.id, len(quote.lines))
    return _send_or_submit(ctx, rules, batch, quote, customer, opportunity, created=True)


def _send_or_submit(ctx, rules, batch, quote: Quote, customer: Customer, opportunity: Opportunity, created: bool) -> Outcome:
    products = {line.product_id: ctx.session.get(Product, line.product_id) for line in quote.lines}
    needs_approval = [
        line for line in quote.lines
        if rules.price_needs_approval(line.unit_price, line.list_price, products[line.product_id].floor_price)
    ]
    if not needs_approval:
        moved = _send(ctx, batch, quote, opportunity)
        batch.finish()
        return Outcome.text(wording.quote_sent(quote, customer, opportunity, moved, ctx.today, created))

    batch.updating(quote)
    quote.status = QuoteStatus.PENDING_APPROVAL
    request, notifications = approvals.submit(
        ctx, batch, ApprovalKind.QUOTE, quote.id, quote.number, roles=rules.pricing_approvers,
        document=quote_document(quote, customer), card_fields=wording.quote_card_fields(quote, customer, products),
    )
    batch.finish()
    reply = wording.quote_submitted(quote, customer, ctx.today, approvals.approver_names(request), rules, created)
    return Outcome(replies=[Text(reply)], notifications=notifications)


def _send(ctx: Context, batch: ChangeBatch, quote: Quote, opportunity: Opportunity) -> bool:
    batch.updating(quote)
    quote.status = QuoteStatus.SENT
    quote.sent_at = ctx.now
    return advance_opportunity(ctx, batch, opportunity, Stage.QUOTING, reason="quote sent")


def quote_total(quote: Quote) -> Decimal:
    return sum(((line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP) for line in quote.lines), Decimal(0))


def quote_document(quote: Quote, customer: Customer) -> dict:
    return {
        "number": quote.number,
        "customer": customer.name,
        "opportunity_id": quote.opportunity_id,
        "total": str(quote.total),
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "lines": [
            {
                "id": line.id, "product": line.product_name, "quantity": str(line.quantity), "unit": line.unit,
                "unit_price": str(line.unit_price), "list_price": None if line.list_price is None else str(line.list_price),
            }
            for line in quote.lines
        ],
    }


def find_quote(ctx: Context, number: str) -> Quote:
    quote = ctx.session.scalars(select(Quote).where(Quote.number == number)).first()
    if quote is None:
        raise DomainError(wording.QUOTE_NOT_FOUND.format(number=number), "not_found")
    customer = ctx.session.get(Customer, quote.customer_id)
    if not can_change_deals(ctx.actor, customer):
        raise DomainError(wording.NOT_YOURS.format(customer=customer.name), "forbidden")
    return quote


def resubmit_quote(ctx: Context, rules: ApprovalRules, number: str) -> Outcome:
    """Send or submit again a quote withdrawn from approval or rejected."""
    quote = find_quote(ctx, number)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
        raise DomainError(wording.cannot_resubmit(quote), "invalid")
    customer = ctx.session.get(Customer, quote.customer_id)
    opportunity = ctx.session.get(Opportunity, quote.opportunity_id)
    batch = ChangeBatch(ctx.session, ctx.actor.id, "quote", ctx.source_message_id)
    return _send_or_submit(ctx, rules, batch, quote, customer, opportunity, created=False)


# -- discounts -------------------------------------------------------------------------------


def request_discount(ctx: Context, rules: ApprovalRules, command) -> Outcome:
    """Cut the prices of the customer's latest sent quote, at once or after approval."""
    customer = one_customer(ctx, command.customer_query)
    quote = ctx.session.scalars(
        select(Quote).where(Quote.customer_id == customer.id).order_by(Quote.id.desc()).limit(1)
    ).first()
    if quote is None:
        raise DomainError(wording.NO_QUOTE.format(customer=customer.name), "not_found")
    if quote.status != QuoteStatus.SENT:
        raise DomainError(wording.quote_not_sent(quote), "invalid")
    if approvals.pending_request(ctx.session, (ApprovalKind.DISCOUNT,), quote.id) is not None:
        raise DomainError(wording.DISCOUNT_PENDING.format(number=quote.number), "invalid")

    new_prices = {line.id: _discounted(line, command) for line in quote.lines}
    products = {line.product_id: ctx.session.get(Product, line.product_id) for line in quote.lines}
    batch = ChangeBatch(ctx.session, ctx.actor.id, "discount", ctx.source_message_id)
    needs_approval = any(
        rules.price_needs_approval(new_prices[line.id], line.list_price, products[line.product_id].floor_price)
        for line in quote.lines
    )
    if not needs_approval:
        _apply_prices(batch, quote, new_prices)
        batch.finish()
        log.info("discount applied: quote_id=%d", quote.id)
        return Outcome.text(wording.discount_applied(quote, command.reason))

    document = quote_document(quote, customer) | {"new_prices": {str(k): str(v) for k, v in new_prices.items()}}
    request, notifications = approvals.submit(
        ctx, batch, ApprovalKind.DISCOUNT, quote.id, quote.number, roles=rules.pricing_approvers, document=document,
        card_fields=wording.discount_card_fields(quote, customer, new_prices, products), reason=command.reason,
    )
    batch.finish()
    reply = wording.discount_submitted(quote, new_prices, approvals.approver_names(request))
    return Outcome(replies=[Text(reply)], notifications=notifications)


def _discounted(line: QuoteLine, command) -> Decimal:
    if command.amount_off is not None:
        price = line.unit_price - command.amount_off
    elif command.new_price is not None:
        price = command.new_price
    else:
        price = line.unit_price * (100 - command.percent_off) / 100
    price = price.quantize(CENT, ROUND_HALF_UP)
    if price <= 0 or price >= line.unit_price:
        raise DomainError(wording.bad_discount(line, price), "invalid")
    return price


def _apply_prices(batch: ChangeBatch, quote: Quote, new_prices: dict[int, Decimal]) -> None:
    for line in quote.lines:
        if line.id in new_prices:
            batch.updating(line)
            line.unit_price = new_prices[line.id]
    batch.updating(quote)
    quote.total = quote_total(quote)


# -- approval decisions ----------------------------------------------------------------------


def _quote_of(ctx: Context, request: ApprovalRequest) -> Quote:
    return ctx.session.get(Quote, request.subject_id)


def _quote_approved(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> str:
    quote = _quote_of(ctx, request)
    _send(ctx, batch, quote, ctx.session.get(Opportunity, quote.opportunity_id))
    return wording.QUOTE_APPROVED_NEXT


def _quote_rejected(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> None:
    quote = _quote_of(ctx, request)
    batch.updating(quote)
    quote.status = QuoteStatus.REJECTED


def _quote_withdrawn(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> None:
    quote = _quote_of(ctx, request)
    batch.updating(quote)
    quote.status = QuoteStatus.DRAFT


def _discount_approved(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> str:
    quote = _quote_of(ctx, request)
    new_prices = {int(k): Decimal(v) for k, v in request.snapshot["document"]["new_prices"].items()}
    _apply_prices(batch, quote, new_prices)
    return wording.discount_approved_next(quote)


def _nothing(ctx: Context, batch: ChangeBatch, request: ApprovalRequest) -> None:
    """Leave the quote as it was, because a rejected or withdrawn discount changes nothing."""


approvals.register_subject(ApprovalKind.QUOTE, approvals.SubjectHooks(_quote_approved, _quote_rejected, _quote_withdrawn))
approvals.register_subject(ApprovalKind.DISCOUNT, approvals.SubjectHooks(_discount_approved, _nothing, _nothing))
