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


# --- customers and contracts -------------------------------------------------------------------

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
    from sqlalchemy import text as sql

    with app.app_context():
        n = db.session.execute(sql(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
        db.session.rollback()
    return n


@pytest.fixture
def billing_rows(app):
    """Billing rows of the test are removed after it (they live in the shared public schema)."""
    yield
    from sqlalchemy import text as sql

    with app.app_context():
        db.session.rollback()
        # TRUNCATE, not DELETE: finalised invoices are guarded by row triggers, rightly.
        db.session.execute(
            sql(
                "TRUNCATE billing_payments, billing_invoice_lines, billing_invoices, "
                "billing_invoice_sequences, billing_umbrella_members, billing_contract_options, "
                "billing_contracts, billing_customers"
            )
        )
        db.session.commit()


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
    from billing.models import Customer

    with app.app_context():
        row = db.session.get(Customer, customer_id)
        assert (row.city, row.siret, row.vat_rate_bp) == ("Ydes", COMMUNE_SIRET, 2000)
        db.session.rollback()


def test_billing_email_takes_a_local_set_up_s_own_domain_only(
    app, billing_admin, make_tenant, billing_rows
):
    from email_validator import EmailNotValidError

    from billing.contracts import billing_email

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


def schedule_rows(page: str) -> list[str]:
    """The instalment rows of the schedule table (not the year headers nor totals)."""
    table = re.search(r'<table class="schedule">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr(?: class=\"trueup\")?>\s*<td>(.*?)</tr>", table, re.S)
    return [r.replace("\u202f", " ").replace("\xa0", " ") for r in rows]


def make_customer(app, tenant_id: int, siret: str, name: str) -> int:
    from billing.contracts import create_customer

    with app.app_context():
        customer = create_customer(
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


def test_contract_preview_shows_five_years_and_refuses_bad_dates(
    app, billing_admin, make_tenant, billing_rows
):
    town = make_tenant(kind="commune")
    customer_id = make_customer(app, town.id, COMMUNE_SIRET, "Commune d'Ydes")
    form = {
        "customer_id": customer_id,
        "kind": "commune",
        "start": "2027-01-01",
        "go_live": "2027-03-01",
        "end": "2032-01-01",
        "option_2": "2027-01-01",
        "action": "preview",
    }
    preview = billing_admin.post(f"{BASE}/contrats/nouveau", form)
    assert preview.status_code == 200, text(preview)[-3000:]
    page = text(preview)
    rows = schedule_rows(page)
    assert len(rows) == 3 + 16
    assert "5 760,00" in rows[0] and "9 600,00" in rows[1] and "3 840,00" in rows[2]
    assert "6 912,00" in rows[0] and "11 520,00" in rows[1] and "4 608,00" in rows[2]
    assert all("4 800,00" in r for r in rows[3:])
    assert cell(page, "schedule-ht") == "96 000,00 €"
    assert count(app, "billing_contracts") == 0  # a preview saves nothing
    too_long = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "end": "2032-01-02"})
    assert too_long.status_code == 400 and 'id="end-errors"' in text(too_long)
    early = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "option_2": "2026-12-31"})
    assert early.status_code == 400 and "2026-12-31" in text(early)
    assert count(app, "billing_contracts") == 0
    created = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "action": "create"})
    contract_id = created_id(created, "contrats")
    detail = text(billing_admin.get(f"{BASE}/contrats/{contract_id}"))
    assert len(schedule_rows(detail)) == 19 and cell(detail, "monthly").startswith("0,00")


# --- the issue's done-when, through the pages ---------------------------------------------------


def amount(page: str, element_id: str) -> str:
    return cell(page, element_id)


def invoice_ids(app, contract_id: int) -> list[int]:
    from sqlalchemy import select

    from billing.models import Invoice

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
    from datetime import date

    from tenants.provisioning import add_member

    town = make_tenant(kind="commune", name="Ydes")
    umbrella = make_tenant(kind="umbrella", name="PVD du Cantal")
    members = [make_tenant(kind="commune", name=f"Bourg {n}") for n in range(4)]
    with app.app_context():
        for m in members:
            add_member(umbrella.slug, m.slug, date(2027, 1, 1))
        db.session.commit()
    return town, umbrella, members


