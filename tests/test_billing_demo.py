"""`flask billing seed-demo`: the demo's customers, contracts and invoices, once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from billing.contracts import check_siret
from billing.models import Contract, Customer, Invoice, InvoiceStatus
from core.extensions import db
from tenants.provisioning import add_member
from tests import billing_helpers
from tests.billing_helpers import ADMIN_HOST, BASE, count, set_today, text

#: The shared fixture every test here asks for.
billing_rows = billing_helpers.billing_rows
pytestmark = pytest.mark.usefixtures("billing_rows")

TABLES = (
    "billing_customers",
    "billing_contracts",
    "billing_contract_options",
    "memberships",
    "billing_invoices",
    "billing_invoice_lines",
    "billing_payments",
)


def counts(app) -> dict[str, int]:
    return {table: count(app, table) for table in TABLES}


@pytest.fixture
def demo_towns(app, make_tenant):
    """The territories of `flask tenants seed-demo` that billing needs (dropped afterwards)."""
    make_tenant(slug="saint_flour", name="Saint-Flour")
    make_tenant(slug="pvd_cantal", kind="umbrella", name="Petites villes de demain du Cantal")
    for slug, name, code in (
        ("mauriac", "Mauriac", "15120"),
        ("murat", "Murat", "15138"),
        ("riom_es_montagnes", "Riom-ès-Montagnes", "15162"),
    ):
        make_tenant(slug=slug, name=name, code=code)
    with app.app_context():
        for slug in ("mauriac", "murat", "riom_es_montagnes"):
            add_member("pvd_cantal", slug, date(2027, 1, 1))
        db.session.commit()


def test_seed_demo_needs_the_demo_territories(app, runner):
    before = counts(app)
    result = runner.invoke(args=["billing", "seed-demo", "--date", "2027-06-15"])
    assert result.exit_code == 1
    assert "flask tenants seed-demo" in result.output
    assert counts(app) == before


def test_seed_demo_bills_saint_flour_and_the_pvd_umbrella_once(
    app, runner, demo_towns, make_account, visitor, monkeypatch
):
    first = runner.invoke(args=["billing", "seed-demo", "--date", "2027-06-15"])
    assert first.exit_code == 0, first.output
    assert "3 new invoice(s)" in first.output
    seeded = counts(app)
    assert seeded["billing_customers"] == 2 and seeded["billing_contracts"] == 2
    # The umbrella's towns are its memberships, billed as they are: none added, none copied.
    assert seeded["memberships"] == 3 and seeded["billing_payments"] == 1

    again = runner.invoke(args=["billing", "seed-demo", "--date", "2027-06-15"])
    assert again.exit_code == 0, again.output
    assert "0 new invoice(s)" in again.output
    assert counts(app) == seeded

    with app.app_context():
        customers = db.session.execute(select(Customer).order_by(Customer.id)).scalars().all()
        assert [c.legal_name for c in customers][0] == "Commune de Saint-Flour"
        for customer in customers:
            assert check_siret(customer.siret) == customer.siret
            assert customer.billing_email.endswith(".demo.vivrau.localhost")
        saint_flour, umbrella = (
            db.session.execute(select(Contract).order_by(Contract.id)).scalars().all()
        )
        assert (saint_flour.start_on, saint_flour.go_live_on) == (
            date(2027, 2, 1),
            date(2027, 4, 1),
        )
        assert [o.item.value for o in saint_flour.options] == ["option2"]
        assert sorted(o.item.value for o in umbrella.options) == ["option1", "option2", "option3"]
        invoices = db.session.execute(select(Invoice).order_by(Invoice.number)).scalars().all()
        # Each invoice was issued on its due date, numbered in that order.
        assert [(i.contract_id, i.schedule_key, i.issue_date) for i in invoices] == [
            (saint_flour.id, "y1-signature", date(2027, 2, 1)),
            (saint_flour.id, "y1-go-live", date(2027, 4, 1)),
            (umbrella.id, "y1-signature", date(2027, 6, 1)),
        ]
        assert [i.status for i in invoices] == [
            InvoiceStatus.paid,
            InvoiceStatus.finalised,
            InvoiceStatus.finalised,
        ]
        # Saint-Flour: 30 % of 12 × 1 600 €, incl. VAT.
        assert invoices[0].total_ttc_cents == 691_200
        db.session.rollback()

    # The console lists them: one paid, one overdue (Saint-Flour's go-live invoice).
    set_today(monkeypatch, "2027-06-15")
    admin = visitor(ADMIN_HOST)
    admin.login(make_account(roles=[("billing_admin", None)]))
    listed = text(admin.get(f"{BASE}/factures")).split("<tbody>", 1)[1]
    assert listed.count("status-paid") == 1 and listed.count("status-overdue") == 1
    assert "Commune de Saint-Flour" in listed and "Commune de Mauriac" in listed
