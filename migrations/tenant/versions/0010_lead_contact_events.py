"""Lead events of kind `contact`: a signed-in person wrote to a listing's advertiser.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(op.f("ck_lead_events_event_kind_known"), "lead_events", type_="check")
    op.create_check_constraint(
        op.f("ck_lead_events_event_kind_known"),
        "lead_events",
        "kind IN ('search', 'click', 'contact')",
    )


def downgrade():
    op.execute("DELETE FROM lead_events WHERE kind = 'contact'")
    op.drop_constraint(op.f("ck_lead_events_event_kind_known"), "lead_events", type_="check")
    op.create_check_constraint(
        op.f("ck_lead_events_event_kind_known"), "lead_events", "kind IN ('search', 'click')"
    )
