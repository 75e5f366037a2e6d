"""Recording what a use case changed, for the audit trail and for `撤销`."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models.audit import ChangeRecord
from models.base import Base


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(row: Base) -> dict:
    """Return the row's column values in a JSON-safe form."""
    mapper = inspect(row).mapper
    return {column.key: _plain(getattr(row, column.key)) for column in mapper.column_attrs}


class ChangeBatch:
    """The rows one use case creates and updates, grouped under one batch id.

    Call `created` after flushing a new row and `updating` before changing an existing one.
    """

    def __init__(self, session: Session, actor_id: int | None, label: str, source_message_id: int | None = None):
        self.session = session
        self.actor_id = actor_id
        self.label = label
        self.source_message_id = source_message_id
        self.batch = uuid.uuid4().hex
        self._pending_updates: list[tuple[Base, dict]] = []
        self.count = 0

    def created(self, row: Base) -> None:
        self.session.flush()
        self._add("create", row, before=None, after=snapshot(row))

    def updating(self, row: Base) -> None:
        """Remember the row's values before a change; `finish` records what changed."""
        self._pending_updates.append((row, snapshot(row)))

    def finish(self) -> None:
        """Record every remembered update whose values changed."""
        self.session.flush()
        seen: set[tuple[str, int]] = set()
        for row, before in self._pending_updates:
            key = (row.__tablename__, row.id)
            if key in seen:
                continue
            seen.add(key)
            after = snapshot(row)
            changed = {k: v for k, v in before.items() if after.get(k) != v}
            if changed:
                self._add("update", row, before=changed, after={k: after[k] for k in changed})
        self._pending_updates.clear()

    def _add(self, action: str, row: Base, before: dict | None, after: dict | None) -> None:
        self.count += 1
        self.session.add(
            ChangeRecord(
                batch=self.batch,
                batch_label=self.label,
                actor_id=self.actor_id,
                action=action,
                table_name=row.__tablename__,
                row_id=row.id,
                before=before,
                after=after,
                source_message_id=self.source_message_id,
            )
        )
