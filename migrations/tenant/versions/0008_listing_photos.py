"""Listing photos stored by the platform (uploaded, or fetched once from a file's or the API's
URLs), and the photos column of listings widened to hold several URLs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "listing_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), server_default="ready", nullable=False),
        sa.Column("error", sa.String(length=30), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("alt", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('manual', 'file', 'api', 'demo')",
            name=op.f("ck_listing_photos_photo_source_known"),
        ),
        sa.CheckConstraint(
            "status IN ('ready', 'failed')", name=op.f("ck_listing_photos_photo_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_listing_photos_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_photos")),
    )
    op.create_index(
        op.f("ix_listing_photos_listing_id"), "listing_photos", ["listing_id"], unique=False
    )
    op.create_index(op.f("ix_listing_photos_digest"), "listing_photos", ["digest"], unique=False)
    op.create_index(
        "uq_listing_photos_listing_id_source_url",
        "listing_photos",
        ["listing_id", "source_url"],
        unique=True,
    )
    op.alter_column(
        "listings",
        "photo_url",
        type_=sa.Text(),
        existing_type=sa.String(length=500),
        comment="Photos (links)",
        existing_comment="Photo (link)",
        existing_nullable=True,
    )


def downgrade():
    op.alter_column(
        "listings",
        "photo_url",
        type_=sa.String(length=500),
        existing_type=sa.Text(),
        comment="Photo (link)",
        existing_comment="Photos (links)",
        existing_nullable=True,
        postgresql_using="left(photo_url, 500)",
    )
    op.drop_index("uq_listing_photos_listing_id_source_url", table_name="listing_photos")
    op.drop_index(op.f("ix_listing_photos_digest"), table_name="listing_photos")
    op.drop_index(op.f("ix_listing_photos_listing_id"), table_name="listing_photos")
    op.drop_table("listing_photos")
