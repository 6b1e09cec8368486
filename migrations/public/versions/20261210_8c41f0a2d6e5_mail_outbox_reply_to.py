"""The outbox's Reply-To: where the recipient's answer goes (a visitor writing to an advertiser).

Revision ID: 8c41f0a2d6e5
Revises: 5b1a9e3c7d20
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '8c41f0a2d6e5'
down_revision = '5b1a9e3c7d20'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('mail_outbox', sa.Column('reply_to', sa.String(length=320), nullable=True))


def downgrade():
    op.drop_column('mail_outbox', 'reply_to')
