"""key stage alerts by their stay

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Stage alerts copied the opportunity's owner when first reminded and the owner's manager when
escalated. No query read either copy: reminders and escalations look the owner and manager up
when they are sent, and the outbox rows record the recipients. The stay (opportunity and stage
entry time) was unique already and now is the primary key, so the surrogate id and its index
go too. A first sweep that records 180,000 overdue stays paid 0.9 s for the owner copies'
foreign-key checks, and their escalation two days later 0.65 s for the managers', besides an
entry per row in each index.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# resolve_fks=False: SQLite's copy of the table need not reflect the tables it refers to.
REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table('stage_alerts', schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint('fk_stage_alerts_owner_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_stage_alerts_escalated_to_id_users', type_='foreignkey')
        batch_op.drop_constraint('uq_stage_alerts_opportunity_entered', type_='unique')
        batch_op.drop_constraint('pk_stage_alerts', type_='primary')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('escalated_to_id')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_stage_alerts', ['opportunity_id', 'stage_entered_at'])


def downgrade() -> None:
    # The copies cannot be restored, so those columns come back empty and nullable.
    with op.batch_alter_table('stage_alerts', schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint('pk_stage_alerts', type_='primary')
        batch_op.add_column(sa.Column('id', sa.Integer(), sa.Identity(), nullable=False))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalated_to_id', sa.Integer(), nullable=True))
        batch_op.create_primary_key('pk_stage_alerts', ['id'])
        batch_op.create_unique_constraint('uq_stage_alerts_opportunity_entered', ['opportunity_id', 'stage_entered_at'])
        batch_op.create_foreign_key('fk_stage_alerts_owner_id_users', 'users', ['owner_id'], ['id'])
        batch_op.create_foreign_key('fk_stage_alerts_escalated_to_id_users', 'users', ['escalated_to_id'], ['id'])
