"""A person's moving project and the stages it opens: on the portal always, on a territory's site
when its admins open it by stages — 3 criteria for a guest or a project below 70 %, every
criterion from 70 %, the listings at 100 % — page and API alike; the project saved, checked
field by field, exported and erased with the account."""

from __future__ import annotations

import re

from sqlalchemy import text

from core.auth.models import Account
from core.auth.personal_data import export_personal_data
from core.extensions import db
from ingest.reference.criteria import CRITERIA
from sites.project.models import Project
from tests.support import host
from tests.test_portal import COMPLETE, PORTAL, SEVENTY, national  # noqa: F401 - the fixture

FOUR = (
    "c=gp_km&gp_km=10&gp_km_i=must&c=pharmacy_km&pharmacy_km=10&pharmacy_km_i=must"
    "&c=supermarket_km&supermarket_km=10&supermarket_km_i=must"
    "&c=primary_school_km&primary_school_km=5&primary_school_km_i=must"
)
FOUR_BODY = {
    "criteria": [
        {"id": c, "threshold": 10, "importance": "must"}
        for c in ("gp_km", "pharmacy_km", "supermarket_km", "primary_school_km")
    ]
}


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def project_row(app, account_id: int) -> tuple | None:
    with app.app_context():
        found = db.session.get(Project, account_id)
        row = (
            None if found is None else (found.home, found.home_budget, found.leisure, found.moving)
        )
        db.session.rollback()
        return row


def test_a_person_describes_their_project_checked_field_by_field(app, make_account, visitor):
    email = make_account()
    person = visitor(PORTAL)
    person.login(email)
    assert "complet à 0 %" in words(person.get("/compte/projet"))
    with app.app_context():
        account_id = db.session.query(Account.id).filter(Account.email == email).scalar()
    refused = person.post(
        "/compte/projet", {"home": "buy", "job": "yes", "leisure": ["none", "sport"]}
    )
    assert refused.status_code == 400
    said = words(refused)
    assert "Indiquez un budget" in said and "Dites quel emploi" in said and "se coche seul" in said
    assert project_row(app, account_id) is None  # nothing saved
    saved = person.post("/compte/projet", SEVENTY)
    assert saved.status_code == 302
    assert "complet à 71 %" in words(person.get("/compte/projet"))
    person.post("/compte/projet", COMPLETE)
    assert project_row(app, account_id) == (
        "buy",
        180000,
        ["nature", "culture"],
        "6_months",
    )
    with app.app_context():
        exported = export_personal_data(db.session.get(Account, account_id))
        assert exported["project"]["lives_in"] == "Lyon"
        assert "seeker_projects" not in str(exported["territories"])  # once, not per territory
        db.session.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": account_id})
        db.session.commit()
    assert project_row(app, account_id) is None  # erased with the account


def test_the_portal_opens_by_stages(
    app,
    national,  # noqa: F811 - the fixture imported above
    make_tenant,
    make_account,
    visitor,
):
    make_tenant(kind="commune", code="15187", name="Saint-Flour")
    guest = visitor(PORTAL)
    held = guest.get(f"/recherche?{FOUR}")
    assert held.status_code == 200 and 'id="departements"' not in held.get_data(as_text=True)
    assert "Sans compte, cherchez avec 3 critères" in words(held)
    refused = guest.client.post("/api/v1/france/search", base_url=guest.base, json=FOUR_BODY)
    assert refused.status_code == 403 and "criteria" in refused.get_json()["errors"]
    # A profile is applied with its three main criteria, and says so.
    preset = guest.get("/recherche?preset=young_family")
    assert "appliqué avec ses 3 critères principaux" in words(preset)
    assert preset.get_data(as_text=True).count('name="c" value') == len(CRITERIA)  # all listed
    assert len(re.findall(r'name="c" value="[a-z0-9_]+" checked', preset.get_data(True))) == 3
    assert 'id="departements"' in preset.get_data(as_text=True)
    # A registered person: 3 criteria below 70 %, all of them from 70 %, listings at 100 %.
    person = visitor(PORTAL)
    person.login(make_account())
    assert 'id="departements"' not in person.get(f"/recherche?{FOUR}").get_data(as_text=True)
    person.post("/compte/projet", SEVENTY)
    assert 'id="departements"' in person.get(f"/recherche?{FOUR}").get_data(as_text=True)
    cell = {**FOUR_BODY, "cell": "CRS3035RES1000mN2456000E3769000"}
    square = person.client.post("/api/v1/france/search/cell", base_url=person.base, json=cell)
    assert square.status_code == 200 and square.get_json()["listings_open"] is False
    person.post("/compte/projet", COMPLETE)
    square = person.client.post("/api/v1/france/search/cell", base_url=person.base, json=cell)
    assert square.get_json()["listings_open"] is True


def test_a_territory_chooses_between_open_and_staged(app, make_tenant, make_account, visitor):
    town = make_tenant(name="Condat")
    guest = visitor(town)
    assert "n'est pas un nombre" not in words(guest.get(f"/recherche?{FOUR}"))
    assert "Sans compte" not in words(guest.get(f"/recherche?{FOUR}"))  # open: all for all
    assert guest.get("/annonces/").status_code == 200
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    page = admin.get("/console/acces")
    assert page.status_code == 200 and "Par étapes" in words(page)
    assert admin.post("/console/acces", {"access": "staged"}).status_code == 302
    assert admin.post("/console/acces", {"access": "everything"}).status_code == 400
    with app.app_context():
        app.extensions["host_cache"].clear()  # another process: within its cache's lifetime
    assert "Sans compte, cherchez avec 3 critères" in words(guest.get(f"/recherche?{FOUR}"))
    locked = guest.get("/annonces/")
    assert locked.status_code == 403 and "Les annonces s'ouvrent avec votre projet" in words(locked)
    refused = guest.client.post("/api/v1/search", base_url=f"http://{host(town)}", json=FOUR_BODY)
    assert refused.status_code == 403
    assert admin.post("/console/acces", {"access": "open"}).status_code == 302
    with app.app_context():
        app.extensions["host_cache"].clear()
    assert guest.get("/annonces/").status_code == 200
