"""delete stage bookkeeping with its opportunity

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Stage alerts and rule notices exist only because of their opportunity. When a rep undoes the
note that created an opportunity, the foreign keys refused to delete it once the scheduler had
recorded an alert or a notice for it, and the undo failed. They now go with the opportunity.
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ('stage_alerts', 'fk_stage_alerts_opportunity_id_opportunities'),
    ('rule_notices', 'fk_rule_notices_opportunity_id_opportunities'),
)


def _recreate(ondelete: str | None) -> None:
    for table, name in FOREIGN_KEYS:
        # resolve_fks=False: SQLite's copy of the table need not reflect the tables it refers to.
        with op.batch_alter_table(table, schema=None, reflect_kwargs={"resolve_fks": False}) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.create_foreign_key(name, 'opportunities', ['opportunity_id'], ['id'], ondelete=ondelete)


def upgrade() -> None:
    _recreate('CASCADE')


def downgrade() -> None:
    _recreate(None)
