"""Billing: price catalogue (seeded), customers, contracts, invoices, payments, numbering.

Revision ID: 2494d9cc6116
Revises: 7393879dc9af
Create Date: 2026-11-22 01:15:17.529437
"""

from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '2494d9cc6116'
down_revision = '7393879dc9af'
branch_labels = None
depends_on = None

#: The offer of the commercial proposal (€ HT per month), PVD discounts 50 % / 60 % / 60 %.
PRICES = {
    # item: (département, epci, commune, PVD discount in basis points)
    "base": (110000, 110000, 110000, 0),
    "option1": (30000, 25000, 20000, 5000),
    "option2": (80000, 65000, 50000, 6000),
    "option3": (50000, 40000, 30000, 6000),
}
PRICES_FROM = "2026-01-01"

#: Finalised invoices never change (only their status, payment and document fields move
#: forward), are never deleted, and neither are their lines.
GUARD = """
CREATE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is finalised and cannot be deleted', OLD.number
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        (NEW.number, NEW.kind, NEW.customer_id, NEW.contract_id, NEW.credits_invoice_id,
         NEW.schedule_key, NEW.title, NEW.issue_date, NEW.due_date, NEW.period_start,
         NEW.period_end, NEW.seller, NEW.buyer, NEW.engagement_number, NEW.service_code,
         NEW.currency, NEW.total_ht_cents, NEW.total_vat_cents, NEW.total_ttc_cents)
        IS DISTINCT FROM
        (OLD.number, OLD.kind, OLD.customer_id, OLD.contract_id, OLD.credits_invoice_id,
         OLD.schedule_key, OLD.title, OLD.issue_date, OLD.due_date, OLD.period_start,
         OLD.period_end, OLD.seller, OLD.buyer, OLD.engagement_number, OLD.service_code,
         OLD.currency, OLD.total_ht_cents, OLD.total_vat_cents, OLD.total_ttc_cents)
        OR NEW.status = 'draft'
        OR (OLD.status = 'void' AND NEW.status <> 'void')
    ) THEN
        RAISE EXCEPTION 'invoice % is finalised and cannot be modified', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER billing_invoices_guard BEFORE UPDATE OR DELETE ON billing_invoices
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM billing_invoices WHERE id = target AND status <> 'draft')
       OR (TG_OP = 'UPDATE' AND EXISTS (
            SELECT 1 FROM billing_invoices WHERE id = OLD.invoice_id AND status <> 'draft')) THEN
        RAISE EXCEPTION 'the lines of a finalised invoice cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER billing_invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE
    ON billing_invoice_lines FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_guard();
"""


