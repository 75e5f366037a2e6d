"""drop the unused stage alert owner index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

No query looks stage alerts up by owner: reminders and escalations start from the alert's
stay and its opportunity. The index only cost an entry for every alert recorded and every
alert escalated, 180,000 of each on the day a backlog of overdue stays is first swept.
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_stage_alerts_owner_id', table_name='stage_alerts')


def downgrade() -> None:
    op.create_index('ix_stage_alerts_owner_id', 'stage_alerts', ['owner_id'])
