"""Billing pages, invoices: the issue's done-when through the pages (schedules, invoices,
payments, overdue, revenue, the coordinators' page), the CSV export, voiding."""

from __future__ import annotations

import re
from datetime import date

from billing import contracts
from billing.invoicing.billing_run import run
from billing.models import Invoice
from core.extensions import db
from tests import billing_helpers
from tests.billing_helpers import (
    ADMIN_HOST,
    BASE,
    COMMUNE_SIRET,
    UMBRELLA_SIRET,
    amount,
    cell,
    created_id,
    customer_data,
    invoice_ids,
    schedule_rows,
    set_today,
    text,
)

#: The shared fixtures this module's tests ask for.
billing_admin = billing_helpers.billing_admin
billing_rows = billing_helpers.billing_rows
pvd = billing_helpers.pvd


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
