"""Correcting and undoing a rep's last record."""

import logging
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.deals import record_stage_change
from handlers.outcome import Outcome
from handlers.wording import corrections as wording
from models.activity import Activity, FollowUpTask
from models.audit import ChangeRecord
from models.base import Base, UTCDateTime, utcnow
from models.commerce import Payment
from models.pipeline import Opportunity, StageMoveKind
from models.stages import Stage

log = logging.getLogger(__name__)

UNDOABLE = ("note", "correction", "create_customer", "move_stage")


def _model_for(table_name: str) -> type[Base]:
    for mapper in Base.registry.mappers:
        if mapper.local_table.name == table_name:
            return mapper.class_
    raise LookupError(table_name)


def _restore_value(model: type[Base], key: str, value):
    """Turn a JSON-safe snapshot value back into the column's Python type."""
    if value is None:
        return None
    column_type = model.__table__.columns[key].type
    if isinstance(column_type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Numeric):
        return Decimal(value)
    return value


def last_batch(session: Session, actor_id: int, labels=UNDOABLE) -> list[ChangeRecord]:
    """Return the records of the actor's latest batch that is not undone, oldest first."""
    latest = session.scalar(
        select(ChangeRecord)
        .where(ChangeRecord.actor_id == actor_id, ChangeRecord.undone_at.is_(None), ChangeRecord.batch_label.in_(labels))
        .order_by(ChangeRecord.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    return list(session.scalars(select(ChangeRecord).where(ChangeRecord.batch == latest.batch).order_by(ChangeRecord.id)))


def revert_batch(session: Session, records: list[ChangeRecord]) -> None:
    """Undo a batch's changes newest first: delete what it created, restore what it updated."""
    now = utcnow()
    for record in reversed(records):
        model = _model_for(record.table_name)
        row = session.get(model, record.row_id)
        if row is not None:
            if record.action == "create":
                session.delete(row)
            elif record.action == "update":
                for key, value in (record.before or {}).items():
                    setattr(row, key, _restore_value(model, key, value))
            session.flush()
        record.undone_at = now


def undo_last(ctx: Context) -> Outcome:
    records = last_batch(ctx.session, ctx.actor.id)
    if not records:
        return Outcome.text(wording.NOTHING_TO_UNDO)
    label = records[0].batch_label
    try:
        with ctx.session.begin_nested():
            revert_batch(ctx.session, records)
    except IntegrityError:
        # A later record (a quote, a contract, a colleague's note) refers to a row the batch
        # created. Deleting the row would orphan that record, so the savepoint rolls back.
        log.info("batch undo rejected: actor=%d label=%s reason=created row still referenced", ctx.actor.id, label)
        return Outcome.text(wording.undo_blocked(label))
    log.info("batch undone: actor=%d label=%s rows=%d", ctx.actor.id, label, len(records))
    return Outcome.text(wording.undone(label))


def last_note_activities(ctx: Context) -> list[Activity]:
    """Return the activities of the actor's latest note that is not undone."""
    records = last_batch(ctx.session, ctx.actor.id, labels=("note",))
    ids = [r.row_id for r in records if r.table_name == "activities" and r.action == "create"]
    if not ids:
        raise DomainError(wording.NO_NOTE)
    return list(ctx.session.scalars(select(Activity).where(Activity.id.in_(ids)).order_by(Activity.id)).unique())


def _first_opportunity(ctx: Context, activities: list[Activity]) -> Opportunity:
    for activity in activities:
        if activity.opportunity_id:
            return ctx.session.get(Opportunity, activity.opportunity_id)
    raise DomainError(wording.NO_OPPORTUNITY)


def correct_last(ctx: Context, field: str, value) -> Outcome:
    """Change one field of the last note: amount, due_date, visit_date, stage or payment_amount.

    A different customer is handled by the bot: it undoes the note and records it again.
    """
    activities = last_note_activities(ctx)
    batch = ChangeBatch(ctx.session, ctx.actor.id, "correction", ctx.source_message_id)

    if field == "amount":
        opportunity = _first_opportunity(ctx, activities)
        batch.updating(opportunity)
        opportunity.amount = value
    elif field == "visit_date":
        for activity in activities:
            batch.updating(activity)
            activity.occurred_on = value
    elif field == "due_date":
        _correct_due_date(ctx, batch, activities, value)
    elif field == "stage":
        opportunity = _first_opportunity(ctx, activities)
        current = Stage(opportunity.stage)
        if value != current:
            kind = StageMoveKind.BACK if value.rank < current.rank else StageMoveKind.FORWARD
            record_stage_change(ctx, batch, opportunity, value, kind, reason="correction")
    elif field == "payment_amount":
        payment = ctx.session.scalar(select(Payment).where(Payment.activity_id.in_([a.id for a in activities])))
        if payment is None:
            raise DomainError(wording.NO_PAYMENT)
        batch.updating(payment)
        payment.amount = value
    else:
        raise DomainError(wording.UNKNOWN_FIELD)

    batch.finish()
    log.info("note corrected: actor=%d field=%s", ctx.actor.id, field)
    return Outcome.text(wording.corrected(field, value, ctx.today))


def _correct_due_date(ctx: Context, batch: ChangeBatch, activities: list[Activity], value: date) -> None:
    tasks = ctx.session.scalars(
        select(FollowUpTask).where(FollowUpTask.activity_id.in_([a.id for a in activities]))
    ).unique().all()
    if tasks:
        for task in tasks:
            batch.updating(task)
            task.due_date = value
        return
    first = activities[0]
    task = FollowUpTask(
        assignee_id=ctx.actor.id, customer_id=first.customer_id, opportunity_id=first.opportunity_id,
        activity_id=first.id, title=wording.default_task_title(first), due_date=value, created_at=ctx.now,
    )
    ctx.session.add(task)
    batch.created(task)
