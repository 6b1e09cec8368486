"""Manual entitlement grants: a territory being set up before its contract is signed.

Revision ID: 3f7d2b9c4e10
Revises: 8c41f0a2d6e5
Create Date: 2026-12-12 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '3f7d2b9c4e10'
down_revision = '8c41f0a2d6e5'
branch_labels = None
depends_on = None

FEATURES = ('base', 'barometer', 'site', 'jobs')


def upgrade():
    op.create_table(
        'entitlement_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('feature', sa.Enum(*FEATURES, name='entitlement_feature'), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=True),
        sa.Column('granted_by_ref', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_ref', sa.String(length=32), nullable=True),
        sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_entitlement_grants_ends_after_start')),
        sa.CheckConstraint('length(btrim(reason)) > 0', name=op.f('ck_entitlement_grants_reason_given')),
        sa.ForeignKeyConstraint(['granted_by'], ['accounts.id'], name=op.f('fk_entitlement_grants_granted_by_accounts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_entitlement_grants_tenant_id_tenants'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_entitlement_grants')),
    )
    op.create_index(op.f('ix_entitlement_grants_tenant_id'), 'entitlement_grants', ['tenant_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_entitlement_grants_tenant_id'), table_name='entitlement_grants')
    op.drop_table('entitlement_grants')
    sa.Enum(name='entitlement_feature').drop(op.get_bind(), checkfirst=False)
