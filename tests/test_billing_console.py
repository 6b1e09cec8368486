"""Billing pages: roles, the quote, customers."""

from __future__ import annotations

import io
import re

import pytest
from email_validator import EmailNotValidError
from pypdf import PdfReader

from billing.contracts import billing_email
from billing.models import Customer
from core.extensions import db
from tests import billing_helpers
from tests.billing_helpers import (
    ADMIN_HOST,
    BASE,
    COMMUNE_SIRET,
    cell,
    count,
    created_id,
    customer_data,
    make_customer,
    set_today,
    text,
)
from tests.support import drop_tenants

#: The shared fixtures this module's tests ask for.
billing_admin = billing_helpers.billing_admin
billing_rows = billing_helpers.billing_rows


def test_only_billing_admins_on_the_admin_host(app, make_account, make_tenant, visitor):
    anonymous = visitor(ADMIN_HOST).get("/plateforme/facturation/")
    assert anonymous.status_code == 302 and "/compte/connexion" in anonymous.headers["Location"]
    town = make_tenant()
    editor = visitor(ADMIN_HOST)
    editor.login(make_account(roles=[("admin", town)]))
    for path in ("/", "/devis", "/clients", "/contrats", "/factures", "/factures.csv"):
        assert editor.get("/plateforme/facturation" + path).status_code == 403, path
    admin = visitor(ADMIN_HOST)
    admin.login(make_account(roles=[("billing_admin", None)]))
    assert admin.get("/plateforme/facturation/").status_code == 200
    platform = text(admin.get("/plateforme/"))
    assert 'href="/plateforme/facturation/"' in platform
    # A territory's host never serves the platform's billing pages.
    assert visitor(town).get("/plateforme/facturation/").status_code == 404


def test_quote_page_prices_like_the_cli(app, billing_admin):
    page = billing_admin.get(
        "/plateforme/facturation/devis?kind=umbrella&options=1&options=2&options=3"
        "&members=4&member_kind=epci"
    )
    assert page.status_code == 200
    body = text(page)
    assert cell(body, "total-ht") == "3 280,00 €"
    assert cell(body, "total-vat") == "656,00 €"
    assert cell(body, "total-ttc") == "3 936,00 €"
    commune = text(billing_admin.get("/plateforme/facturation/devis?kind=commune"))
    assert cell(commune, "total-ttc") == "1 320,00 €"
    missing = billing_admin.get("/plateforme/facturation/devis?kind=umbrella&options=1")
    assert missing.status_code == 400 and 'aria-invalid="true"' in text(missing)
    none = billing_admin.get("/plateforme/facturation/devis?kind=umbrella&options=1&members=0")
    assert none.status_code == 400 and "Entre 1 et 1" in text(none)  # a quote of zero towns


def spaced(page: str) -> str:
    """French numbers' no-break spaces as plain ones."""
    return page.replace("\u202f", " ").replace("\xa0", " ")


QUOTE = "kind=umbrella&options=1&options=2&options=3&members=4&member_kind=epci"


def test_a_quote_explains_each_discount_and_floor(billing_admin):
    body = spaced(text(billing_admin.get(f"/plateforme/facturation/devis?{QUOTE}")))
    assert "Communauté de communes : 4 × 250,00 €, moins 50 % = 500,00 €" in body
    assert "Communauté de communes : 4 × 650,00 €, moins 60 % = 1 040,00 €" in body
    assert "plancher" not in body
    # One member town: half of one commune's price is below one commune alone, the floor holds.
    one = billing_admin.get(
        "/plateforme/facturation/devis?kind=umbrella&options=1&members=1&member_kind=commune"
    )
    body = spaced(text(one))
    assert "Commune : 1 × 200,00 €, moins 50 % = 100,00 €" in body
    assert "le plancher de 200,00 € s’applique" in body


