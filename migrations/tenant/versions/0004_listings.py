"""Listings: system columns and one typed column per declared field.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 23:51:52.369717
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0004"
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='draft', nullable=False),
    sa.Column('source', sa.String(length=10), server_default='manual', nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('cell_id', sa.String(length=40), nullable=True),
    sa.Column('location_approximate', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True, comment='Description'),
    sa.Column('address', sa.String(length=300), nullable=True, comment='Address'),
    sa.Column('postcode', sa.Text(), nullable=True, comment='Postcode'),
    sa.Column('published_on', sa.Date(), nullable=True, comment='Publication date'),
    sa.Column('expires_on', sa.Date(), nullable=True, comment='Expiry date'),
    sa.Column('url', sa.String(length=500), nullable=True, comment='Link'),
    sa.Column('contact_email', sa.String(length=320), nullable=True, comment='Contact e-mail'),
    sa.Column('contact_phone', sa.String(length=30), nullable=True, comment='Contact phone'),
    sa.Column('photo_url', sa.String(length=500), nullable=True, comment='Photo (link)'),
    sa.Column('transaction', sa.Text(), nullable=True, comment='Transaction'),
    sa.Column('property_type', sa.Text(), nullable=True, comment='Property type'),
    sa.Column('price', sa.Numeric(precision=16, scale=2), nullable=True, comment='Price (€)'),
    sa.Column('charges', sa.Numeric(precision=16, scale=2), nullable=True, comment='Charges (€/month)'),
    sa.Column('living_area_m2', sa.Numeric(precision=16, scale=2), nullable=True, comment='Living area (m²)'),
    sa.Column('land_area_m2', sa.Numeric(precision=16, scale=2), nullable=True, comment='Land area (m²)'),
    sa.Column('rooms', sa.Integer(), nullable=True, comment='Rooms'),
    sa.Column('bedrooms', sa.Integer(), nullable=True, comment='Bedrooms'),
    sa.Column('energy_class', sa.Text(), nullable=True, comment='Energy class'),
    sa.Column('ges_class', sa.Text(), nullable=True, comment='Greenhouse-gas class'),
    sa.Column('year_built', sa.Integer(), nullable=True, comment='Year built'),
    sa.Column('furnished', sa.Boolean(), nullable=True, comment='Furnished'),
    sa.Column('rome_code', sa.Text(), nullable=True, comment='ROME code'),
    sa.Column('contract_type', sa.Text(), nullable=True, comment='Contract type'),
    sa.Column('full_time', sa.Boolean(), nullable=True, comment='Full time'),
    sa.Column('working_hours', sa.String(length=200), nullable=True, comment='Working hours'),
    sa.Column('salary_text', sa.String(length=200), nullable=True, comment='Salary (text)'),
    sa.Column('salary_min', sa.Numeric(precision=16, scale=2), nullable=True, comment='Minimum salary (€/year)'),
    sa.Column('salary_max', sa.Numeric(precision=16, scale=2), nullable=True, comment='Maximum salary (€/year)'),
    sa.Column('experience', sa.String(length=200), nullable=True, comment='Experience required'),
    sa.Column('apprenticeship', sa.Boolean(), nullable=True, comment='Apprenticeship'),
    sa.Column('employer_name', sa.String(length=200), nullable=True, comment='Employer'),
    sa.Column('siret', sa.Text(), nullable=True, comment="Employer's SIRET"),
    sa.Column('naf_code', sa.Text(), nullable=True, comment='NAF code'),
    sa.Column('positions', sa.Integer(), nullable=True, comment='Positions'),
    sa.Column('application_url', sa.String(length=500), nullable=True, comment='Apply (link)'),
    sa.Column('activity', sa.String(length=200), nullable=True, comment='Activity'),
    sa.Column('transfer_type', sa.Text(), nullable=True, comment='Transfer type'),
    sa.Column('annual_rent', sa.Numeric(precision=16, scale=2), nullable=True, comment='Annual rent (€)'),
    sa.Column('area_m2', sa.Numeric(precision=16, scale=2), nullable=True, comment='Area (m²)'),
    sa.Column('turnover', sa.Numeric(precision=16, scale=2), nullable=True, comment='Turnover (€)'),
    sa.Column('staff', sa.Integer(), nullable=True, comment='Staff'),
    sa.Column('reason', sa.String(length=500), nullable=True, comment='Reason'),
    sa.Column('available_from', sa.Date(), nullable=True, comment='Available from'),
    sa.Column('category', sa.String(length=100), nullable=True, comment='Category (DATAtourisme)'),
    sa.Column('start_on', sa.Date(), nullable=True, comment='Start'),
    sa.Column('end_on', sa.Date(), nullable=True, comment='End'),
    sa.Column('opening_hours', sa.String(length=500), nullable=True, comment='Opening hours (OSM syntax)'),
    sa.Column('price_text', sa.String(length=300), nullable=True, comment='Prices'),
    sa.Column('audience', sa.String(length=200), nullable=True, comment='Audience'),
    sa.Column('wheelchair', sa.Boolean(), nullable=True, comment='Wheelchair accessible'),
    sa.Column('theme', sa.String(length=100), nullable=True, comment='Theme (SCDL facilities)'),
    sa.Column('poi_type', sa.String(length=100), nullable=True, comment='Type'),
    sa.Column('bpe_code', sa.Text(), nullable=True, comment='BPE code (TYPEQU)'),
    sa.Column('osm_tag', sa.Text(), nullable=True, comment='OSM tag'),
    sa.Column('website', sa.String(length=500), nullable=True, comment='Website'),
    sa.CheckConstraint("kind IN ('real_estate', 'job', 'business', 'leisure', 'poi')", name=op.f('ck_listings_kind_known')),
    sa.CheckConstraint("source IN ('manual', 'file', 'api')", name=op.f('ck_listings_source_known')),
    sa.CheckConstraint("status IN ('draft', 'published', 'unpublished', 'expired')", name=op.f('ck_listings_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    op.create_geospatial_index('idx_listings_geom', 'listings', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_listings_cell_id'), 'listings', ['cell_id'], unique=False)
    op.create_index(op.f('ix_listings_commune_insee'), 'listings', ['commune_insee'], unique=False)
    op.create_index('ix_listings_kind_status', 'listings', ['kind', 'status'], unique=False)
    op.create_index('ix_listings_updated_at_id', 'listings', ['updated_at', 'id'], unique=False)
    op.create_index('uq_listings_kind_external_id', 'listings', ['kind', 'external_id'], unique=True)


def downgrade():
    op.drop_index('uq_listings_kind_external_id', table_name='listings')
    op.drop_index('ix_listings_updated_at_id', table_name='listings')
    op.drop_index('ix_listings_kind_status', table_name='listings')
    op.drop_index(op.f('ix_listings_commune_insee'), table_name='listings')
    op.drop_index(op.f('ix_listings_cell_id'), table_name='listings')
    op.drop_geospatial_index('idx_listings_geom', table_name='listings', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('listings')
