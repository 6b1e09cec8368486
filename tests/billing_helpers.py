"""What the billing pages' tests share: a billing admin on the console host, the customers,
contracts and PVD umbrella they start from, and readers of the pages' figures."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from billing import contracts
from billing.console import common
from billing.models import Contract, Invoice
from core.extensions import db
from tenants.provisioning import add_member

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


COMMUNE_SIRET = "21150265300010"  # valid checksums (SIRET and SIREN)
UMBRELLA_SIRET = "20006666000016"
BASE = "/plateforme/facturation"


def customer_data(tenant_id: int, siret: str, name: str, **extra) -> dict:
    data = {
        "tenant_id": tenant_id,
        "legal_name": name,
        "siret": siret,
        "address_line1": "1 place de la Mairie",
        "postcode": "15100",
        "city": "Saint-Flour",
        "billing_email": "compta@example.org",
        "service_code": "SERV-01",
        "engagement_number": "EJ-2027-1",
        "vat_rate": "20",
    }
    data.update(extra)
    return data


def created_id(response, kind: str) -> int:
    assert response.status_code == 302, text(response)[:3000]
    found = re.search(rf"/{kind}/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def count(app, table: str) -> int:
    with app.app_context():
        n = db.session.execute(sql(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
        db.session.rollback()
    return n


@pytest.fixture
def billing_rows(app):
    """Billing rows of the test are removed after it (they live in the shared public schema)."""
    yield
    with app.app_context():
        db.session.rollback()
        # TRUNCATE, not DELETE: finalised invoices are guarded by row triggers, rightly.
        db.session.execute(
            sql(
                "TRUNCATE billing_payments, billing_invoice_lines, billing_invoices, "
                "billing_invoice_sequences, billing_contract_options, "
                "billing_contracts, billing_customers"
            )
        )
        db.session.commit()


def schedule_rows(page: str) -> list[str]:
    """The instalment rows of the schedule table (not the year headers nor totals)."""
    table = re.search(r'<table class="schedule">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr(?: class=\"trueup\")?>\s*<td>(.*?)</tr>", table, re.S)
    return [r.replace("\u202f", " ").replace("\xa0", " ") for r in rows]


def make_customer(app, tenant_id: int, siret: str, name: str) -> int:
    with app.app_context():
        customer = contracts.create_customer(
            tenant_id=tenant_id,
            legal_name=name,
            siret=siret,
            address_line1="1 place de la Mairie",
            postcode="15100",
            city="Saint-Flour",
            billing_email="compta@example.org",
        )
        db.session.commit()
        return customer.id


def amount(page: str, element_id: str) -> str:
    return cell(page, element_id)


def invoice_ids(app, contract_id: int) -> list[int]:
    with app.app_context():
        ids = list(
            db.session.execute(
                select(Invoice.id).where(Invoice.contract_id == contract_id).order_by(Invoice.id)
            ).scalars()
        )
        db.session.rollback()
    return ids


@pytest.fixture
def pvd(app, make_tenant):
    """A commune, and a PVD umbrella of four towns."""
    town = make_tenant(kind="commune", name="Ydes")
    umbrella = make_tenant(kind="umbrella", name="PVD du Cantal")
    members = [make_tenant(kind="commune", name=f"Bourg {n}") for n in range(4)]
    with app.app_context():
        for m in members:
            add_member(umbrella.slug, m.slug, date(2027, 1, 1))
        db.session.commit()
    return town, umbrella, members


def set_today(monkeypatch, day: str):
    monkeypatch.setattr(common, "today", lambda: date.fromisoformat(day))


def contract_state(app, contract_id: int) -> tuple:
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        state = (
            contract.go_live_on,
            tuple(sorted((o.item.value, o.cancelled_on) for o in contract.options)),
        )
        db.session.rollback()
    return state


def make_commune_contract(app, town, options) -> Contract:
    """Ydes' contract from 1 January 2027 to 2030 with these options (committed; its own
    attributes loaded, for reading after the session is gone)."""
    customer_id = make_customer(app, town.id, COMMUNE_SIRET, "Commune d'Ydes")
    contract = contracts.create_contract(
        customer_id=customer_id,
        kind="commune",
        start_on=date(2027, 1, 1),
        end_on=date(2030, 1, 1),
        options={code: None for code in options},
    )
    db.session.commit()
    return contract


@pytest.fixture
def commune_contract(app, make_tenant, billing_rows):
    """A commune's contract from 1 January 2027, options 1 and 2, no go-live date yet."""
    town = make_tenant(kind="commune")
    with app.app_context():
        contract = make_commune_contract(app, town, ("option1", "option2"))
        ids = {o.item.value: o.id for o in contract.options}
        return contract.id, ids
