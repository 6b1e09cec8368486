"""Billing pages: roles, quote, customers, contracts, schedule preview, invoices, CSV, revenue."""

from __future__ import annotations

import re

import pytest

from core.extensions import db

ADMIN_HOST = "admin.vivrau.localhost"


@pytest.fixture
def billing_admin(make_account, visitor):
    console = visitor(ADMIN_HOST)
    console.login(make_account(roles=[("billing_admin", None)]))
    return console


def text(response) -> str:
    return response.get_data(as_text=True)


def cell(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert found, f"no #{element_id}"
    return re.sub(r"\s+", " ", found.group(1).replace("\u202f", " ").replace("\xa0", " ")).strip()


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
