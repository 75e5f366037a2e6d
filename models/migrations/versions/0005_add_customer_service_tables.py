"""add customer service tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

WeChat customer service (微信客服) needs a sync cursor per account, bindings of WeChat customers
to contacts with one-time binding codes, service requests, a log of customer messages with
first-response times, and failed lookups for rate-limiting.
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kf_cursors',
    sa.Column('open_kfid', sa.String(length=64), nullable=False),
    sa.Column('cursor', sa.String(length=64), nullable=True),
    sa.Column('synced_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('open_kfid', name=op.f('pk_kf_cursors'))
    )
    op.create_table('kf_lookup_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('query', sa.String(length=64), nullable=False),
    sa.Column('found_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], name=op.f('fk_kf_lookup_failures_inbound_id_inbound_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kf_lookup_failures'))
    )
    with op.batch_alter_table('kf_lookup_failures', schema=None) as batch_op:
        batch_op.create_index('ix_kf_lookup_failures_user_at', ['external_userid', 'at'], unique=False)

    op.create_table('kf_message_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=False),
    sa.Column('open_kfid', sa.String(length=64), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('msgtype', sa.String(length=30), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('first_response_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handed_over_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'], name=op.f('fk_kf_message_log_inbound_id_inbound_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kf_message_log')),
    sa.UniqueConstraint('msgid', name=op.f('uq_kf_message_log_msgid'))
    )
    with op.batch_alter_table('kf_message_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kf_message_log_inbound_id'), ['inbound_id'], unique=False)
        batch_op.create_index('ix_kf_message_log_user_sent_at', ['external_userid', 'sent_at'], unique=False)

    op.create_table('binding_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_binding_codes_contact_id_contacts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_binding_codes_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_binding_codes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_codes'))
    )
    with op.batch_alter_table('binding_codes', schema=None) as batch_op:
        batch_op.create_index('ix_binding_codes_code_expires_at', ['code', 'expires_at'], unique=False)

    op.create_table('external_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('bound_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bound_by_id'], ['users.id'], name=op.f('fk_external_bindings_bound_by_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_external_bindings_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_external_bindings_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_bindings')),
    sa.UniqueConstraint('external_userid', name=op.f('uq_external_bindings_external_userid'))
    )
    with op.batch_alter_table('external_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_bindings_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_external_bindings_customer_id'), ['customer_id'], unique=False)

    op.create_table('service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('respond_by', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_service_requests_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_service_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_service_requests_owner_id_users')),
    sa.ForeignKeyConstraint(['source_message_id'], ['inbound_messages.id'], name=op.f('fk_service_requests_source_message_id_inbound_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests')),
    sa.UniqueConstraint('number', name=op.f('uq_service_requests_number')),
    sa.UniqueConstraint('source_message_id', name=op.f('uq_service_requests_source_message_id'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_external_userid'), ['external_userid'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_requests_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_requests_owner_id'))
        batch_op.drop_index(batch_op.f('ix_service_requests_external_userid'))
        batch_op.drop_index(batch_op.f('ix_service_requests_customer_id'))

    op.drop_table('service_requests')
    with op.batch_alter_table('external_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_bindings_customer_id'))
        batch_op.drop_index(batch_op.f('ix_external_bindings_contact_id'))

    op.drop_table('external_bindings')
    with op.batch_alter_table('binding_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_codes_code_expires_at')

    op.drop_table('binding_codes')
    with op.batch_alter_table('kf_message_log', schema=None) as batch_op:
        batch_op.drop_index('ix_kf_message_log_user_sent_at')
        batch_op.drop_index(batch_op.f('ix_kf_message_log_inbound_id'))

    op.drop_table('kf_message_log')
    with op.batch_alter_table('kf_lookup_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_kf_lookup_failures_user_at')

    op.drop_table('kf_lookup_failures')
    op.drop_table('kf_cursors')
