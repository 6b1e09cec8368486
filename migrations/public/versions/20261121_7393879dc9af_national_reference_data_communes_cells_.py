"""National reference data: communes, cells, points of interest, gridded population, sales, cell profiles.

Revision ID: 7393879dc9af
Revises: cdda54a82317
Create Date: 2026-11-21 22:45:32.032958
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '7393879dc9af'
down_revision = 'cdda54a82317'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cell_population',
    sa.Column('cell_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('ind', sa.Double(), nullable=False),
    sa.Column('men', sa.Double(), nullable=False),
    sa.Column('men_pauv', sa.Double(), nullable=False),
    sa.Column('ind_snv', sa.Double(), nullable=False),
    sa.Column('log_soc', sa.Double(), nullable=False),
    sa.Column('ind_0_17', sa.Double(), nullable=False),
    sa.Column('ind_18_64', sa.Double(), nullable=False),
    sa.Column('ind_65p', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('cell_id', name=op.f('pk_cell_population')),
    info={'national_reference': True}
    )
    op.create_table('cell_profiles',
    sa.Column('cell_id', sa.String(length=40), nullable=False),
    sa.Column('departement', sa.String(length=3), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('gp_km', sa.Float(), nullable=True, comment='Nearest GP'),
    sa.Column('pharmacy_km', sa.Float(), nullable=True, comment='Nearest pharmacy'),
    sa.Column('dentist_km', sa.Float(), nullable=True, comment='Nearest dentist'),
    sa.Column('emergency_km', sa.Float(), nullable=True, comment='Nearest emergency unit'),
    sa.Column('nursery_km', sa.Float(), nullable=True, comment='Nearest nursery'),
    sa.Column('primary_school_km', sa.Float(), nullable=True, comment='Nearest nursery or primary school'),
    sa.Column('college_km', sa.Float(), nullable=True, comment='Nearest lower secondary school (collège)'),
    sa.Column('lycee_km', sa.Float(), nullable=True, comment='Nearest upper secondary school (lycée)'),
    sa.Column('supermarket_km', sa.Float(), nullable=True, comment='Nearest supermarket'),
    sa.Column('bakery_km', sa.Float(), nullable=True, comment='Nearest bakery'),
    sa.Column('post_km', sa.Float(), nullable=True, comment='Nearest post office or France Services'),
    sa.Column('bank_km', sa.Float(), nullable=True, comment='Nearest bank'),
    sa.Column('train_station_km', sa.Float(), nullable=True, comment='Nearest train station'),
    sa.Column('ev_charger_km', sa.Float(), nullable=True, comment='Nearest EV charger'),
    sa.Column('sport_count', sa.Float(), nullable=True, comment='Sports facilities within 5 km'),
    sa.Column('culture_count', sa.Float(), nullable=True, comment='Cultural facilities within 5 km'),
    sa.Column('leisure_count', sa.Float(), nullable=True, comment='Leisure places within 5 km'),
    sa.Column('tourism_count', sa.Float(), nullable=True, comment='Tourism facilities within 5 km'),
    sa.Column('restaurant_count', sa.Float(), nullable=True, comment='Restaurants and cafés within 5 km'),
    sa.Column('house_price_m2', sa.Float(), nullable=True, comment='Median price per m², houses'),
    sa.Column('flat_price_m2', sa.Float(), nullable=True, comment='Median price per m², flats'),
    sa.Column('density', sa.Float(), nullable=True, comment='Population density'),
    sa.Column('poverty_share', sa.Float(), nullable=True, comment='Share of poor households'),
    sa.Column('living_standard', sa.Float(), nullable=True, comment='Average standard of living'),
    sa.Column('social_housing_share', sa.Float(), nullable=True, comment='Social housing per 100 households'),
    sa.Column('under_18_share', sa.Float(), nullable=True, comment='Share of under-18s'),
    sa.Column('over_65_share', sa.Float(), nullable=True, comment='Share of people aged 65 and over'),
    sa.PrimaryKeyConstraint('cell_id', name=op.f('pk_cell_profiles')),
    info={'national_reference': True}
    )
    op.create_index(op.f('ix_cell_profiles_departement'), 'cell_profiles', ['departement'], unique=False)
    op.create_table('cells',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('epsg', sa.Integer(), nullable=False),
    sa.Column('northing', sa.BigInteger(), nullable=False),
    sa.Column('easting', sa.BigInteger(), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cells')),
    info={'national_reference': True}
    )
    op.create_index(op.f('ix_cells_commune_insee'), 'cells', ['commune_insee'], unique=False)
    op.create_geospatial_table('communes',
    sa.Column('insee', sa.String(length=5), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('departement', sa.String(length=3), nullable=False),
    sa.Column('epci_siren', sa.String(length=9), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('insee', name=op.f('pk_communes'))
    )
    op.create_geospatial_index('idx_communes_geom', 'communes', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_communes_departement'), 'communes', ['departement'], unique=False)
    op.create_index(op.f('ix_communes_epci_siren'), 'communes', ['epci_siren'], unique=False)
    op.create_geospatial_table('pois',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('source_id', sa.String(length=80), nullable=False),
    sa.Column('type_code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('cell_id', sa.String(length=40), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pois')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_pois_source_source_id'))
    )
    op.create_geospatial_index('idx_pois_geom', 'pois', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_pois_cell_id'), 'pois', ['cell_id'], unique=False)
    op.create_index('ix_pois_source_type', 'pois', ['source', 'type_code'], unique=False)
    op.create_geospatial_table('property_sales',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('source_id', sa.String(length=80), nullable=False),
    sa.Column('sold_on', sa.Date(), nullable=True),
    sa.Column('property_type', sa.String(length=20), nullable=False),
    sa.Column('price_eur', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('built_area_m2', sa.Double(), nullable=False),
    sa.Column('cell_id', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_sales')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_property_sales_source_source_id'))
    )
    op.create_index(op.f('ix_property_sales_cell_id'), 'property_sales', ['cell_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_property_sales_cell_id'), table_name='property_sales')
    op.drop_geospatial_table('property_sales')
    op.drop_index('ix_pois_source_type', table_name='pois')
    op.drop_index(op.f('ix_pois_cell_id'), table_name='pois')
    op.drop_geospatial_index('idx_pois_geom', table_name='pois', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('pois')
    op.drop_index(op.f('ix_communes_epci_siren'), table_name='communes')
    op.drop_index(op.f('ix_communes_departement'), table_name='communes')
    op.drop_geospatial_index('idx_communes_geom', table_name='communes', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('communes')
    op.drop_index(op.f('ix_cells_commune_insee'), table_name='cells')
    op.drop_table('cells')
    op.drop_index(op.f('ix_cell_profiles_departement'), table_name='cell_profiles')
    op.drop_table('cell_profiles')
    op.drop_table('cell_population')
