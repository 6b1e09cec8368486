"""An umbrella contract's term: the umbrella manages its member towns' teams (an entitlement).

Revision ID: 9c4b1e7a2d58
Revises: 6a2e8d4f1b37
Create Date: 2026-12-14 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '9c4b1e7a2d58'
down_revision = '6a2e8d4f1b37'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'billing_contracts',
        sa.Column('manages_members', sa.Boolean(), server_default='false', nullable=False),
    )
    op.execute("ALTER TYPE entitlement_feature ADD VALUE IF NOT EXISTS 'member_teams'")


def downgrade():
    op.drop_column('billing_contracts', 'manages_members')
    # A value cannot leave an enum type: grants of it go, then the type is rebuilt without it.
    op.execute("DELETE FROM entitlement_grants WHERE feature = 'member_teams'")
    op.execute("ALTER TYPE entitlement_feature RENAME TO entitlement_feature_old")
    op.execute("CREATE TYPE entitlement_feature AS ENUM ('base', 'barometer', 'site', 'jobs')")
    op.execute(
        "ALTER TABLE entitlement_grants ALTER COLUMN feature TYPE entitlement_feature "
        "USING CAST(CAST(feature AS text) AS entitlement_feature)"
    )
    op.execute("DROP TYPE entitlement_feature_old")
