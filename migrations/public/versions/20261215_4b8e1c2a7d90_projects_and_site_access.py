"""A person's moving project, and how a territory's site is opened (to everyone or by stages).

Revision ID: 4b8e1c2a7d90
Revises: 9c4b1e7a2d58
Create Date: 2026-12-15 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '4b8e1c2a7d90'
down_revision = '9c4b1e7a2d58'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'tenants',
        sa.Column('site_access', sa.String(length=10), server_default='open', nullable=False),
    )
    op.create_check_constraint(
        op.f('ck_tenants_site_access_known'), 'tenants', "site_access IN ('open', 'staged')"
    )
    op.create_table(
        'seeker_projects',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('home', sa.String(length=4), nullable=True),
        sa.Column('home_budget', sa.Integer(), nullable=True),
        sa.Column('adults', sa.Integer(), nullable=True),
        sa.Column('children', sa.Integer(), nullable=True),
        sa.Column('job', sa.String(length=3), nullable=True),
        sa.Column('job_title', sa.String(length=100), nullable=True),
        sa.Column('business', sa.String(length=3), nullable=True),
        sa.Column('business_activity', sa.String(length=100), nullable=True),
        sa.Column('leisure', postgresql.ARRAY(sa.String(length=12)), nullable=True),
        sa.Column('lives_in', sa.String(length=100), nullable=True),
        sa.Column('moving', sa.String(length=8), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("home IS NULL OR home IN ('buy', 'rent', 'none')",
                           name=op.f('ck_seeker_projects_home_known')),
        sa.CheckConstraint("job IS NULL OR job IN ('yes', 'no')",
                           name=op.f('ck_seeker_projects_job_known')),
        sa.CheckConstraint("business IS NULL OR business IN ('yes', 'no')",
                           name=op.f('ck_seeker_projects_business_known')),
        sa.CheckConstraint(
            "moving IS NULL OR moving IN ('3_months', '6_months', '1_year', 'later', 'unknown')",
            name=op.f('ck_seeker_projects_moving_known'),
        ),
        sa.CheckConstraint("home_budget IS NULL OR home_budget > 0",
                           name=op.f('ck_seeker_projects_budget_positive')),
        sa.CheckConstraint("adults IS NULL OR adults BETWEEN 1 AND 20",
                           name=op.f('ck_seeker_projects_adults_range')),
        sa.CheckConstraint("children IS NULL OR children BETWEEN 0 AND 20",
                           name=op.f('ck_seeker_projects_children_range')),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_seeker_projects_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_seeker_projects')),
    )


def downgrade():
    op.drop_table('seeker_projects')
    op.drop_constraint(op.f('ck_tenants_site_access_known'), 'tenants', type_='check')
    op.drop_column('tenants', 'site_access')
