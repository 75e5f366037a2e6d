"""add stage alerts and rule notices

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

The stage-limit sweep records each overdue stay in a stage with its first reminder's time,
so that escalation happens once and at the right time. The rule sweep records each rule
that fired, so that a second sweep over the same stage changes notifies nobody again.
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rule_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('event_key', sa.String(length=60), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.String(length=40), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_rule_notices_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_notices')),
    sa.UniqueConstraint('rule', 'event_key', name='uq_rule_notices_rule_event')
    )
    with op.batch_alter_table('rule_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_notices_batch'), ['batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_notices_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('stage_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('stage_entered_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('first_reminded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('escalated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_to_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['escalated_to_id'], ['users.id'], name=op.f('fk_stage_alerts_escalated_to_id_users')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_stage_alerts_opportunity_id_opportunities')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_stage_alerts_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_alerts')),
    sa.UniqueConstraint('opportunity_id', 'stage_entered_at', name='uq_stage_alerts_opportunity_entered')
    )
    with op.batch_alter_table('stage_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_stage_alerts_escalation', ['escalated_at', 'first_reminded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_alerts_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stage_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_alerts_owner_id'))
        batch_op.drop_index('ix_stage_alerts_escalation')

    op.drop_table('stage_alerts')
    with op.batch_alter_table('rule_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_notices_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_rule_notices_batch'))

    op.drop_table('rule_notices')
