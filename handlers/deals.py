"""Finding, creating and updating a customer's opportunity from a note's facts."""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from handlers.changes import ChangeBatch
from handlers.context import Context
from models.base import utcnow
from models.crm import Customer
from models.pipeline import Opportunity, OpportunityLine, OpportunityStatus, StageChange, StageMoveKind
from models.stages import Stage


@dataclass
class DealUpdate:
    """What a note changed on an opportunity, for the reply and the daily targets."""

    opportunity: Opportunity
    created: bool = False
    stage_from: Stage | None = None
    stage_to: Stage | None = None
    lines_changed: list[OpportunityLine] = field(default_factory=list)
    amount_changed: bool = False
    lost: bool = False

    @property
    def requirements_changed(self) -> bool:
        return self.created or bool(self.lines_changed) or self.amount_changed or self.stage_to is not None


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))


def open_opportunities(ctx: Context, customer: Customer) -> list[Opportunity]:
    query = (
        select(Opportunity)
        .where(Opportunity.customer_id == customer.id, Opportunity.status == OpportunityStatus.OPEN)
        .order_by(Opportunity.updated_at.desc(), Opportunity.id.desc())
    )
    return list(ctx.session.scalars(query).unique())


def pick_opportunity(candidates: list[Opportunity], product_names: set[str]) -> Opportunity | None:
    """Prefer the open opportunity that shares a product with the note, else the latest one."""
    for opportunity in candidates:
        if product_names & {line.product_name for line in opportunity.lines}:
            return opportunity
    return candidates[0] if candidates else None


def record_stage_change(
    ctx: Context, batch: ChangeBatch, opportunity: Opportunity, to: Stage, kind: StageMoveKind,
    activity_id: int | None = None, reason: str | None = None,
) -> StageChange:
    change = StageChange(
        opportunity_id=opportunity.id,
        from_stage=None if kind == StageMoveKind.CREATED else opportunity.stage,
        to_stage=to,
        kind=kind,
        user_id=ctx.actor.id,
        activity_id=activity_id,
        reason=reason,
        changed_at=ctx.now,
    )
    batch.updating(opportunity)
    opportunity.stage = to
    opportunity.stage_entered_at = ctx.now
    ctx.session.add(change)
    batch.created(change)
    return change


def create_opportunity(ctx: Context, batch: ChangeBatch, customer: Customer, title: str, stage: Stage) -> Opportunity:
    opportunity = Opportunity(
        customer_id=customer.id, owner_id=customer.owner_id or ctx.actor.id, title=title, stage=stage,
        stage_entered_at=ctx.now, created_at=ctx.now,
    )
    ctx.session.add(opportunity)
    batch.created(opportunity)
    change = StageChange(
        opportunity_id=opportunity.id, from_stage=None, to_stage=stage, kind=StageMoveKind.CREATED,
        user_id=ctx.actor.id, changed_at=ctx.now,
    )
    ctx.session.add(change)
    batch.created(change)
    return opportunity


def apply_lines(ctx: Context, batch: ChangeBatch, opportunity: Opportunity, products) -> list[OpportunityLine]:
    """Add or update one line per product; a new quantity or price replaces the old one."""
    changed = []
    for product in products:
        line = next((ln for ln in opportunity.lines if ln.product_name == product.name), None)
        quantity, price = _decimal(product.quantity), _decimal(product.unit_price)
        if line is None:
            line = OpportunityLine(
                opportunity_id=opportunity.id, product_id=_int_or_none(product.product_id),
                product_name=product.name, quantity=quantity, unit=product.unit, unit_price=price,
            )
            opportunity.lines.append(line)
            batch.created(line)
            changed.append(line)
            continue
        batch.updating(line)
        before = (line.quantity, line.unit, line.unit_price)
        if quantity is not None:
            line.quantity, line.unit = quantity, product.unit or line.unit
        if price is not None:
            line.unit_price = price
        if (line.quantity, line.unit, line.unit_price) != before:
            changed.append(line)
    return changed


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) else None


def move_forward_from_note(
    ctx: Context, batch: ChangeBatch, opportunity: Opportunity, evidence: Stage | None
) -> tuple[Stage, Stage] | None:
    """Move the opportunity to the stage a note shows, only forward; return (from, to) if moved.

    A note that jumps over stages is recorded as a skip, so process compliance can see it.
    """
    current = Stage(opportunity.stage)
    if evidence is None or evidence.rank <= current.rank:
        return None
    kind = StageMoveKind.FORWARD if evidence.rank == current.rank + 1 else StageMoveKind.SKIP
    record_stage_change(ctx, batch, opportunity, evidence, kind, reason="visit note")
    return current, evidence


def mark_lost(ctx: Context, batch: ChangeBatch, opportunity: Opportunity, reason: str | None) -> None:
    batch.updating(opportunity)
    opportunity.status = OpportunityStatus.LOST
    opportunity.lost_reason = reason
    opportunity.closed_at = utcnow()


def set_amount(batch: ChangeBatch, opportunity: Opportunity, amount: float | None) -> bool:
    value = _decimal(amount)
    if value is None or value == opportunity.amount:
        return False
    batch.updating(opportunity)
    opportunity.amount = value
    return True


def add_competitors(batch: ChangeBatch, opportunity: Opportunity, names: list[str]) -> None:
    new = [name for name in names if name not in opportunity.competitors]
    if new:
        batch.updating(opportunity)
        opportunity.competitors = [*opportunity.competitors, *new]