def test_a_quote_becomes_a_prefilled_contract_and_a_pdf(billing_admin, monkeypatch):
    set_today(monkeypatch, "2027-03-14")
    page = text(billing_admin.get(f"/plateforme/facturation/devis?{QUOTE}"))
    link = re.search(r'href="(/plateforme/facturation/contrats/nouveau\?[^"]+)"', page)
    assert link, "the quote offers to become a contract"
    form = text(billing_admin.get(link.group(1).replace("&amp;", "&")))
    assert re.search(r'<option selected value="umbrella">', form)
    for name, day in [
        ("start", "2027-04-01"),
        ("go_live", "2027-06-01"),
        ("end", "2030-04-01"),
        ("option_1", "2027-04-01"),
        ("option_3", "2027-04-01"),
    ]:
        assert re.search(rf'name="{name}"[^>]*value="{day}"', form), name
    pdf = billing_admin.get(f"/plateforme/facturation/devis.pdf?{QUOTE}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "devis-umbrella-2027-03-14.pdf" in pdf.headers["Content-Disposition"]
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    words = " ".join(words.replace("\u202f", " ").replace("\xa0", " ").split())
    assert "DEVIS" in words and "3 280,00 €" in words and "3 936,00 €" in words
    assert "moins 60" in words and "Chorus Pro" in words
    refused = billing_admin.get("/plateforme/facturation/devis.pdf?kind=umbrella&options=1")
    assert refused.status_code == 400 and refused.mimetype == "text/html"


# --- customers -----------------------------------------------------------------------------------


def test_customer_form_checks_and_changes_nothing_on_error(
    app, billing_admin, make_tenant, billing_rows
):
    town = make_tenant(kind="commune")
    before = count(app, "billing_customers")
    bad = billing_admin.post(
        f"{BASE}/clients/nouveau", customer_data(town.id, "21150265300011", "Commune d'Ydes")
    )
    assert bad.status_code == 400
    body = text(bad)
    assert 'id="siret-errors"' in body and 'aria-invalid="true"' in body
    assert count(app, "billing_customers") == before
    short = billing_admin.post(
        f"{BASE}/clients/nouveau", customer_data(town.id, "123", "X", vat_rate="120")
    )
    assert short.status_code == 400
    assert 'id="siret-errors"' in text(short) and 'id="vat_rate-errors"' in text(short)
    ok = billing_admin.post(
        f"{BASE}/clients/nouveau",
        customer_data(town.id, "2115 0265 3000 10", "Commune d'Ydes", vat_rate="8,5"),
    )
    customer_id = created_id(ok, "clients")
    listing = text(billing_admin.get(f"{BASE}/clients"))
    assert "Commune d&#39;Ydes" in listing and COMMUNE_SIRET in listing
    edited = billing_admin.post(
        f"{BASE}/clients/{customer_id}",
        customer_data(town.id, COMMUNE_SIRET, "Commune d'Ydes", city="Ydes"),
    )
    assert edited.status_code == 302

    with app.app_context():
        row = db.session.get(Customer, customer_id)
        assert (row.city, row.siret, row.vat_rate_bp) == ("Ydes", COMMUNE_SIRET, 2000)
        db.session.rollback()


def test_billing_email_takes_a_local_set_up_s_own_domain_only(
    app, billing_admin, make_tenant, billing_rows
):
    with app.app_context():
        assert (
            billing_email("Finances@Mairie.Vivrau.Localhost") == "Finances@mairie.vivrau.localhost"
        )
        for bad in ("finances@localhost", "finances@other.localhost", "a b@x.vivrau.localhost"):
            with pytest.raises(EmailNotValidError):
                billing_email(bad)
    # On the console, the refusal is said beside the field and nothing is saved.
    town = make_tenant()
    before = count(app, "billing_customers")
    refused = billing_admin.post(
        f"{BASE}/clients/nouveau",
        customer_data(town.id, COMMUNE_SIRET, "Commune d'Ydes", billing_email="compta@localhost"),
    )
    assert refused.status_code == 400 and 'id="billing_email-errors"' in text(refused)
    assert count(app, "billing_customers") == before


def test_a_customer_whose_territory_was_deleted_is_still_listed(
    app, billing_admin, make_tenant, billing_rows
):
    """Customers outlive their territory (invoices are kept ten years): the list says so."""
    town = make_tenant()
    make_customer(app, town.id, COMMUNE_SIRET, "Commune disparue")
    drop_tenants([town.slug])
    page = billing_admin.get(f"{BASE}/clients")
    assert page.status_code == 200
    assert "Commune disparue" in text(page) and "Territoire supprimé" in text(page)
