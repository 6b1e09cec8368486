"""The home page: the axes' headings as the territory names them and the hero photo's alt text
(per language), and the hero photo itself (with the branding).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_HEADINGS = ("axis_productive_title", "axis_tourism_title", "axis_residential_title")


def upgrade():
    for name in _HEADINGS:
        op.add_column(
            "home_texts",
            sa.Column(name, sa.String(length=120), server_default="", nullable=False),
        )
    op.add_column(
        "home_texts", sa.Column("hero_alt", sa.String(length=300), server_default="", nullable=False)
    )
    op.add_column("branding", sa.Column("hero_key", sa.String(length=200), nullable=True))
    op.add_column("branding", sa.Column("hero_type", sa.String(length=40), nullable=True))


def downgrade():
    op.drop_column("branding", "hero_type")
    op.drop_column("branding", "hero_key")
    op.drop_column("home_texts", "hero_alt")
    for name in reversed(_HEADINGS):
        op.drop_column("home_texts", name)
