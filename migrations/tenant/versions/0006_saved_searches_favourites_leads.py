"""Saved searches, favourites, leads and consents.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 00:39:26.588835
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lead_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('text_version', sa.String(length=20), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_consents'))
    )
    op.create_index(op.f('ix_lead_consents_account_id'), 'lead_consents', ['account_id'], unique=False)
    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('prospect_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("stage IN ('contact', 'prospect')", name=op.f('ck_leads_stage_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    op.create_index(op.f('ix_leads_account_id'), 'leads', ['account_id'], unique=False)
    op.create_index(op.f('ix_leads_commune_insee'), 'leads', ['commune_insee'], unique=False)
    op.create_index('uq_leads_account_commune', 'leads', ['account_id', 'commune_insee'], unique=True)
    op.create_table('saved_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches'))
    )
    op.create_index(op.f('ix_saved_searches_account_id'), 'saved_searches', ['account_id'], unique=False)
    op.create_index('uq_saved_searches_account_name', 'saved_searches', ['account_id', 'name'], unique=True)
    op.create_table('favourites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('radius_km', sa.Integer(), server_default='10', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_favourites_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_favourites'))
    )
    op.create_index(op.f('ix_favourites_account_id'), 'favourites', ['account_id'], unique=False)
    op.create_index('uq_favourites_account_listing', 'favourites', ['account_id', 'listing_id'], unique=True)
    op.create_table('lead_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('cells', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('criteria', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('budget', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.CheckConstraint("kind IN ('search', 'click')", name=op.f('ck_lead_events_event_kind_known')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_events_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_events'))
    )
    op.create_index(op.f('ix_lead_events_at'), 'lead_events', ['at'], unique=False)
    op.create_index(op.f('ix_lead_events_lead_id'), 'lead_events', ['lead_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_lead_events_lead_id'), table_name='lead_events')
    op.drop_index(op.f('ix_lead_events_at'), table_name='lead_events')
    op.drop_table('lead_events')
    op.drop_index('uq_favourites_account_listing', table_name='favourites')
    op.drop_index(op.f('ix_favourites_account_id'), table_name='favourites')
    op.drop_table('favourites')
    op.drop_index('uq_saved_searches_account_name', table_name='saved_searches')
    op.drop_index(op.f('ix_saved_searches_account_id'), table_name='saved_searches')
    op.drop_table('saved_searches')
    op.drop_index('uq_leads_account_commune', table_name='leads')
    op.drop_index(op.f('ix_leads_commune_insee'), table_name='leads')
    op.drop_index(op.f('ix_leads_account_id'), table_name='leads')
    op.drop_table('leads')
    op.drop_index(op.f('ix_lead_consents_account_id'), table_name='lead_consents')
    op.drop_table('lead_consents')
