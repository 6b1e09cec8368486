"""The national portal on the platform's own host: its own URL map (its pages there only, the
territories' pages never), shared accounts, and the France-wide search answered by partner
territory, by département and by commune."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from core import grid
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.national import build
from sites.portal import partners
from sites.search import engine as search_engine
from sites.search import national as engine
from sites.search.form import read_form
from sites.search.query import parse_query
from tests.support import host

PORTAL = "vivrau.localhost"
SEVENTY = {  # five questions of seven answered: 71 %
    "home": "buy",
    "home_budget": "180000",
    "adults": "2",
    "children": "1",
    "job": "no",
    "business": "no",
    "lives_in": "Lyon",
}
COMPLETE = {**SEVENTY, "leisure": ["nature", "culture"], "moving": "6_months"}


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def national(app, cantal_profiles, tmp_path, monkeypatch):
    """The Cantal's national matrix, current in a folder of the test's own (no application
    context held over the test: each request has its own, as when served)."""
    monkeypatch.setitem(app.config, "NATIONAL_DIR", str(tmp_path))
    with app.app_context():
        build(tmp_path)
    partners.forget()
    yield tmp_path
    partners.forget()


def test_the_portal_host_serves_its_pages_and_only_them(app, make_tenant, visitor):
    town = make_tenant(name="Allanche")
    for name in (PORTAL, f"www.{PORTAL}"):
        portal = visitor(name)
        home = portal.get("/")
        assert home.status_code == 200
        assert "Trouvez où vivre en France" in text_of(home)
        assert portal.get("/territoires").status_code == 200
        assert portal.get("/confidentialite").status_code == 200
        assert portal.get("/compte/inscription").status_code == 200  # accounts: platform-wide
        for territory_page in ("/console/", "/annonces/", "/compte/favoris/", "/plateforme/"):
            assert portal.get(territory_page).status_code == 404, territory_page
    # The portal's pages exist on no other host; a territory keeps its own home.
    site = visitor(town)
    assert site.get("/territoires").status_code == 404
    assert "Allanche" in text_of(site.get("/"))
    assert visitor(f"admin.{PORTAL}").get("/territoires").status_code == 404


def test_partners_are_the_territories_whose_subscription_covers_the_base(app, make_tenant, visitor):
    subscribed = make_tenant(name="Condat")
    make_tenant(name="Marchastel", entitled=False)
    page = text_of(visitor(PORTAL).get("/territoires"))
    assert "Condat" in page and "Marchastel" not in page
    # Its own site is linked only while option 2 covers it.
    assert f"http://{host(subscribed)}" in visitor(PORTAL).get("/territoires").get_data(True)


def test_the_national_search_names_partners_departements_and_communes(
    app, national, make_tenant, visitor
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    outside = make_tenant(kind="commune", code="15014", name="Aurillac", entitled=False)
    portal = visitor(PORTAL)
    query = "c=gp_km&gp_km=10&gp_km_i=must&c=pharmacy_km&pharmacy_km=10&pharmacy_km_i=must"
    response = portal.get(f"/recherche?{query}&departement=15")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    holding = re.search(r'<table id="partners-holding">(.*?)</table>', page, re.S).group(1)
    assert "Saint-Flour" in holding and "Aurillac" not in holding  # not a partner
    assert f"http://{host(flour)}/recherche?{query.replace('&', '&amp;')}" in holding
    cantal = re.search(r'<tr id="departement-15">(.*?)</tr>', page, re.S).group(1)
    assert "Cantal (15)" in cantal
    communes = re.search(r'<table id="communes">(.*?)</table>', page, re.S).group(1)
    assert communes.count("<tr>") > 100  # the Cantal's communes, the most green first
    assert "Communes – Cantal (15)" in page
    del outside


def test_a_bad_search_and_a_missing_matrix_are_said_politely(
    app, national, visitor, tmp_path, monkeypatch
):
    portal = visitor(PORTAL)
    bad = portal.get("/recherche?c=gp_km&gp_km=beaucoup&gp_km_i=must")
    assert bad.status_code == 200
    assert 'id="departements"' not in bad.get_data(as_text=True)  # nothing searched
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)  # said beside its field
    monkeypatch.setitem(app.config, "NATIONAL_DIR", str(tmp_path / "nothing-here"))
    engine._held.update(matrix=None, checked=0.0, directory=None)
    missing = portal.get("/recherche?c=gp_km&gp_km=10&gp_km_i=must")
    assert missing.status_code == 200
    assert "pas disponible pour le moment" in text_of(missing)
    assert "Traceback" not in missing.get_data(as_text=True)


def leads_in(app, ref) -> list[tuple]:
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(
            text(
                "SELECT l.account_id, l.origin, e.kind, e.origin FROM leads l "
                "JOIN lead_events e ON e.lead_id = l.id ORDER BY l.id"
            )
        ).all()
        db.session.rollback()
    return [tuple(r) for r in rows]


def test_a_precise_national_search_makes_contacts_in_the_partners_concerned_only(
    app, national, make_tenant, make_account, visitor, monkeypatch
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    aurillac = make_tenant(kind="commune", code="15014", name="Aurillac")
    murat = make_tenant(kind="commune", code="15138", name="Murat", entitled=False)
    query = "c=train_station_km&train_station_km=2&train_station_km_i=must"
    with app.test_request_context():
        result = engine.national_search(parse_query(read_form(MultiDict(parse_qsl(query))).query()))
        concerned = {h.partner.territory.slug for h in partners.holding(result)}
    green = result.counts["green"]
    assert 0 < green and concerned  # some partner holds green squares, some may not
    # Exactly the rule's limit: a precise search, contacts written where the squares are green.
    monkeypatch.setattr(search_engine, "PRECISE_MAX", green)
    person = visitor(PORTAL)
    account = make_account()
    person.login(account)
    assert person.get(f"/recherche?{query}").status_code == 200
    for ref in (flour, aurillac):
        found = leads_in(app, ref)
        if ref.slug in concerned:
            assert found and all(r[1:] == ("portal", "search", "portal") for r in found)
        else:
            assert found == []
    assert leads_in(app, murat) == []  # not a partner: nothing, even with green squares
    # The partner's console says where the lead came from.
    held = flour if flour.slug in concerned else aurillac
    console = visitor(held)
    console.login(make_account(roles=[("admin", held)]))
    assert "vient du portail national" in text_of(console.get("/console/prospects/"))
    # One square more than the limit: not precise, nothing recorded anywhere.
    monkeypatch.setattr(search_engine, "PRECISE_MAX", green - 1)
    other = visitor(PORTAL)
    other.login(make_account())
    before = {ref.slug: len(leads_in(app, ref)) for ref in (flour, aurillac)}
    assert other.get(f"/recherche?{query}").status_code == 200
    assert {ref.slug: len(leads_in(app, ref)) for ref in (flour, aurillac)} == before


def test_an_unconfirmed_address_or_a_guest_records_nothing(
    app, national, make_tenant, make_account, visitor, monkeypatch
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    monkeypatch.setattr(search_engine, "PRECISE_MAX", 10_000)
    query = "c=gp_km&gp_km=10&gp_km_i=must"
    assert visitor(PORTAL).get(f"/recherche?{query}").status_code == 200  # a guest
    unconfirmed = visitor(PORTAL)
    unconfirmed.login(make_account(verified=False))
    assert unconfirmed.get(f"/recherche?{query}").status_code == 200
    assert leads_in(app, flour) == []


def api(client, body, query="", host_name=PORTAL):
    return client.post(f"/api/v1/france/search{query}", base_url=f"http://{host_name}", json=body)


BODY = {"criteria": [{"id": "gp_km", "threshold": 5, "importance": "must"}]}


def test_the_map_api_answers_each_zoom(app, national, client, make_tenant):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    whole = api(client, BODY)
    assert whole.status_code == 200
    body = whole.get_json()
    (cantal,) = body["areas"]
    assert cantal["code"] == "15" and cantal["name"] == "Cantal"
    assert cantal["cells"] == body["total"] and cantal["green"] == body["counts"]["green"]
    assert 2.0 < cantal["point"][0] < 3.5 and 44.5 < cantal["point"][1] < 45.5  # lon, lat
    assert [p["slug"] for p in body["partners"]] == [flour.slug]
    communes = api(client, BODY, "?level=communes&departement=15").get_json()["areas"]
    assert sum(a["cells"] for a in communes) <= body["total"] and len(communes) > 200
    cells = api(client, BODY, "?level=cells&bbox=3.05,45.0,3.13,45.06").get_json()["cells"]
    assert 20 < len(cells) < 200
    assert any(c["partner"] for c in cells) and not all(c["partner"] for c in cells)
    assert {c["status"] for c in cells} <= {"green", "orange", "yellow"}
    assert all(len(c["corners"]) == 4 for c in cells)
    # Only on the portal's host.
    assert api(client, BODY, host_name=host(flour)).status_code == 404


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("?level=streets", BODY, "level"),
        ("?level=communes&departement=99", BODY, "departement"),
        ("?level=cells&bbox=1,2", BODY, "bbox"),
        ("?level=cells&bbox=-5,42,8,51", BODY, "bbox"),  # all of France, square by square
        ("?level=cells&bbox=3,45,nan,46", BODY, "bbox"),
        ("", {"criteria": [{"id": "no_such", "threshold": 1, "importance": "must"}]}, None),
        ("", {"criteria": [{"id": "gp_km", "threshold": -4, "importance": "must"}]}, None),
    ],
)
def test_bad_map_requests_are_refused_with_their_reason(app, national, client, query, body, field):
    answer = api(client, body, query)
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["detail"]
    if field:
        assert field in problem["errors"]


def test_opening_a_partners_green_square_makes_a_prospect_there_only(
    app, national, make_tenant, make_account, visitor, monkeypatch
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    aurillac = make_tenant(kind="commune", code="15014", name="Aurillac")
    monkeypatch.setattr(search_engine, "PRECISE_MAX", 10_000)  # this search counts as precise
    centre = grid.cell_id(3.0928, 45.0337)  # Saint-Flour's centre
    with app.app_context(), tenant_scope(flour):
        db.session.execute(
            text(
                "INSERT INTO listings (kind, external_id, title, commune_insee, status, source, "
                "geom, cell_id) VALUES ('job', 'J-1', 'Infirmier de nuit', '15187', 'published', "
                "'manual', ST_SetSRID(ST_MakePoint(3.0930, 45.0340), 4326), :cell)"
            ),
            {"cell": centre},
        )
        db.session.commit()
    person = visitor(PORTAL)
    person.login(make_account())
    person.post("/compte/projet", COMPLETE)  # a complete project: the listings are open

    def opened(cell: str):
        return person.client.post(
            "/api/v1/france/search/cell", base_url=person.base, json={**BODY, "cell": cell}
        )

    answer = opened(centre)
    assert answer.status_code == 200
    square = answer.get_json()
    (job,) = square["listings"]  # the partner's listing, read from its own schema
    assert (
        job["title"] == "Infirmier de nuit" and job["in_cell"] and job["commune"] == "Saint-Flour"
    )
    assert job["url"] == f"http://{host(flour)}/annonces/job/J-1"
    assert square["status"] == "green" and square["communes"][0]["name"] == "Saint-Flour"
    assert [p["slug"] for p in square["partners"]] == [flour.slug]
    assert {c["id"] for c in square["criteria"]} == {"gp_km"}
    assert [r[1:] for r in leads_in(app, flour)] == [("portal", "click", "portal")]
    with app.app_context(), tenant_scope(flour):
        stages = db.session.execute(text("SELECT stage FROM leads")).scalars().all()
        db.session.rollback()
    assert stages and set(stages) == {"prospect"}
    assert leads_in(app, aurillac) == []
    # A square no partner holds (Murat's) records nothing anywhere.
    murat = opened(grid.cell_id(2.8686, 45.1100)).get_json()
    assert murat["partners"] == []
    assert leads_in(app, aurillac) == [] and len(leads_in(app, flour)) == 1
    # Ids that are not metropolitan squares, or a square without data.
    for bad, status in (
        ("N45E3", 400),
        ("CRS2972RES1000mN540000E340000", 400),
        (grid.cell_id(2.35, 48.85), 404),  # Paris: no profile in this test's matrix
    ):
        refused = opened(bad)
        assert refused.status_code == status, bad
        assert refused.mimetype == "application/problem+json"


def test_each_partner_has_its_page_on_the_portal(app, cantal_profiles, make_tenant, visitor):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    closed = make_tenant(kind="commune", code="15014", name="Aurillac", entitled=False)
    portal = visitor(PORTAL)
    page = portal.get(f"/territoires/{flour.slug}")
    assert page.status_code == 200
    said = text_of(page)
    assert "Saint-Flour en chiffres" in said and "Carreaux de 1 km² à comparer" in said
    assert f'href="http://{host(flour)}/recherche"' in page.get_data(as_text=True)
    assert f'href="/territoires/{flour.slug}"' in portal.get("/territoires").get_data(True)
    assert portal.get(f"/territoires/{closed.slug}").status_code == 404  # not a partner
    assert portal.get("/territoires/nobody").status_code == 404


def test_consent_to_one_partner_shows_the_portal_lead_to_that_partner_only(
    app, national, make_tenant, make_account, visitor, monkeypatch
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    aurillac = make_tenant(kind="commune", code="15014", name="Aurillac")
    monkeypatch.setattr(search_engine, "PRECISE_MAX", 10_000)
    email = make_account(name="Jeanne Vidal")
    person = visitor(PORTAL)
    person.login(email)
    assert person.get("/recherche?c=gp_km&gp_km=10&gp_km_i=must").status_code == 200
    assert leads_in(app, flour) and leads_in(app, aurillac)  # a contact of both
    # Her account's pages on the portal list both; she shares her details with Saint-Flour only.
    assert person.get("/compte/").status_code == 200
    sharing = person.get("/compte/partage")
    assert sharing.status_code == 200
    assert "Saint-Flour" in text_of(sharing) and "Aurillac" in text_of(sharing)
    person.post("/compte/partage", {"share": str(flour.id)})
    for ref, shown in ((flour, True), (aurillac, False)):
        console = visitor(ref)
        console.login(make_account(roles=[("admin", ref)]))
        page = text_of(console.get("/console/prospects/"))
        assert ("Jeanne Vidal" in page) is shown and ("vient du portail national" in page)
