"""SQL expressions that read the same on PostgreSQL and SQLite."""

from datetime import date

from sqlalchemy import ColumnElement, Float, Integer, and_, case, extract, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from models.stages import STAGE_ORDER, Stage
from reports.scope import Period


def stage_rank(column: ColumnElement) -> ColumnElement[int]:
    """Return the 0-based rank of the stage stored in `column` (线索登记 = 0 … 发货回款 = 5)."""
    return case({stage.value: stage.rank for stage in STAGE_ORDER}, value=column, else_=-1)


def reached(rank_column: ColumnElement, stage: Stage) -> ColumnElement[bool]:
    return rank_column >= stage.rank


def month_key(column: ColumnElement) -> ColumnElement[int]:
    """Return year * 100 + month of a date column, e.g. 202612."""
    return (extract("year", column) * 100 + extract("month", column)).cast(Integer)


def in_days(column: ColumnElement, period: Period) -> ColumnElement[bool]:
    """Return a condition that the date in `column` falls in the period."""
    return and_(column >= period.start, column < period.end)


def in_times(column: ColumnElement, period: Period) -> ColumnElement[bool]:
    """Return a condition that the stored UTC timestamp in `column` falls in the period's days."""
    start, end = period.utc_bounds()
    return and_(column >= start, column < end)


class seconds_between(FunctionElement):
    """Seconds from the first timestamp to the second, as a float."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"


def first_of_month(key: int) -> date:
    """Return the first day of the month a `month_key` value names."""
    return date(key // 100, key % 100, 1)


def zero_if_null(expression: ColumnElement) -> ColumnElement:
    return func.coalesce(expression, 0)
