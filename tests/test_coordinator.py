"""The coordinator's console: the member towns side by side (read by a parallel fan-out over
their schemas), each town's failure on its own row, a CSV export, and a town's listings read
only; never another umbrella's towns."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from billing import contracts
from core.auth.models import Invitation, Role
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.imports import submit
from tenants import entitlements
from tenants.provisioning import add_member
from tests import billing_helpers
from tests.billing_helpers import UMBRELLA_SIRET, make_customer
from tests.listing_import_helpers import csv_file, house
from tests.support import drop_tenants, host

billing_rows = billing_helpers.billing_rows


def add_listings(app, ref, count: int, kind: str = "job", status: str = "published") -> None:
    with app.app_context(), tenant_scope(ref):
        db.session.execute(
            text(
                "INSERT INTO listings (kind, external_id, title, commune_insee, status, source) "
                "SELECT :kind, CAST(:prefix AS text) || n, 'Annonce ' || n, '15187', :status, "
                "'manual' "
                "FROM generate_series(1, :count) AS n"
            ),
            {"kind": kind, "prefix": f"{kind}-", "status": status, "count": count},
        )
        db.session.execute(
            text(
                "INSERT INTO leads (account_id, commune_insee, stage) "
                "SELECT n, '15187', CASE WHEN n % 3 = 0 THEN 'prospect' ELSE 'contact' END "
                "FROM generate_series(1, :count) AS n"
            ),
            {"count": count},
        )
        db.session.commit()


@pytest.fixture
def pvd(app, make_tenant, make_account):
    umbrella = make_tenant(kind="umbrella", name="PVD Haute-Auvergne")
    towns = [make_tenant(name=name) for name in ("Allanche", "Condat", "Murat")]
    other_umbrella = make_tenant(kind="umbrella", name="PVD Châtaigneraie")
    foreign = make_tenant(name="Maurs")
    with app.app_context():
        for town in towns:
            add_member(umbrella.slug, town.slug)
        add_member(other_umbrella.slug, foreign.slug)
    for n, town in enumerate(towns, start=1):
        add_listings(app, town, 3 * n)
    add_listings(app, foreign, 7)
    coordinator = make_account(roles=[("coordinator", umbrella)])
    return umbrella, towns, foreign, coordinator


def cells(page: str, row_id: str) -> list[str]:
    found = re.search(rf'<tr[^>]*id="{row_id}">(.*?)</tr>', page, re.S)
    assert found, row_id
    return [
        re.sub(r"\s+", " ", re.sub(r"<small.*?</small>|<[^>]+>", " ", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    ]


def test_the_coordinator_sees_each_town_and_the_totals(app, pvd, visitor):
    umbrella, (allanche, condat, murat), foreign, coordinator = pvd
    console = visitor(umbrella)
    console.login(coordinator)
    page = console.get("/console/membres").get_data(as_text=True)
    # published, contacts, prospects, the month's visits and searches
    assert cells(page, f"member-{allanche.slug}")[:5] == ["3", "2", "1", "0", "0"]
    assert cells(page, f"member-{murat.slug}")[:5] == ["9", "6", "3", "0", "0"]
    assert cells(page, "members-total")[:5] == ["18", "12", "6", "0", "0"]
    assert "Maurs" not in page and '<title id="members-chart-title">' in page
    exported = console.get("/console/membres.csv")
    assert exported.data.startswith("\ufeff".encode()) and b"Condat;" in exported.data
    assert b"Maurs" not in exported.data
    # A town's listings, read only; another umbrella's town does not exist here.
    town_page = console.get(f"/console/membres/{condat.slug}").get_data(as_text=True)
    assert town_page.count("Annonce ") == 6 and "Brouillon" not in town_page
    assert console.get(f"/console/membres/{foreign.slug}").status_code == 404
    assert console.get("/console/membres/no_such_town").status_code == 404


def test_a_town_that_cannot_be_read_shows_on_its_own_row(app, pvd, visitor):
    umbrella, (allanche, condat, murat), _foreign, coordinator = pvd
    drop_schema = f'DROP SCHEMA "t_{condat.slug}" CASCADE'
    with app.app_context():
        db.session.execute(text(drop_schema))
        db.session.commit()
    console = visitor(umbrella)
    console.login(coordinator)
    response = console.get("/console/membres")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "illisibles pour le moment" in cells(page, f"member-{condat.slug}")[0]
    assert cells(page, f"member-{allanche.slug}")[0] == "3"
    assert cells(page, "members-total")[:1] == ["12"]  # the towns that could be read
    assert "UndefinedTable" not in page  # the technical reason stays in the logs
    drop_tenants([condat.slug])


def test_an_umbrella_managing_its_towns_teams_invites_their_editors(
    app, pvd, visitor, smtp, billing_rows
):
    umbrella, (allanche, _condat, _murat), _foreign, coordinator = pvd
    console = visitor(umbrella)
    console.login(coordinator)
    path = f"/console/membres/{allanche.slug}"
    # Its contract leaves the towns' teams to them: no form, and a forged post is refused.
    assert 'name="email"' not in console.get(path).get_data(as_text=True)
    forged = console.post(path, {"email": "x@example.org"}, csrf_from=path)
    assert forged.status_code == 403
    customer_id = make_customer(app, umbrella.id, UMBRELLA_SIRET, "PVD Haute-Auvergne")
    with app.app_context():
        start = entitlements.today().replace(day=1)
        contracts.create_contract(
            customer_id=customer_id,
            kind="umbrella",
            start_on=start,
            end_on=start.replace(year=start.year + 3),
            manages_members=True,
        )
        db.session.commit()
    page = console.get(path).get_data(as_text=True)
    assert 'name="email"' in page and "Inviter un éditeur de Allanche" in page
    sent = console.post(path, {"email": "editrice@example.org"}, csrf_from=path)
    assert sent.status_code == 302
    link = smtp.deliver().link_to("editrice@example.org", "/compte/invitation/")
    assert host(allanche) in link  # the town's own team, on the town's own host
    with app.app_context():
        invited = db.session.execute(
            select(Invitation.tenant_id, Invitation.role).where(
                Invitation.email == "editrice@example.org"
            )
        ).one()
        db.session.rollback()
    assert invited == (allanche.id, Role.editor)
    # A bad address is refused on its field, nothing sent.
    refused = console.post(path, {"email": "pas-une-adresse"}, csrf_from=path)
    assert refused.status_code == 400


def test_the_coordinator_reads_a_towns_imports_and_their_reports(app, pvd, visitor, cantal):
    umbrella, (allanche, condat, _murat), foreign, coordinator = pvd
    rows = [house("C-1"), house("C-2", price="beaucoup")]
    with app.app_context():
        with tenant_scope(condat):
            record = submit("real_estate", csv_file(rows), "annonces-condat.csv")
            condat_import = record.id
            assert record.errors_count == 1
            db.session.rollback()
        with tenant_scope(foreign):
            foreign_import = submit("real_estate", csv_file(rows[:1]), "maurs.csv").id
            db.session.rollback()
    console = visitor(umbrella)
    console.login(coordinator)
    page = console.get(f"/console/membres/{condat.slug}").get_data(as_text=True)
    imports = re.search(r'<table id="member-imports">(.*?)</table>', page, re.S).group(1)
    assert "annonces-condat.csv" in imports and "Rapport (CSV)" in imports
    report = console.get(f"/console/membres/{condat.slug}/imports/{condat_import}/rapport.csv")
    assert report.status_code == 200 and "beaucoup" in report.data.decode("utf-8-sig")
    # Another umbrella's town, or another town's import read through this town: not found.
    assert console.get(f"/console/membres/{foreign.slug}/imports/1/rapport.csv").status_code == 404
    path = f"/console/membres/{allanche.slug}/imports/{foreign_import}/rapport.csv"
    assert console.get(path).status_code == 404
