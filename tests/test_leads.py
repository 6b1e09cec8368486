"""Leads: capture from the search API, consent, personal data (export and erasure)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from core.auth.personal_data import erase_account
from core.config import database_url
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.territory import TerritoryCell
from sites.leads import capture
from sites.leads.consent import CONSENT_VERSION
from sites.leads.models import Lead, LeadConsent, LeadEvent
from tests.lead_helpers import GP_10, PSEUDONYM, account_id, add_lead, cell, read_csv
from tests.support import PASSWORD, TEST_DATABASE_URL

#: cell → (commune, distance to the nearest GP in km)
SMALL = {cell(0): ("99001", 2.0), cell(1): ("99001", 4.0), cell(2): ("99002", 6.0)}
SMALL[cell(3)] = ("99003", 30.0)


@pytest.fixture
def land(app):
    """Give territories hand-made cells and profiles (national rows removed after the test)."""
    used: set[str] = set()

    def give(ref, cells: dict[str, tuple[str, float]]) -> None:
        with app.app_context():
            db.session.execute(
                text(
                    "INSERT INTO cell_profiles (cell_id, gp_km) VALUES (:c, :v) "
                    "ON CONFLICT (cell_id) DO UPDATE SET gp_km = excluded.gp_km"
                ),
                [{"c": c, "v": v} for c, (_i, v) in cells.items()],
            )
            db.session.commit()
            with tenant_scope(ref):
                db.session.execute(
                    TerritoryCell.__table__.insert(),
                    [{"cell_id": c, "commune_insee": i} for c, (i, _v) in cells.items()],
                )
                db.session.commit()
        used.update(cells)

    yield give
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM cell_profiles WHERE cell_id = ANY(:ids)"), {"ids": list(used)}
        )
    engine.dispose()


@pytest.fixture
def registered(app):
    """E-mails of accounts created through the registration page, deleted at the end."""
    emails: list[str] = []
    yield emails
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts WHERE lower(email) = ANY(:e)"), {"e": emails})
    engine.dispose()


def search(site, body=GP_10, path="/api/v1/search"):
    response = site.client.post(path, base_url=site.base, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def click(site, cell_id: str, body=GP_10):
    return search(site, {**body, "cell": cell_id}, "/api/v1/search/cell")


def leads_of(app, ref) -> dict[str, dict]:
    with app.app_context(), tenant_scope(ref):
        rows = {
            lead.commune_insee: {
                "stage": lead.stage,
                "first": lead.first_seen_at,
                "last": lead.last_seen_at,
                "prospect_at": lead.prospect_at,
                "account": lead.account_id,
                "events": [
                    (e.kind, e.cells, e.criteria, e.budget)
                    for e in db.session.execute(
                        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
                    ).scalars()
                ],
            }
            for lead in db.session.execute(select(Lead)).scalars()
        }
        db.session.rollback()
    return rows


def consents_of(app, ref) -> dict[int, tuple]:
    """account id → (text version, withdrawn at, wording) of the territory's consents."""
    with app.app_context(), tenant_scope(ref):
        rows = {
            c.account_id: (c.text_version, c.withdrawn_at, c.wording)
            for c in db.session.execute(select(LeadConsent)).scalars().all()
        }
        db.session.rollback()
    return rows


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- capture -----------------------------------------------------------------------------------