def set_today(monkeypatch, day: str):
    from datetime import date

    from billing.console import common

    monkeypatch.setattr(common, "today", lambda: date.fromisoformat(day))


def test_done_when_commune_and_pvd_umbrella_schedule_invoices_payments_overdue(
    app, billing_admin, pvd, billing_rows, monkeypatch, make_account, visitor
):
    town, umbrella, members = pvd
    set_today(monkeypatch, "2026-12-15")
    commune_customer = created_id(
        billing_admin.post(
            f"{BASE}/clients/nouveau", customer_data(town.id, COMMUNE_SIRET, "Commune d'Ydes")
        ),
        "clients",
    )
    umbrella_customer = created_id(
        billing_admin.post(
            f"{BASE}/clients/nouveau",
            customer_data(umbrella.id, UMBRELLA_SIRET, "Association PVD du Cantal"),
        ),
        "clients",
    )
    dates = {"start": "2027-01-01", "go_live": "2027-03-01", "end": "2032-01-01"}
    commune_contract = created_id(
        billing_admin.post(
            f"{BASE}/contrats/nouveau",
            {
                "customer_id": commune_customer,
                "kind": "commune",
                **dates,
                "option_2": "2027-01-01",
                "action": "create",
            },
        ),
        "contrats",
    )
    # The new-contract page of the umbrella's customer ticks its four current member towns.
    blank = text(billing_admin.get(f"{BASE}/contrats/nouveau?customer={umbrella_customer}"))
    for m in members:
        assert re.search(rf'value="{m.id}" checked|checked[^>]*value="{m.id}"', blank), m.name
    umbrella_form = {
        "customer_id": umbrella_customer,
        "kind": "umbrella",
        **dates,
        "option_1": "2027-01-01",
        "option_2": "2027-01-01",
        "option_3": "2027-01-01",
        "member_ids": [m.id for m in members],
    }
    preview = text(
        billing_admin.post(f"{BASE}/contrats/nouveau", {**umbrella_form, "action": "preview"})
    )
    rows = schedule_rows(preview)
    # 1 100 + 4 × 200 × 50 % + 4 × 500 × 40 % + 4 × 300 × 40 % = 2 780 € a month.
    assert len(rows) == 19 and "10 008,00" in rows[0] and "8 340,00" in rows[3]
    assert cell(preview, "schedule-ht") == "166 800,00 €"
    umbrella_contract = created_id(
        billing_admin.post(f"{BASE}/contrats/nouveau", {**umbrella_form, "action": "create"}),
        "contrats",
    )

    # Signature day: the first invoices, numbered and drawn as Factur-X PDFs.
    set_today(monkeypatch, "2027-01-15")
    for contract_id in (commune_contract, umbrella_contract):
        issued = billing_admin.post(
            f"{BASE}/contrats/{contract_id}/emettre", csrf_from=f"{BASE}/contrats/{contract_id}"
        )
        assert issued.status_code == 302
    again = billing_admin.post(
        f"{BASE}/contrats/{commune_contract}/emettre",
        csrf_from=f"{BASE}/contrats/{commune_contract}",
    )
    assert again.status_code == 302
    (commune_invoice,) = invoice_ids(app, commune_contract)  # issuing twice adds nothing
    (umbrella_invoice,) = invoice_ids(app, umbrella_contract)
    page = text(billing_admin.get(f"{BASE}/factures/{commune_invoice}"))
    assert re.search(r"VV-2027-\d{5}", page)
    assert amount(page, "inv-ht") == "5 760,00 €" and amount(page, "inv-ttc") == "6 912,00 €"
    pdf = billing_admin.get(f"{BASE}/factures/{commune_invoice}/document.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.mimetype == "application/pdf"
    ubl = billing_admin.get(f"{BASE}/factures/{commune_invoice}/document.xml")
    assert ubl.status_code == 200 and b"urn:oasis:names:specification:ubl" in ubl.data

    # Payments: a part, a refusal (more than due) that changes nothing, then the rest.
    pay = f"{BASE}/factures/{commune_invoice}/paiement"
    form = f"{BASE}/factures/{commune_invoice}"
    part = {"paid_on": "2027-02-01", "amount": "3 000,00", "reference": "VIR-1"}
    assert billing_admin.post(pay, part, csrf_from=form).status_code == 302
    too_much = billing_admin.post(
        pay, {**part, "amount": "4000", "reference": "VIR-2"}, csrf_from=form
    )
    assert too_much.status_code == 400 and 'id="amount-errors"' in text(too_much)
    page = text(billing_admin.get(form))
    assert amount(page, "inv-paid") == "3 000,00 €" and amount(page, "inv-due") == "3 912,00 €"
    rest = {"paid_on": "2027-02-10", "amount": "3912", "reference": "VIR-2"}
    assert billing_admin.post(pay, rest, csrf_from=form).status_code == 302
    assert "status-paid" in text(billing_admin.get(form))

    # Go-live, then 20 March: the umbrella's first invoice (due 14 February) is overdue.
    set_today(monkeypatch, "2027-03-01")
    for contract_id in (commune_contract, umbrella_contract):
        billing_admin.post(
            f"{BASE}/contrats/{contract_id}/emettre", csrf_from=f"{BASE}/contrats/{contract_id}"
        )
    assert len(invoice_ids(app, commune_contract)) == 2
    set_today(monkeypatch, "2027-03-20")
    overdue = text(billing_admin.get(f"{BASE}/factures?status=overdue"))
    listed = overdue.split("<tbody>", 1)[1]
    assert "Association PVD du Cantal" in listed and "Commune d&#39;Ydes" not in listed
    assert listed.count("status-overdue") == 1
    revenue = text(billing_admin.get(f"{BASE}/"))
    # 30 % of 2 780 × 12 = 10 008 € HT → 12 009,60 € TTC still owed.
    assert cell(revenue, "overdue").endswith("12 009,60 €")
    assert cell(revenue, "mrr") == "4 380,00 €" and cell(revenue, "arr") == "52 560,00 €"
    assert cell(revenue, "paid") == "6 912,00 €"
    # Invoiced (TTC): 6 912 + 11 520 (commune) + 12 009,60 + 20 016 (umbrella).
    assert cell(revenue, "invoiced") == "50 457,60 €"
    assert '<title id="revenue-chart-title">' in revenue and 'id="monthly"' in revenue
    interest = text(billing_admin.get(f"{BASE}/factures/{umbrella_invoice}?on=2027-03-20"))
    assert 'id="interest"' in interest
    reminded = billing_admin.post(
        f"{BASE}/factures/{umbrella_invoice}/relance",
        csrf_from=f"{BASE}/factures/{umbrella_invoice}",
    )
    assert reminded.status_code == 302
    from billing.models import Invoice

    with app.app_context():
        assert db.session.get(Invoice, umbrella_invoice).reminder_count == 1
        db.session.rollback()

    # The umbrella's coordinator reads it all on the umbrella's console; nothing to edit.
    coordinator = visitor(umbrella)
    coordinator.login(make_account(roles=[("coordinator", umbrella)]))
    mine = coordinator.get("/console/facturation/")
    assert mine.status_code == 200
    body = text(mine)
    assert len(schedule_rows(body)) == 19 and "Association PVD du Cantal" in body
    assert "/plateforme/" not in body and 'name="amount"' not in body
    assert "emettre" not in body and "paiement" not in body
    doc = coordinator.get(f"/console/facturation/factures/{umbrella_invoice}/document.pdf")
    assert doc.status_code == 200 and doc.data.startswith(b"%PDF")
    # Not theirs: the commune's invoice is not found from the umbrella's console.
    assert (
        coordinator.get(f"/console/facturation/factures/{commune_invoice}/document.pdf")
    ).status_code == 404
    assert visitor(ADMIN_HOST).get(f"{BASE}/").status_code == 302


def test_csv_is_formula_safe_and_void_issues_a_credit_note(
    app, billing_admin, make_tenant, billing_rows, monkeypatch, make_account, visitor
):
    from datetime import date

    from billing import contracts
    from billing.invoicing.billing_run import run

    town = make_tenant(kind="commune")
    other = make_tenant(kind="umbrella")
    with app.app_context():
        customer = contracts.create_customer(
            tenant_id=town.id,
            legal_name='=HYPERLINK("http://evil.example","x")',
            siret=COMMUNE_SIRET,
            address_line1="-1 rue du Test",
            postcode="15100",
            city="@Saint-Flour",
            billing_email="compta@example.org",
            engagement_number="+33",
        )
        contract = contracts.create_contract(
            customer_id=customer.id,
            kind="commune",
            start_on=date(2027, 1, 1),
            end_on=date(2028, 1, 1),
        )
        (invoice,) = run(date(2027, 1, 1), contract_ids=[contract.id])
        db.session.commit()
        invoice_id = invoice.id
    set_today(monkeypatch, "2027-01-05")
    export = billing_admin.get(f"{BASE}/factures.csv?status=finalised")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.data.startswith(b"\xef\xbb\xbf")
    lines = export.data.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("Numéro;Type;Statut;Client;SIRET")
    row = lines[1].split(";")
    assert row[0].startswith("VV-2027-") and row[2] == "émise"
    assert row[3].startswith("\"'=HYPERLINK") and row[14] == "'+33"
    assert row[9] == "3960,00" and row[11] == "4752,00"  # 30 % of 12 × 1 100
    # Void: a credit note is issued, the invoice keeps its number.
    voided = billing_admin.post(
        f"{BASE}/factures/{invoice_id}/annuler", csrf_from=f"{BASE}/factures/{invoice_id}"
    )
    assert voided.status_code == 302
    page = text(billing_admin.get(f"{BASE}/factures/{invoice_id}"))
    assert "status-void" in page and re.search(r"AV-2027-\d{5}", page) and row[0] in page
    # Another umbrella's coordinator finds none of it.
    outsider = visitor(other)
    outsider.login(make_account(roles=[("coordinator", other)]))
    assert "VV-2027" not in text(outsider.get("/console/facturation/"))
    path = f"/console/facturation/factures/{invoice_id}/document.pdf"
    assert outsider.get(path).status_code == 404
    assert outsider.get(f"{BASE}/factures/{invoice_id}").status_code == 404
    admin_host = visitor(ADMIN_HOST)
    admin_host.login(make_account(roles=[("coordinator", other)]))
    assert admin_host.get(f"{BASE}/factures/{invoice_id}").status_code == 403


# --- contract page: cancelling an option, setting the go-live ----------------------------------


def contract_state(app, contract_id: int) -> tuple:
    from billing.models import Contract

    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        state = (
            contract.go_live_on,
            tuple(sorted((o.item.value, o.cancelled_on) for o in contract.options)),
        )
        db.session.rollback()
    return state


@pytest.fixture
def commune_contract(app, make_tenant, billing_rows):
    """A commune's contract from 1 January 2027, options 1 and 2, no go-live date yet."""
    from datetime import date

    from billing import contracts

    town = make_tenant(kind="commune")
    customer_id = make_customer(app, town.id, COMMUNE_SIRET, "Commune d'Ydes")
    with app.app_context():
        contract = contracts.create_contract(
            customer_id=customer_id,
            kind="commune",
            start_on=date(2027, 1, 1),
            end_on=date(2030, 1, 1),
            options={"option1": None, "option2": None},
        )
        db.session.commit()
        ids = {o.item.value: o.id for o in contract.options}
        return contract.id, ids


def test_contract_page_sets_the_go_live_and_refuses_a_bad_date(
    app, billing_admin, commune_contract, monkeypatch
):
    from datetime import date

    contract_id, _options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    go_live = f"{page}/mise-en-service"
    assert 'name="go_live"' in text(billing_admin.get(page))
    before = contract_state(app, contract_id)
    for bad in ("2026-12-31", "2030-01-01", ""):
        refused = billing_admin.post(go_live, {"go_live": bad}, csrf_from=page)
        assert refused.status_code == 400, bad
        assert 'id="go_live-errors"' in text(refused)
        assert contract_state(app, contract_id) == before
    saved = billing_admin.post(go_live, {"go_live": "2027-03-01"}, csrf_from=page)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(page)
    assert contract_state(app, contract_id)[0] == date(2027, 3, 1)
    shown = text(billing_admin.get(page))
    assert "mise en service" in shown.lower() and 'value="2027-03-01"' in shown
    # The go-live row of the schedule is dated now (the undated one came last before).
    go_live_row = next(r for r in schedule_rows(shown) if "mise en service" in r)
    assert "2027" in go_live_row.split("</td>")[0]
    # Once its instalment is invoiced, the go-live date no longer moves.
    set_today(monkeypatch, "2027-03-01")
    billing_admin.post(f"{page}/emettre", csrf_from=page)
    assert len(invoice_ids(app, contract_id)) == 2
    moved = billing_admin.post(go_live, {"go_live": "2027-04-01"}, csrf_from=page)
    assert moved.status_code == 400 and "VV-2027-" in text(moved)
    assert contract_state(app, contract_id)[0] == date(2027, 3, 1)


def test_contract_page_cancels_an_option_with_its_true_up(app, billing_admin, commune_contract):
    from datetime import date

    contract_id, options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    cancel = f"{page}/option/annulation"
    assert 'name="option_id"' in text(billing_admin.get(page))
    rows_before = schedule_rows(text(billing_admin.get(page)))
    before = contract_state(app, contract_id)
    # Not after its start, past the contract's end, or no date at all: refused, nothing changes.
    for bad in ("2027-01-01", "2030-01-02", ""):
        refused = billing_admin.post(
            cancel, {"option_id": options["option1"], "on": bad}, csrf_from=page
        )
        assert refused.status_code == 400, bad
        assert 'id="on-errors"' in text(refused)
        assert contract_state(app, contract_id) == before
    assert schedule_rows(text(billing_admin.get(page))) == rows_before
    done = billing_admin.post(
        cancel, {"option_id": options["option1"], "on": "2027-07-01"}, csrf_from=page
    )
    assert done.status_code == 302
    shown = text(billing_admin.get(page))
    assert "Option résiliée" in shown  # the flash
    assert ("option1", date(2027, 7, 1)) in contract_state(app, contract_id)[1]
    # Six months of option 1 (200 € a month) were missing from its 12-month minimum.
    true_ups = [r for r in schedule_rows(shown) if "régularisation" in r.lower()]
    assert len(true_ups) == 1 and "1 200,00" in true_ups[0]
    assert '<tr class="trueup">' in shown
    # Option 1 is no longer offered; cancelling it again is refused with the reason.
    form = shown.split("option/annulation", 1)[1].split("</form>", 1)[0]
    assert f'value="{options["option1"]}"' not in form
    assert f'value="{options["option2"]}"' in form
    again = billing_admin.post(
        cancel, {"option_id": options["option1"], "on": "2027-08-01"}, csrf_from=page
    )
    assert again.status_code == 400 and 'id="on-errors"' in text(again)
    assert ("option1", date(2027, 7, 1)) in contract_state(app, contract_id)[1]


def test_contract_changes_are_for_billing_admins_only(
    app, commune_contract, make_account, make_tenant, visitor
):
    contract_id, options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    posts = (
        (f"{page}/mise-en-service", {"go_live": "2027-03-01"}),
        (f"{page}/option/annulation", {"option_id": options["option1"], "on": "2027-07-01"}),
    )
    before = contract_state(app, contract_id)
    town = make_tenant()
    umbrella = make_tenant(kind="umbrella")
    for roles in ([("admin", town)], [("editor", town)], [("coordinator", umbrella)]):
        someone = visitor(ADMIN_HOST)
        someone.login(make_account(roles=roles))
        for path, data in posts:
            assert someone.post(path, data, csrf_from="/compte/").status_code == 403, roles
    anonymous = visitor(ADMIN_HOST)
    for path, data in posts:
        response = anonymous.post(path, data, csrf_from="/compte/connexion")
        assert response.status_code == 302 and "/compte/connexion" in response.headers["Location"]
    assert contract_state(app, contract_id) == before
