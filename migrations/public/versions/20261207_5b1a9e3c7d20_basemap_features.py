"""Base map shapes (communes' and départements' boundaries, labels, OSM roads, water, built-up).

Revision ID: 5b1a9e3c7d20
Revises: 2494d9cc6116
Create Date: 2026-12-07 09:30:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '5b1a9e3c7d20'
down_revision = '2494d9cc6116'
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('basemap_features',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('layer', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), server_default='', nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('rank', sa.Integer(), server_default='0', nullable=False),
    sa.Column('minzoom', sa.SmallInteger(), nullable=False),
    sa.Column('maxzoom', sa.SmallInteger(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='GEOMETRY', srid=3857, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_basemap_features')),
    info={'national_reference': True}
    )
    op.create_geospatial_index('idx_basemap_features_geom', 'basemap_features', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_basemap_features_source_layer', 'basemap_features', ['source', 'layer'], unique=False)


def downgrade():
    op.drop_index('ix_basemap_features_source_layer', table_name='basemap_features')
    op.drop_geospatial_index('idx_basemap_features_geom', table_name='basemap_features', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('basemap_features')