def test_precise_search_makes_a_contact_of_each_green_commune(
    app, make_tenant, make_account, visitor, land
):
    town = make_tenant()
    land(town, SMALL)
    email = make_account()
    site = visitor(town)
    site.login(email)
    body = {**GP_10, "budget": 180000, "household": {"adults": 2, "children": 1}}
    result = search(site, body)
    assert result["counts"]["green"] == 3 and result["precise"] is True
    leads = leads_of(app, town)
    assert set(leads) == {"99001", "99002"}  # 99003's only cell is yellow
    first = leads["99001"]
    assert first["stage"] == "contact" and first["account"] == account_id(app, email)
    kind, cells, criteria, budget = first["events"][0]
    assert kind == "search" and cells == sorted([cell(0), cell(1)])
    assert criteria["criteria"] == [{"id": "gp_km", "threshold": 10.0, "importance": "must"}]
    assert criteria["household"] == {"adults": 2, "children": 1} and budget == 180000
    assert leads["99002"]["events"][0][1] == [cell(2)]

    search(site, body)  # the same search again: the lead is fresher, no second event
    again = leads_of(app, town)
    assert set(again) == {"99001", "99002"}
    assert again["99001"]["first"] == first["first"] and again["99001"]["last"] > first["last"]
    assert len(again["99001"]["events"]) == 1
    search(site, {**body, "budget": 200000})
    events = leads_of(app, town)["99001"]["events"]
    assert len(events) == 2 and events[1][3] == 200000


def test_anonymous_no_green_or_imprecise_searches_make_no_lead(
    app, make_tenant, make_account, visitor, land
):
    town, wide = make_tenant(), make_tenant()
    land(town, SMALL)
    land(wide, {cell(100 + i): ("99010", 1.0) for i in range(201)})
    anonymous = visitor(town)
    assert search(anonymous)["counts"]["green"] == 3
    email = make_account()
    site = visitor(town)
    site.login(email)
    nothing = {"criteria": [{"id": "gp_km", "threshold": 1, "importance": "must"}]}
    assert search(site, nothing)["counts"]["green"] == 0
    assert leads_of(app, town) == {}
    on_wide = visitor(wide)
    on_wide.login(email)
    result = search(on_wide)
    assert result["counts"]["green"] == 201 and result["precise"] is False
    assert click(on_wide, cell(100))["status"] == "green"
    assert leads_of(app, wide) == {}


def test_click_on_a_green_cell_makes_a_prospect(app, make_tenant, make_account, visitor, land):
    town = make_tenant()
    land(town, SMALL)
    site = visitor(town)
    site.login(make_account())
    search(site)
    assert click(site, cell(2))["status"] == "green"
    leads = leads_of(app, town)
    assert leads["99002"]["stage"] == "prospect" and leads["99002"]["prospect_at"] is not None
    assert [e[0] for e in leads["99002"]["events"]] == ["search", "click"]
    assert leads["99002"]["events"][1][1] == [cell(2)]
    assert leads["99001"]["stage"] == "contact"
    prospect_at = leads["99002"]["prospect_at"]
    click(site, cell(2), {**GP_10, "budget": 90000})
    again = leads_of(app, town)["99002"]
    assert again["prospect_at"] == prospect_at  # the first click counts
    assert [e[0] for e in again["events"]] == ["search", "click", "click"]
    assert click(site, cell(3))["status"] == "orange"  # one must-have fails
    assert "99003" not in leads_of(app, town)


def test_a_failing_capture_never_breaks_the_search(
    app, make_tenant, make_account, visitor, land, monkeypatch, caplog
):
    town = make_tenant()
    land(town, SMALL)
    site = visitor(town)
    site.login(make_account())

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(capture, "_capture", broken)
    assert search(site)["counts"]["green"] == 3
    assert click(site, cell(0))["status"] == "green"
    assert "lead capture failed" in caplog.text
    assert leads_of(app, town) == {}


# --- consent -------------------------------------------------------------------------------------


