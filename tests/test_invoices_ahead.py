"""Each territory's next invoice, as billing announces it to the consoles: a commune's own
contract (the schedule service's first instalment not invoiced yet, then the next once it is),
a member town billed through its umbrella, and the coordinator's table and export."""

from __future__ import annotations

import re
from datetime import date

from billing import contracts
from billing.invoicing import billing_run
from billing.schedule import schedule
from core.extensions import db
from core.i18n import money
from tenants import entitlements
from tenants.invoices_ahead import invoice_ahead
from tenants.provisioning import add_member
from tests import billing_helpers
from tests.billing_helpers import UMBRELLA_SIRET, make_commune_contract, make_customer

billing_rows = billing_helpers.billing_rows


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html).replace("\u202f", " ")).strip()


def ahead_text(page: str) -> str:
    found = re.search(r'<p id="invoice-ahead"[^>]*>(.*?)</p>', page, re.S)
    assert found, "no next invoice on the page"
    return words(found.group(1))


def test_a_commune_sees_its_next_invoice_then_the_one_after(
    app, make_tenant, make_account, visitor, billing_rows
):
    town = make_tenant(name="Ydes")
    with app.app_context():
        contract = make_commune_contract(app, town, ("option2",))
        contract_id = contract.id
        first, second = schedule(contract)[:2]  # the schedule service's golden amounts
        db.session.rollback()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    overview = admin.get("/console/").get_data(as_text=True)
    with app.test_request_context():
        expected = money(first.total_ttc_cents).replace("\u202f", " ").replace("\xa0", " ")
    assert first.due_on == date(2027, 1, 1)
    said = ahead_text(overview)
    assert "1 janv. 2027" in said and expected in said and first.title in said
    # The territory's admin reads its contract, schedule and invoices (read only).
    billing_page = admin.get("/console/facturation/")
    assert billing_page.status_code == 200
    assert expected in ahead_text(billing_page.get_data(as_text=True))
    # Once the first instalment is invoiced, the next one is announced.
    with app.app_context():
        billing_run.run(date(2027, 1, 1), contract_ids=[contract_id])
        db.session.commit()
        ahead = invoice_ahead(town.id, date(2027, 1, 2))
        db.session.rollback()
    assert (ahead.due_on, ahead.total_ttc_cents) == (second.due_on, second.total_ttc_cents)
    assert not ahead.through_umbrella and ahead.payer == "Commune d'Ydes"


def test_a_member_town_is_billed_through_its_umbrella(
    app, make_tenant, make_account, visitor, billing_rows
):
    umbrella = make_tenant(kind="umbrella", name="PVD Haute-Auvergne")
    towns = [make_tenant(name=name) for name in ("Allanche", "Condat")]
    with app.app_context():
        for town in towns:
            add_member(umbrella.slug, town.slug)
    customer_id = make_customer(app, umbrella.id, UMBRELLA_SIRET, "PVD Haute-Auvergne")
    start = entitlements.today().replace(day=1)
    with app.app_context():
        contracts.create_contract(
            customer_id=customer_id,
            kind="umbrella",
            start_on=start,
            end_on=start.replace(year=start.year + 3),
        )
        db.session.commit()
        own = invoice_ahead(umbrella.id, entitlements.today())
        through = invoice_ahead(towns[0].id, entitlements.today())
    assert own is not None and not own.through_umbrella
    assert through == own.__class__(**{**own.__dict__, "through_umbrella": True})
    # The town's admin is told who pays; the town has no contract of its own.
    admin = visitor(towns[0])
    admin.login(make_account(roles=[("admin", towns[0])]))
    page = admin.get("/console/facturation/").get_data(as_text=True)
    assert "Abonnement facturé à PVD Haute-Auvergne pour toutes ses communes" in ahead_text(page)
    assert "Aucun contrat" not in page
    # The coordinator sees each town's next invoice, and the umbrella's own.
    console = visitor(umbrella)
    console.login(make_account(roles=[("coordinator", umbrella)]))
    members = console.get("/console/membres").get_data(as_text=True)
    assert ahead_text(members).startswith("Prochaine facture : 1 ")  # the umbrella's own
    row = re.search(rf'<tr id="member-{towns[1].slug}">(.*?)</tr>', members, re.S).group(1)
    assert "Facturé avec le groupement" in words(row)
    exported = console.get("/console/membres.csv").data.decode("utf-8-sig").splitlines()
    header = exported[0].split(";")
    condat = next(line.split(";") for line in exported if line.startswith("Condat;"))
    assert condat[header.index("Prochaine facture")] == "facturé avec le groupement"
    assert condat[header.index("Montant TTC (€)")] == ""  # its share is not invoiced apart
