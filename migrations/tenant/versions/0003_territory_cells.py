"""The territory's 1 km cells.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:45:33.677431
"""

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('territory_cells',
    sa.Column('cell_id', sa.String(length=40), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.PrimaryKeyConstraint('cell_id', name=op.f('pk_territory_cells'))
    )


def downgrade():
    op.drop_table('territory_cells')