def upgrade():
    op.create_table('billing_catalogue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item', sa.Enum('base', 'option1', 'option2', 'option3', name='billing_item'), nullable=False),
    sa.Column('tier', sa.Enum('departement', 'epci', 'commune', name='billing_tier'), nullable=False),
    sa.Column('monthly_cents', sa.BigInteger(), nullable=False),
    sa.Column('pvd_discount_bp', sa.Integer(), server_default='0', nullable=False),
    sa.Column('minimum_months', sa.Integer(), server_default='12', nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.CheckConstraint('minimum_months >= 0', name=op.f('ck_billing_catalogue_minimum_not_negative')),
    sa.CheckConstraint('monthly_cents >= 0', name=op.f('ck_billing_catalogue_price_not_negative')),
    sa.CheckConstraint('pvd_discount_bp BETWEEN 0 AND 10000', name=op.f('ck_billing_catalogue_discount_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_catalogue')),
    sa.UniqueConstraint('item', 'tier', 'valid_from', name=op.f('uq_billing_catalogue_item_tier_valid_from'))
    )
    op.create_table('billing_invoice_sequences',
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('last_issue_date', sa.Date(), nullable=True),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_billing_invoice_sequences_last_number_not_negative')),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_billing_invoice_sequences'))
    )
    op.create_table('billing_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('address_line1', sa.String(length=200), nullable=False),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country_code', sa.String(length=2), server_default='FR', nullable=False),
    sa.Column('billing_email', sa.String(length=320), nullable=False),
    sa.Column('service_code', sa.String(length=100), nullable=True),
    sa.Column('engagement_number', sa.String(length=50), nullable=True),
    sa.Column('vat_rate_bp', sa.Integer(), server_default='2000', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("siret ~ '^\\d{14}$'", name=op.f('ck_billing_customers_siret_format')),
    sa.CheckConstraint('vat_rate_bp BETWEEN 0 AND 10000', name=op.f('ck_billing_customers_vat_rate_range')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_customers_tenant_id_tenants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_customers'))
    )
    op.create_index(op.f('ix_billing_customers_tenant_id'), 'billing_customers', ['tenant_id'], unique=False)
    op.create_table('billing_contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('departement', 'epci', 'commune', 'umbrella', name='billing_contract_kind'), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('go_live_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('price_date', sa.Date(), nullable=False),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("end_on <= start_on + interval '5 years'", name=op.f('ck_billing_contracts_at_most_five_years')),
    sa.CheckConstraint('end_on > start_on', name=op.f('ck_billing_contracts_end_after_start')),
    sa.CheckConstraint('go_live_on IS NULL OR go_live_on >= start_on', name=op.f('ck_billing_contracts_go_live_after_start')),
    sa.CheckConstraint('terminated_on IS NULL OR terminated_on BETWEEN start_on AND end_on', name=op.f('ck_billing_contracts_terminated_within')),
    sa.ForeignKeyConstraint(['customer_id'], ['billing_customers.id'], name=op.f('fk_billing_contracts_customer_id_billing_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_contracts'))
    )
    op.create_index(op.f('ix_billing_contracts_customer_id'), 'billing_contracts', ['customer_id'], unique=False)
    op.create_table('billing_contract_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.Enum('base', 'option1', 'option2', 'option3', name='billing_item'), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.CheckConstraint("item <> 'base'", name=op.f('ck_billing_contract_options_option_not_base')),
    sa.CheckConstraint('cancelled_on IS NULL OR cancelled_on > start_on', name=op.f('ck_billing_contract_options_cancelled_after_start')),
    sa.ForeignKeyConstraint(['contract_id'], ['billing_contracts.id'], name=op.f('fk_billing_contract_options_contract_id_billing_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_contract_options'))
    )
    op.create_index(op.f('ix_billing_contract_options_contract_id'), 'billing_contract_options', ['contract_id'], unique=False)
    op.create_table('billing_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.Enum('invoice', 'credit_note', name='billing_invoice_kind'), nullable=False),
    sa.Column('status', sa.Enum('draft', 'finalised', 'paid', 'void', name='billing_invoice_status'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('credits_invoice_id', sa.Integer(), nullable=True),
    sa.Column('schedule_key', sa.String(length=40), nullable=True),
    sa.Column('due_on_schedule', sa.Date(), nullable=True),
    sa.Column('title', sa.String(length=200), server_default='', nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('seller', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('buyer', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('engagement_number', sa.String(length=50), nullable=True),
    sa.Column('service_code', sa.String(length=100), nullable=True),
    sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False),
    sa.Column('total_ht_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_vat_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('total_ttc_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('pdf_key', sa.String(length=300), nullable=True),
    sa.Column('ubl_key', sa.String(length=300), nullable=True),
    sa.Column('reminder_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_reminded_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('voided_on', sa.Date(), nullable=True),
    sa.CheckConstraint("(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name=op.f('ck_billing_invoices_credit_note_target')),
    sa.CheckConstraint("(status = 'draft') = (number IS NULL)", name=op.f('ck_billing_invoices_number_iff_not_draft')),
    sa.CheckConstraint('total_ttc_cents = total_ht_cents + total_vat_cents', name=op.f('ck_billing_invoices_totals_add_up')),
    sa.ForeignKeyConstraint(['contract_id'], ['billing_contracts.id'], name=op.f('fk_billing_invoices_contract_id_billing_contracts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['credits_invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_invoices_credits_invoice_id_billing_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['billing_customers.id'], name=op.f('fk_billing_invoices_customer_id_billing_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_billing_invoices_number'))
    )
    op.create_index(op.f('ix_billing_invoices_contract_id'), 'billing_invoices', ['contract_id'], unique=False)
    op.create_index(op.f('ix_billing_invoices_credits_invoice_id'), 'billing_invoices', ['credits_invoice_id'], unique=False)
    op.create_index(op.f('ix_billing_invoices_customer_id'), 'billing_invoices', ['customer_id'], unique=False)
    op.create_index('ix_billing_invoices_status_due', 'billing_invoices', ['status', 'due_date'], unique=False)
    op.create_index('uq_billing_invoices_schedule', 'billing_invoices', ['contract_id', 'schedule_key'], unique=True, postgresql_where=sa.text("schedule_key IS NOT NULL AND status <> 'void'"))
    op.create_table('billing_umbrella_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('member_tenant_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tier', sa.Enum('departement', 'epci', 'commune', name='billing_tier'), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR left_on > joined_on', name=op.f('ck_billing_umbrella_members_left_after_joined')),
    sa.ForeignKeyConstraint(['contract_id'], ['billing_contracts.id'], name=op.f('fk_billing_umbrella_members_contract_id_billing_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_tenant_id'], ['tenants.id'], name=op.f('fk_billing_umbrella_members_member_tenant_id_tenants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_umbrella_members'))
    )
    op.create_index(op.f('ix_billing_umbrella_members_contract_id'), 'billing_umbrella_members', ['contract_id'], unique=False)
    op.create_index(op.f('ix_billing_umbrella_members_member_tenant_id'), 'billing_umbrella_members', ['member_tenant_id'], unique=False)
    op.create_table('billing_invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=30), nullable=True),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('unit_cents', sa.BigInteger(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_invoice_lines_invoice_id_billing_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_billing_invoice_lines_invoice_id_position'))
    )
    op.create_index(op.f('ix_billing_invoice_lines_invoice_id'), 'billing_invoice_lines', ['invoice_id'], unique=False)
    op.create_table('billing_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=100), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_billing_payments_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_payments_invoice_id_billing_invoices'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payments'))
    )
    op.create_index(op.f('ix_billing_payments_invoice_id'), 'billing_payments', ['invoice_id'], unique=False)
    catalogue = sa.table(
        "billing_catalogue",
        sa.column("item", sa.String),
        sa.column("tier", sa.String),
        sa.column("monthly_cents", sa.BigInteger),
        sa.column("pvd_discount_bp", sa.Integer),
        sa.column("minimum_months", sa.Integer),
        sa.column("valid_from", sa.Date),
    )
    rows = []
    for item, (departement, epci, commune, discount) in PRICES.items():
        for tier, cents in (("departement", departement), ("epci", epci), ("commune", commune)):
            rows.append(dict(item=item, tier=tier, monthly_cents=cents, pvd_discount_bp=discount,
                             minimum_months=12, valid_from=date.fromisoformat(PRICES_FROM)))
    op.execute(catalogue.insert().values(
        [{**r, "item": sa.cast(r["item"], sa.Enum(name="billing_item")),
          "tier": sa.cast(r["tier"], sa.Enum(name="billing_tier"))} for r in rows]
    ))
    op.execute(GUARD)


def downgrade():
    op.execute("DROP TRIGGER billing_invoice_lines_guard ON billing_invoice_lines")
    op.execute("DROP TRIGGER billing_invoices_guard ON billing_invoices")
    op.execute("DROP FUNCTION billing_invoice_line_guard()")
    op.execute("DROP FUNCTION billing_invoice_guard()")
    op.drop_index(op.f('ix_billing_payments_invoice_id'), table_name='billing_payments')
    op.drop_table('billing_payments')
    op.drop_index(op.f('ix_billing_invoice_lines_invoice_id'), table_name='billing_invoice_lines')
    op.drop_table('billing_invoice_lines')
    op.drop_index(op.f('ix_billing_umbrella_members_member_tenant_id'), table_name='billing_umbrella_members')
    op.drop_index(op.f('ix_billing_umbrella_members_contract_id'), table_name='billing_umbrella_members')
    op.drop_table('billing_umbrella_members')
    op.drop_index('uq_billing_invoices_schedule', table_name='billing_invoices', postgresql_where=sa.text("schedule_key IS NOT NULL AND status <> 'void'"))
    op.drop_index('ix_billing_invoices_status_due', table_name='billing_invoices')
    op.drop_index(op.f('ix_billing_invoices_customer_id'), table_name='billing_invoices')
    op.drop_index(op.f('ix_billing_invoices_credits_invoice_id'), table_name='billing_invoices')
    op.drop_index(op.f('ix_billing_invoices_contract_id'), table_name='billing_invoices')
    op.drop_table('billing_invoices')
    op.drop_index(op.f('ix_billing_contract_options_contract_id'), table_name='billing_contract_options')
    op.drop_table('billing_contract_options')
    op.drop_index(op.f('ix_billing_contracts_customer_id'), table_name='billing_contracts')
    op.drop_table('billing_contracts')
    op.drop_index(op.f('ix_billing_customers_tenant_id'), table_name='billing_customers')
    op.drop_table('billing_customers')
    op.drop_table('billing_invoice_sequences')
    op.drop_table('billing_catalogue')
    for name in ("billing_invoice_status", "billing_invoice_kind", "billing_contract_kind",
                 "billing_tier", "billing_item"):
        op.execute(f"DROP TYPE {name}")
