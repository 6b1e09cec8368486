"""Territory registry (tenants, domains, memberships) and the mail outbox.

Revision ID: 2e1163dd3ba9
Revises:
Create Date: 2026-11-21 22:04:19.075953
"""

import sqlalchemy as sa
from alembic import op

revision = '2e1163dd3ba9'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=41), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('commune', 'epci', 'departement', 'umbrella', name='tenant_kind'), nullable=False),
    sa.Column('official_code', sa.String(length=9), nullable=True),
    sa.Column('status', sa.Enum('active', 'suspended', name='tenant_status'), server_default='active', nullable=False),
    sa.Column('default_locale', sa.String(length=5), server_default='fr', nullable=False),
    sa.Column('theme', sa.String(length=40), server_default='default', nullable=False),
    sa.Column('schema_name', sa.String(length=43), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("schema_name = 't_' || slug", name=op.f('ck_tenants_schema_from_slug')),
    sa.CheckConstraint("slug ~ '^[a-z][a-z0-9_]{1,40}$'", name=op.f('ck_tenants_slug_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('schema_name', name=op.f('uq_tenants_schema_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('to_addr', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mail_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbox_message_id'))
    )
    op.create_index('ix_mail_outbox_due', 'mail_outbox', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_mail_outbox_tenant_id'), 'mail_outbox', ['tenant_id'], unique=False)
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('umbrella_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR left_on >= joined_on', name=op.f('ck_memberships_left_after_joined')),
    sa.CheckConstraint('umbrella_id <> member_id', name=op.f('ck_memberships_not_self')),
    sa.ForeignKeyConstraint(['member_id'], ['tenants.id'], name=op.f('fk_memberships_member_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['umbrella_id'], ['tenants.id'], name=op.f('fk_memberships_umbrella_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships'))
    )
    op.create_index(op.f('ix_memberships_member_id'), 'memberships', ['member_id'], unique=False)
    op.create_index(op.f('ix_memberships_umbrella_id'), 'memberships', ['umbrella_id'], unique=False)
    op.create_index('uq_memberships_current', 'memberships', ['umbrella_id', 'member_id'], unique=True, postgresql_where=sa.text('left_on IS NULL'))
    op.create_table('tenant_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('is_primary', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_domains_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_domains')),
    sa.UniqueConstraint('host', name=op.f('uq_tenant_domains_host'))
    )


def downgrade():
    op.drop_table('tenant_domains')
    op.drop_index('uq_memberships_current', table_name='memberships', postgresql_where=sa.text('left_on IS NULL'))
    op.drop_index(op.f('ix_memberships_umbrella_id'), table_name='memberships')
    op.drop_index(op.f('ix_memberships_member_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index(op.f('ix_mail_outbox_tenant_id'), table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_due', table_name='mail_outbox', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('mail_outbox')
    op.drop_table('tenants')
