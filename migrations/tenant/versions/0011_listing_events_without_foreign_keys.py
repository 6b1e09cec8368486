"""The activity log keeps its listing and import ids without foreign keys (append-only; the
per-row checks cost a third of a large import).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:00:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(
        op.f("fk_listing_events_listing_id_listings"), "listing_events", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_listing_events_import_id_listing_imports"), "listing_events", type_="foreignkey"
    )


def downgrade():
    # Ids that the log kept for rows since gone would fail the constraints: they are emptied,
    # as the constraints' ON DELETE SET NULL would have done.
    op.execute(
        "UPDATE listing_events e SET listing_id = NULL WHERE listing_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.id = e.listing_id)"
    )
    op.execute(
        "UPDATE listing_events e SET import_id = NULL WHERE import_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM listing_imports i WHERE i.id = e.import_id)"
    )
    op.create_foreign_key(
        op.f("fk_listing_events_listing_id_listings"),
        "listing_events",
        "listings",
        ["listing_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_listing_events_import_id_listing_imports"),
        "listing_events",
        "listing_imports",
        ["import_id"],
        ["id"],
        ondelete="SET NULL",
    )
