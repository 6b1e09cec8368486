"""Import runs: how many started, how many their worker left unfinished, and the last sign of
life of the current one (the import sweep re-runs an import whose heartbeat stopped).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "listing_imports",
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "listing_imports",
        sa.Column("interruptions", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "listing_imports",
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Every import already past "queued" ran once; without this the history would say 0 runs.
    op.execute("UPDATE listing_imports SET attempts = 1 WHERE status <> 'queued'")


def downgrade():
    op.drop_column("listing_imports", "heartbeat_at")
    op.drop_column("listing_imports", "interruptions")
    op.drop_column("listing_imports", "attempts")
