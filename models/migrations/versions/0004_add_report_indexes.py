"""add indexes for the report queries

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Each report filters one table by a date range first: opportunities created or closed in the
period, stage moves into a stage, activities by visit date (or, undated, by recording time),
contracts signed, payments planned and quotes requested. Without these indexes each weekly
figure scans its whole table.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_opportunities_created_at', 'opportunities', ['created_at'])
    op.create_index('ix_opportunities_closed_at', 'opportunities', ['closed_at'])
    op.create_index('ix_stage_changes_to_stage_changed_at', 'stage_changes', ['to_stage', 'changed_at'])
    # author_id is in both activity indexes so that counting follow-ups per rep reads the index alone.
    op.create_index('ix_activities_occurred_on_author', 'activities', ['occurred_on', 'author_id'])
    op.create_index(
        'ix_activities_undated_created_at', 'activities', ['created_at', 'author_id'],
        postgresql_where=sa.text('occurred_on IS NULL'), sqlite_where=sa.text('occurred_on IS NULL'),
    )
    op.create_index('ix_contracts_signed_on', 'contracts', ['signed_on'])
    op.create_index('ix_payments_planned_on', 'payments', ['planned_on'])
    op.create_index('ix_quotes_requested_at', 'quotes', ['requested_at'])


def downgrade() -> None:
    op.drop_index('ix_quotes_requested_at', table_name='quotes')
    op.drop_index('ix_payments_planned_on', table_name='payments')
    op.drop_index('ix_contracts_signed_on', table_name='contracts')
    op.drop_index('ix_activities_undated_created_at', table_name='activities')
    op.drop_index('ix_activities_occurred_on_author', table_name='activities')
    op.drop_index('ix_stage_changes_to_stage_changed_at', table_name='stage_changes')
    op.drop_index('ix_opportunities_closed_at', table_name='opportunities')
    op.drop_index('ix_opportunities_created_at', table_name='opportunities')
