"""index owned customers by idle time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

The daily pool release looks for owned customers whose last follow-up (or creation, when
never followed up) is older than the release limit. The plain index on last_follow_up_at
cannot serve that coalesce, so the release read the whole table. The partial index holds owned
customers only, so a customer released to the pool also leaves the index instead of adding an
entry to it. No query used the plain index.

The region index goes too: the pool list matches regions with LIKE '%…%', which a B-tree cannot
serve, and every release or claim paid for an entry in it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OWNED = sa.text('owner_id IS NOT NULL')


def upgrade() -> None:
    op.drop_index('ix_customers_last_follow_up_at', table_name='customers')
    op.drop_index('ix_customers_region', table_name='customers')
    op.create_index(
        'ix_customers_owned_idle_since', 'customers', [sa.text('coalesce(last_follow_up_at, created_at)')],
        postgresql_where=OWNED, sqlite_where=OWNED,
    )


def downgrade() -> None:
    op.drop_index('ix_customers_owned_idle_since', table_name='customers')
    op.create_index('ix_customers_last_follow_up_at', 'customers', ['last_follow_up_at'])
    op.create_index('ix_customers_region', 'customers', ['region'])
