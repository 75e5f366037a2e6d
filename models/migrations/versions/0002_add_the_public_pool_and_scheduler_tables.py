"""add the public pool and scheduler tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('job_id', sa.String(length=50), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('duration_ms', sa.Double(), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_runs'))
    )
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('pool_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('from_owner_id', sa.Integer(), nullable=True),
    sa.Column('to_owner_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('batch', sa.String(length=40), nullable=True),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_pool_events_actor_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_pool_events_customer_id_customers')),
    sa.ForeignKeyConstraint(['from_owner_id'], ['users.id'], name=op.f('fk_pool_events_from_owner_id_users')),
    sa.ForeignKeyConstraint(['to_owner_id'], ['users.id'], name=op.f('fk_pool_events_to_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_events'))
    )
    with op.batch_alter_table('pool_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_events_batch'), ['batch'], unique=False)
        batch_op.create_index('ix_pool_events_customer_at', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_pool_events_from_owner_at', ['from_owner_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pool_events', schema=None) as batch_op:
        batch_op.drop_index('ix_pool_events_from_owner_at')
        batch_op.drop_index('ix_pool_events_customer_at')
        batch_op.drop_index(batch_op.f('ix_pool_events_batch'))

    op.drop_table('pool_events')
    op.drop_table('scheduler_leases')
    op.drop_table('job_runs')