def test_registration_offers_an_unticked_box_on_a_territory_only(
    app, make_tenant, visitor, registered, smtp
):
    town = make_tenant(name="Allanche")
    site = visitor(town)
    page = site.get("/compte/inscription").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="share"[^>]*>', page)
    assert box and 'type="checkbox"' in box.group(0) and "checked" not in box.group(0)
    assert "Partager mes coordonnées avec Allanche" in page
    # The platform console's host offers no registration at all.
    assert visitor("admin.vivrau.localhost").get("/compte/inscription").status_code == 404

    fields = {"display_name": "Zoé", "password": PASSWORD, "confirm": PASSWORD}
    registered.extend(["with-share@example.org", "without-share@example.org"])
    site.post("/compte/inscription", {**fields, "email": "with-share@example.org", "share": "y"})
    visitor(town).post("/compte/inscription", {**fields, "email": "without-share@example.org"})
    assert consents_of(app, town) == {}  # nothing reaches the territory before verification
    inbox = smtp.deliver()
    for email in ("with-share@example.org", "without-share@example.org"):
        assert site.get(path_of(inbox.link_to(email, "/compte/verifier/"))).status_code == 302
    rows = consents_of(app, town)
    version, withdrawn_at, wording = rows[account_id(app, "with-share@example.org")]
    assert version == CONSENT_VERSION and withdrawn_at is None
    assert "Allanche" in wording and "retirer" in wording
    assert account_id(app, "without-share@example.org") not in rows


def test_identity_only_with_consent_and_hidden_again_once_withdrawn(
    app, make_tenant, make_account, visitor
):
    town = make_tenant(name="Condat")
    person = make_account(name="Jeanne Vidal")
    pid = account_id(app, person)
    add_lead(app, town, pid, "99001", stage="prospect", budget=210000)
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))

    page = admin.get("/console/prospects/").get_data(as_text=True)
    assert PSEUDONYM.search(page) and person not in page and "Jeanne Vidal" not in page
    assert "Budget" not in page
    rows = read_csv(admin.get("/console/prospects/export.csv"))
    assert rows[0][0] == "Contact" and len(rows[0]) == 16
    assert rows[0][14] == "Provenance" and rows[1][14] == "le site du territoire"
    assert rows[1][1:3] == ["", ""] and PSEUDONYM.fullmatch(rows[1][0])
    assert rows[1][11] == ""  # no budget without consent

    me = visitor(town)
    me.login(person)
    boxes = me.get("/compte/partage").get_data(as_text=True)
    assert "Partager mes coordonnées avec Condat" in boxes
    me.post("/compte/partage", {"share": str(town.id)})
    page = admin.get("/console/prospects/").get_data(as_text=True)
    assert person in page and "Jeanne Vidal" in page and "Médecin généraliste" in page
    assert "Budget" in page
    rows = read_csv(admin.get("/console/prospects/export.csv"))
    assert rows[1][1:3] == ["Jeanne Vidal", person] and rows[1][11] == "210000"

    me.post("/compte/partage", {})  # every box unticked: withdrawn
    page = admin.get("/console/prospects/").get_data(as_text=True)
    assert person not in page and "Jeanne Vidal" not in page
    assert person not in admin.get("/console/prospects/export.csv").get_data(as_text=True)
    with app.app_context(), tenant_scope(town):
        consents = db.session.execute(select(LeadConsent)).scalars().all()
        assert len(consents) == 1 and consents[0].withdrawn_at is not None
        db.session.rollback()
    me.post("/compte/partage", {"share": str(town.id)})  # granted again: a new row
    with app.app_context(), tenant_scope(town):
        assert db.session.execute(select(db.func.count()).select_from(LeadConsent)).scalar() == 2
        db.session.rollback()


def test_sharing_page_ignores_territories_the_person_has_nothing_with(
    app, make_tenant, make_account, visitor
):
    here, elsewhere, other = make_tenant(), make_tenant(name="Ailleurs"), make_tenant()
    person = make_account()
    add_lead(app, elsewhere, account_id(app, person), "99001")
    site = visitor(here)
    site.login(person)
    page = site.get("/compte/partage").get_data(as_text=True)
    assert f'value="{here.id}"' in page and f'value="{elsewhere.id}"' in page
    assert f'value="{other.id}"' not in page
    site.post("/compte/partage", {"share": [str(other.id), str(elsewhere.id)]})
    with app.app_context():
        for ref, expected in ((other, 0), (elsewhere, 1), (here, 0)):
            with tenant_scope(ref):
                count = db.session.execute(
                    select(db.func.count()).select_from(LeadConsent)
                ).scalar()
                db.session.rollback()
            assert count == expected, ref.slug


