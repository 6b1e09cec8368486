"""Home page texts per language, branding, and who last edited pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
    ]


def upgrade():
    op.add_column("pages", sa.Column("updated_by_id", sa.Integer(), nullable=True))
    op.create_table(
        "home_texts",
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("introduction", sa.Text(), server_default="", nullable=False),
        sa.Column("axis_productive", sa.Text(), server_default="", nullable=False),
        sa.Column("axis_tourism", sa.Text(), server_default="", nullable=False),
        sa.Column("axis_residential", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("locale IN ('fr', 'en')", name=op.f("ck_home_texts_locale_known")),
        sa.PrimaryKeyConstraint("locale", name=op.f("pk_home_texts")),
    )
    op.create_table(
        "branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("primary", sa.String(length=7), nullable=True),
        sa.Column("on_primary", sa.String(length=7), nullable=True),
        sa.Column("background", sa.String(length=7), nullable=True),
        sa.Column("text", sa.String(length=7), nullable=True),
        sa.Column("font", sa.String(length=40), nullable=True),
        sa.Column("logo_key", sa.String(length=200), nullable=True),
        sa.Column("logo_type", sa.String(length=40), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("id = 1", name=op.f("ck_branding_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding")),
    )


def downgrade():
    op.drop_table("branding")
    op.drop_table("home_texts")
    op.drop_column("pages", "updated_by_id")
