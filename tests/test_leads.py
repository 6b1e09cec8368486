"""Leads: capture from the search API, consent, the console and its CSV, umbrellas, RGPD."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from core import grid
from core.auth.models import Account
from core.config import database_url
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.territory import TerritoryCell
from sites.leads.consent import CONSENT_VERSION
from sites.leads.models import Lead, LeadConsent, LeadEvent
from tests.support import PASSWORD, TEST_DATABASE_URL

N0, E0 = 1_200_000, 1_200_000  # at sea, far from any real cell of the other tests


def cell(i: int) -> str:
    return grid.format_ids([N0 + 1000 * (i // 100)], [E0 + 1000 * (i % 100)]).tolist()[0]


#: cell → (commune, distance to the nearest GP in km)
SMALL = {cell(0): ("99001", 2.0), cell(1): ("99001", 4.0), cell(2): ("99002", 6.0)}
SMALL[cell(3)] = ("99003", 30.0)
#: "Contact n° 12" in French, "Contact no. 12" in English.
PSEUDONYM = re.compile(r"Contact n(?:°|o\.) \d+")
GP_10 = {"criteria": [{"id": "gp_km", "threshold": 10, "importance": "must"}]}


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


def account_id(app, email: str) -> int:
    with app.app_context():
        found = db.session.execute(
            select(Account.id).where(Account.email.ilike(email))
        ).scalar_one()
        db.session.rollback()
        return found


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


def add_lead(app, ref, person: int, commune: str, stage="contact", budget=None, criteria=None):
    """A lead written directly (console tests need no search)."""
    with app.app_context(), tenant_scope(ref):
        lead = Lead(account_id=person, commune_insee=commune, stage=stage)
        if stage == "prospect":
            lead.prospect_at = db.func.now()
        db.session.add(lead)
        db.session.flush()
        db.session.add(
            LeadEvent(
                lead_id=lead.id,
                kind="search",
                cells=[cell(0)],
                criteria=criteria or GP_10,
                budget=budget,
            )
        )
        db.session.commit()


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


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
    from sites.leads import capture

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
    app, make_tenant, visitor, registered
):
    town = make_tenant(name="Allanche")
    site = visitor(town)
    page = site.get("/compte/inscription").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="share"[^>]*>', page)
    assert box and 'type="checkbox"' in box.group(0) and "checked" not in box.group(0)
    assert "Partager mes coordonnées avec Allanche" in page
    console = visitor("admin.vivrau.localhost").get("/compte/inscription").get_data(as_text=True)
    assert 'name="share"' not in console

    fields = {"display_name": "Zoé", "password": PASSWORD, "confirm": PASSWORD}
    registered.extend(["with-share@example.org", "without-share@example.org"])
    site.post("/compte/inscription", {**fields, "email": "with-share@example.org", "share": "y"})
    visitor(town).post("/compte/inscription", {**fields, "email": "without-share@example.org"})
    with app.app_context(), tenant_scope(town):
        rows = {
            c.account_id: (c.text_version, c.withdrawn_at, c.wording)
            for c in db.session.execute(select(LeadConsent)).scalars().all()
        }
        db.session.rollback()
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
    assert rows[0][0] == "Contact" and len(rows[0]) == 13
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


# --- console ------------------------------------------------------------------------------------


def test_funnel_communes_periods_and_filters(app, make_tenant, make_account, visitor):
    town = make_tenant()
    people = [account_id(app, make_account()) for _ in range(3)]
    add_lead(app, town, people[0], "99001", stage="prospect")
    add_lead(app, town, people[0], "99002")
    add_lead(app, town, people[1], "99001")
    add_lead(app, town, people[2], "99002", stage="prospect")
    admin = visitor(town)
    admin.login(make_account(roles=[("editor", town)]))
    with app.test_request_context(), tenant_scope(town):
        from sites.leads import report

        funnel = report.funnel(report.Filters())
        assert (funnel.contacts, funnel.prospects, funnel.people, funnel.rate) == (4, 2, 3, 50)
        communes = {
            c["insee"]: (c["contacts"], c["prospects"])
            for c in report.per_commune(report.Filters())
        }
        assert communes == {"99001": (2, 1), "99002": (2, 1)}
        periods = report.over_time(report.Filters())
        assert sum(p["contacts"] for p in periods) == 4 and sum(p["search"] for p in periods) == 4
        page = report.lead_page(report.Filters(stage="prospect"))
        assert page.total == 2
        page = report.lead_page(report.Filters(commune="99002"))
        assert page.total == 2 and {r.commune for r in page.rows} == {"99002"}
        numbers = {r.account_id: r.number for r in report.lead_page(report.Filters()).rows}
        assert len(set(numbers.values())) == 3  # one number per person
        old = report.Filters.from_args({"since": "2001-01-01", "until": "2001-12-31"})
        assert report.lead_page(old).total == 0
        db.session.rollback()
    assert admin.get("/console/prospects/?stage=prospect&grain=week").status_code == 200
    rows = read_csv(admin.get("/console/prospects/export.csv?commune=99001"))
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"99001"}


def test_another_territory_never_sees_these_leads(app, make_tenant, make_account, visitor):
    a, b = make_tenant(), make_tenant()
    person = make_account(name="Paul Secret")
    pid = account_id(app, person)
    add_lead(app, a, pid, "99001", stage="prospect")
    with app.app_context(), tenant_scope(a):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    admin_b = make_account(roles=[("admin", b)])
    on_b = visitor(b)
    on_b.login(admin_b)
    page = on_b.get("/console/prospects/").get_data(as_text=True)
    assert "Paul Secret" not in page and person not in page and "99001" not in page
    assert len(read_csv(on_b.get("/console/prospects/export.csv"))) == 1  # the header only
    on_a = visitor(a)
    on_a.login(admin_b)
    assert on_a.get("/console/prospects/").status_code == 403
    assert on_a.get("/console/prospects/export.csv").status_code == 403
    admin_a = visitor(a)
    admin_a.login(make_account(roles=[("admin", a)]))
    assert "Paul Secret" in admin_a.get("/console/prospects/").get_data(as_text=True)


def test_csv_is_formula_safe_with_a_bom(app, make_tenant, make_account, visitor):
    town = make_tenant()
    person = make_account(name='=HYPERLINK("http://evil")')
    pid = account_id(app, person)
    add_lead(app, town, pid, "99001")
    with app.app_context(), tenant_scope(town):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    response = admin.get("/console/prospects/export.csv")
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    from core.csvexport import neutralise

    assert [neutralise(v) for v in ("+1", "-1", "@x", "\tx", "\rx", "ok", None)] == [
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]
    with app.app_context():
        from core.auth.models import AuditEvent

        event = db.session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "leads.exported", AuditEvent.tenant_id == town.id
            )
        ).scalar_one()
        assert event.details == {"rows": 1, "identified": 1}
        db.session.rollback()


def test_roles(app, make_tenant, make_account, visitor):
    town = make_tenant()
    anonymous = visitor(town)
    assert anonymous.get("/console/prospects/").status_code == 302
    resident = visitor(town)
    resident.login(make_account())
    for path in (
        "/console/prospects/",
        "/console/prospects/export.csv",
        "/console/prospects/membres",
    ):
        assert resident.get(path).status_code == 403, path
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    assert editor.get("/console/prospects/").status_code == 200
    assert editor.get("/console/prospects/membres").status_code == 403
    assert 'href="/console/prospects/"' in editor.get("/console/").get_data(as_text=True)
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    assert admin.get("/console/prospects/membres").status_code == 404  # not an umbrella
    assert admin.get("/console/prospects/?member=whatever").status_code == 404


# --- umbrellas -----------------------------------------------------------------------------------


def test_coordinator_sees_figures_per_member_town(app, make_tenant, make_account, visitor):
    from tenants.provisioning import add_member

    umbrella = make_tenant(kind="umbrella", name="PVD Cantal")
    first = make_tenant(code="15187", name="Murat")
    second = make_tenant(code="15120", name="Mauriac")
    outsider = make_tenant(code="15014", name="Allanche")
    with app.app_context():
        add_member(umbrella.slug, first.slug)
        add_member(umbrella.slug, second.slug)
    consenting = make_account(name="Alice Consent")
    silent = make_account(name="Bob Silence")
    cid, sid = account_id(app, consenting), account_id(app, silent)
    # Searches on the umbrella's site: leads in its schema, by member commune.
    add_lead(app, umbrella, cid, "15187", stage="prospect")
    add_lead(app, umbrella, sid, "15187")
    add_lead(app, umbrella, sid, "15120")
    with app.app_context(), tenant_scope(umbrella):
        db.session.add(LeadConsent(account_id=cid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    # A search on Murat's own site: counted for the coordinator, details stay with Murat.
    own = make_account(name="Chloé Murat")
    add_lead(app, first, account_id(app, own), "15187")
    with app.app_context(), tenant_scope(first):
        db.session.add(
            LeadConsent(account_id=account_id(app, own), text_version=CONSENT_VERSION, wording="x")
        )
        db.session.commit()

    coordinator = visitor(umbrella)
    coordinator.login(make_account(roles=[("coordinator", umbrella)]))
    with app.test_request_context(), tenant_scope(umbrella):
        from sites.leads import report

        murat = report.funnel(report.Filters(communes=("15187",)))
        assert (murat.contacts, murat.prospects, murat.people) == (2, 1, 2)
        db.session.rollback()
    page = coordinator.get("/console/prospects/membres").get_data(as_text=True)
    assert "Murat" in page and "Mauriac" in page and "Allanche" not in page
    assert "Chloé Murat" not in page
    lines = {
        name: page.split(f">{name}</a></th>")[1].split("</tr>")[0] for name in ("Murat", "Mauriac")
    }
    cells = {
        name: [c.split("<")[0] for c in line.split("<td>")[1:]] for name, line in lines.items()
    }
    assert cells["Murat"] == ["2", "1", "50 %", "2", "1", "0"]
    assert cells["Mauriac"] == ["1", "0", "0 %", "1", "0", "0"]

    detail = coordinator.get(f"/console/prospects/?member={first.slug}").get_data(as_text=True)
    assert "Alice Consent" in detail and "Bob Silence" not in detail and PSEUDONYM.search(detail)
    assert "Chloé Murat" not in detail
    rows = read_csv(coordinator.get(f"/console/prospects/export.csv?member={first.slug}"))
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"15187"}
    assert coordinator.get(f"/console/prospects/?member={outsider.slug}").status_code == 404

    # Murat's own console: the leads of its own site only.
    mayor = visitor(first)
    mayor.login(make_account(roles=[("admin", first)]))
    own_page = mayor.get("/console/prospects/").get_data(as_text=True)
    assert "Chloé Murat" in own_page and "Alice Consent" not in own_page
    assert mayor.get("/console/prospects/membres").status_code == 404


# --- RGPD ----------------------------------------------------------------------------------------


def test_leads_and_consents_are_exported_and_erased(app, make_tenant, make_account, visitor):
    from core.auth.personal_data import erase_account

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
