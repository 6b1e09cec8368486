"""Where a lead and each of its events came from: the territory's own site or the national
portal.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    for table, check in (("leads", "lead_origin_known"), ("lead_events", "event_origin_known")):
        op.add_column(
            table, sa.Column("origin", sa.String(length=10), server_default="site", nullable=False)
        )
        op.create_check_constraint(op.f(f"ck_{table}_{check}"), table, "origin IN ('site', 'portal')")


def downgrade():
    for table, check in (("leads", "lead_origin_known"), ("lead_events", "event_origin_known")):
        op.drop_constraint(op.f(f"ck_{table}_{check}"), table, type_="check")
        op.drop_column(table, "origin")