# --- unverified addresses ----------------------------------------------------------------------

UNVERIFIED_NOTICE = "Votre adresse e-mail n’est pas encore confirmée"


def test_an_unverified_person_searches_and_saves_but_is_no_lead_until_verified(
    app, make_tenant, make_account, visitor, land, smtp
):
    town = make_tenant()
    land(town, SMALL)
    email = make_account(verified=False)
    site = visitor(town)
    site.login(email)
    assert search(site)["counts"]["green"] == 3
    click(site, cell(0))
    assert leads_of(app, town) == {}
    assert UNVERIFIED_NOTICE in site.get("/recherche").get_data(as_text=True)
    saved = site.post(
        "/recherche/enregistrer",
        {"name": "Près du médecin", "query": "c=gp_km&gp_km=10&gp_km_i=must"},
        csrf_from="/recherche",
    )
    assert saved.status_code == 302  # saving is theirs: it stays in their account

    page = site.get("/compte/").get_data(as_text=True)
    assert UNVERIFIED_NOTICE in page
    assert site.post("/compte/confirmation", csrf_from="/compte/").status_code == 302
    assert site.get(path_of(smtp.deliver().link_to(email, "/compte/verifier/"))).status_code == 302
    assert UNVERIFIED_NOTICE not in site.get("/compte/").get_data(as_text=True)
    search(site)
    leads = leads_of(app, town)
    assert set(leads) == {"99001", "99002"} and len(leads["99001"]["events"]) == 1


def test_an_unverified_person_cannot_share_their_details(app, make_tenant, make_account, visitor):
    town = make_tenant(name="Marcenat")
    person = make_account(name="Paul Astier", verified=False)
    site = visitor(town)
    site.login(person)
    page = site.get("/compte/partage").get_data(as_text=True)
    assert UNVERIFIED_NOTICE in page and "disabled" in page
    site.post("/compte/partage", {"share": str(town.id)})
    assert consents_of(app, town) == {}


def test_a_consent_of_an_unverified_account_is_not_in_force(
    app, make_tenant, make_account, visitor
):
    """Rows written before verification was enforced identify nobody."""
    town = make_tenant()
    person = make_account(name="Paul Astier", verified=False)
    pid = account_id(app, person)
    add_lead(app, town, pid, "99001", budget=99000)
    with app.app_context(), tenant_scope(town):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    page = admin.get("/console/prospects/").get_data(as_text=True)
    assert PSEUDONYM.search(page) and "Paul Astier" not in page and person not in page


# --- RGPD ----------------------------------------------------------------------------------------


def test_leads_and_consents_are_exported_and_erased(app, make_tenant, make_account, visitor):
    town = make_tenant()
    person = make_account()
    pid = account_id(app, person)
    add_lead(app, town, pid, "99001", budget=150000)
    with app.app_context(), tenant_scope(town):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    other = account_id(app, make_account())
    add_lead(app, town, other, "99001")
    site = visitor(town)
    site.login(person)
    data = json.loads(site.get("/compte/mes-donnees.json").get_data(as_text=True))
    mine = data["territories"][town.slug]
    assert [r["commune_insee"] for r in mine["leads"]] == ["99001"]
    assert (
        mine["lead_events"][0]["criteria"] == GP_10
        and mine["lead_events"][0]["budget"] == "150000.00"
    )
    assert mine["lead_consents"][0]["text_version"] == CONSENT_VERSION
    with app.app_context():
        erase_account(pid)
        with tenant_scope(town):
            assert db.session.execute(select(Lead.account_id)).scalars().all() == [other]
            events = db.session.execute(select(db.func.count()).select_from(LeadEvent)).scalar()
            assert events == 1  # the other person's
            assert db.session.execute(select(LeadConsent)).first() is None
            db.session.rollback()
