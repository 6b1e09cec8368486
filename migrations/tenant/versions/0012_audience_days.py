"""The site's anonymous audience per day: page views, visits and searches.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audience_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("page_views", sa.Integer(), server_default="0", nullable=False),
        sa.Column("visits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("searches", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_audience_days")),
    )


def downgrade():
    op.drop_table("audience_days")
