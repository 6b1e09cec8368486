"""Public listing pages: only published listings, on their own territory, formatted per locale."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.service import save

BASE = {
    "title": "Maison de bourg",
    "commune_insee": "15187",
    "transaction": "sale",
    "property_type": "house",
    "price": Decimal("149000"),
    "furnished": True,
    "description": "Belle maison.\nGrand jardin.\n\nProche école.",
    "photo_url": "https://photos.example.org/maison.jpg",
    "contact_email": "immo@saint-flour.fr",
}


@pytest.fixture
def territories(app, cantal, make_tenant):
    a, b = make_tenant(name="Saint-Flour"), make_tenant(name="Murat")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    items = [
        BASE | {"external_id": "PUB", "status": "published"},
        BASE | {"external_id": "DRAFT", "status": "draft"},
        BASE | {"external_id": "OFF", "status": "unpublished"},
        BASE | {"external_id": "OLD", "status": "published", "expires_on": yesterday},
        BASE | {"external_id": "A/B 1", "status": "published", "photo_url": None},
    ]
    with app.app_context(), tenant_scope(a):
        saved = save("real_estate", items, source="api")
        assert saved.errors == {}
        db.session.commit()
    return a, b


def test_only_published_listings_have_a_page(territories, visitor):
    a, b = territories
    site = visitor(a)
    assert site.get("/annonces/real_estate/PUB").status_code == 200
    assert site.get("/annonces/real_estate/A/B 1").status_code == 200
    for external_id in ("DRAFT", "OFF", "OLD", "NOPE"):
        assert site.get(f"/annonces/real_estate/{external_id}").status_code == 404, external_id
    assert site.get("/annonces/job/PUB").status_code == 404
    assert site.get("/annonces/boat/PUB").status_code == 404
    assert visitor(b).get("/annonces/real_estate/PUB").status_code == 404
    listing_page = site.get("/annonces/real_estate").get_data(as_text=True)
    assert "/annonces/real_estate/PUB" in listing_page
    assert "DRAFT" not in listing_page and "/OFF" not in listing_page and "/OLD" not in listing_page
    assert "/annonces/real_estate/PUB" in site.get("/annonces/").get_data(as_text=True)


def test_the_page_shows_formatted_fields_in_the_readers_language(territories, visitor):
    a, _b = territories
    site = visitor(a)
    response = site.get("/annonces/real_estate/PUB")
    page = response.get_data(as_text=True)
    assert "Saint-Flour" in page and "Maison" in page  # commune name, readable enum label
    assert "149\u202f000,00\xa0€" in page or "149 000,00 €" in page or "149\xa0000,00\xa0€" in page
    # (Oui once the catalogue has the msgid; the label itself comes from the declaration)
    assert re.search(r"<dt>Meublé</dt>\s*<dd>(Oui|Yes)</dd>", page)
    assert "Belle maison.<br>Grand jardin." in page and "<p>Proche école.</p>" in page
    assert 'src="https://photos.example.org/maison.jpg"' in page
    assert 'referrerpolicy="no-referrer"' in page
    assert "img-src 'self' data: https:" in response.headers["Content-Security-Policy"]
    assert "mailto:immo@saint-flour.fr" in page
    plain = site.get("/annonces/real_estate/A/B 1")
    assert (
        "https:" not in plain.headers["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    )
    site.client.set_cookie("lang", "en", domain=site.host)
    english = site.get("/annonces/real_estate/PUB").get_data(as_text=True)
    assert "Furnished" in english and "Yes" in english and "House" in english
    assert "€149,000.00" in english


# --- filters, sorting, pagination ---------------------------------------------------------------

LON, LAT = 3.0928, 45.0337  # Saint-Flour
KM_LAT, KM_LON = 1 / 111.2, 1 / 78.6  # degrees per km at this latitude


def at(north_km: float = 0, east_km: float = 0) -> dict:
    return {
        "latitude": round(LAT + north_km * KM_LAT, 6),
        "longitude": round(LON + east_km * KM_LON, 6),
    }


def commune_at(item: dict) -> dict:
    """The commune holding the item's point (a point must lie in its commune)."""
    from sqlalchemy import text

    if "latitude" not in item or "commune_insee" in item:
        return item
    code = db.session.execute(
        text(
            "SELECT insee FROM communes "
            "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        {"lon": item["longitude"], "lat": item["latitude"]},
    ).scalar()
    return item | {"commune_insee": code}


def publish(app, ref, kind, items):
    with app.app_context():
        items = [{"status": "published"} | commune_at(i) for i in items]
        db.session.rollback()  # a transaction belongs to one territory (or none)
        with tenant_scope(ref):
            saved = save(kind, [{"commune_insee": "15187"} | i for i in items], source="api")
            assert saved.errors == {}, saved.errors
            db.session.commit()


HOME = {k: v for k, v in BASE.items() if k not in ("photo_url", "description")}


@pytest.fixture
def catalogue(app, cantal, make_tenant):
    """One territory with listings of every kind to filter."""
    ref = make_tenant(name="Saint-Flour")
    with app.app_context():
        publish(
            app,
            ref,
            "real_estate",
            [
                HOME
                | {
                    "external_id": "H1",
                    "price": Decimal(90000),
                    "living_area_m2": Decimal(60),
                    "rooms": 3,
                },
                HOME
                | {
                    "external_id": "H2",
                    "price": Decimal(150000),
                    "living_area_m2": Decimal(110),
                    "rooms": 5,
                },
                HOME
                | {
                    "external_id": "H3",
                    "price": Decimal(250000),
                    "living_area_m2": Decimal(180),
                    "rooms": 7,
                },
                HOME
                | {
                    "external_id": "R1",
                    "transaction": "rent",
                    "property_type": "flat",
                    "price": Decimal(550),
                    "rooms": 2,
                },
            ],
        )
        publish(
            app,
            ref,
            "job",
            [
                {
                    "external_id": "J1",
                    "title": "Développeur",
                    "rome_code": "M1805",
                    "contract_type": "CDI",
                    "full_time": True,
                },
                {
                    "external_id": "J2",
                    "title": "Infirmier",
                    "rome_code": "J1506",
                    "contract_type": "CDD",
                    "full_time": False,
                },
                {
                    "external_id": "J3",
                    "title": "Aide-soignant",
                    "rome_code": "J1501",
                    "contract_type": "CDI",
                    "full_time": True,
                },
            ],
        )
        publish(
            app,
            ref,
            "business",
            [
                {
                    "external_id": "B1",
                    "title": "Boulangerie",
                    "activity": "Boulangerie",
                    "transfer_type": "fonds_de_commerce",
                    "price": Decimal(80000),
                },
                {
                    "external_id": "B2",
                    "title": "Local",
                    "activity": "Commerce",
                    "transfer_type": "local_vacant",
                    "price": Decimal(20000),
                },
            ],
        )
        publish(
            app,
            ref,
            "leisure",
            [
                {
                    "external_id": "L1",
                    "title": "Festival d'été",
                    "category": "Festival",
                    "start_on": "2030-07-01",
                    "end_on": "2030-07-10",
                },
                {
                    "external_id": "L2",
                    "title": "Marché de Noël",
                    "category": "Market",
                    "start_on": "2030-12-10",
                    "end_on": "2030-12-20",
                },
                {"external_id": "L3", "title": "Piscine", "category": "SportsAndLeisurePlace"},
            ],
        )
        publish(
            app,
            ref,
            "poi",
            [
                {"external_id": "P1", "title": "Maison de santé", "theme": "Santé"},
                {"external_id": "P2", "title": "Médiathèque", "theme": "Culture"},
            ],
        )
    return ref


def ids_on(page: str, kind: str) -> list[str]:
    return re.findall(rf'href="/annonces/{kind}/([^"]+)"', page)


def test_real_estate_filters_and_sorting(catalogue, visitor):
    site = visitor(catalogue)
    page = site.get("/annonces/real_estate?price_min=100000&price_max=200000").get_data(
        as_text=True
    )
    assert ids_on(page, "real_estate") == ["H2"]
    page = site.get("/annonces/real_estate?area_min=100&rooms_min=6").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["H3"]
    page = site.get("/annonces/real_estate?transaction=rent").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["R1"]
    page = site.get("/annonces/real_estate?property_type=house&sort=price_asc").get_data(
        as_text=True
    )
    assert ids_on(page, "real_estate") == ["H1", "H2", "H3"]
    page = site.get("/annonces/real_estate?transaction=sale&sort=price_desc").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["H3", "H2", "H1"]
    page = site.get("/annonces/real_estate?commune=15187").get_data(as_text=True)
    assert len(ids_on(page, "real_estate")) == 4
    assert '<option value="15187" selected>Saint-Flour</option>' in page
    assert "149\u202f000" in page or "90\u202f000" in page  # key facts on the cards


def test_filters_of_the_other_kinds(catalogue, visitor):
    site = visitor(catalogue)
    assert ids_on(site.get("/annonces/job?contract_type=CDI").get_data(as_text=True), "job") in (
        ["J1", "J3"],
        ["J3", "J1"],
    )
    assert ids_on(site.get("/annonces/job?rome=j15").get_data(as_text=True), "job") in (
        ["J2", "J3"],
        ["J3", "J2"],
    )
    assert ids_on(site.get("/annonces/job?rome=J15&full_time=1").get_data(as_text=True), "job") == [
        "J3"
    ]
    page = site.get("/annonces/business?transfer_type=local_vacant").get_data(as_text=True)
    assert ids_on(page, "business") == ["B2"]
    assert ids_on(
        site.get("/annonces/business?price_max=50000").get_data(as_text=True), "business"
    ) == ["B2"]
    page = site.get("/annonces/leisure?date_from=2030-12-01").get_data(as_text=True)
    assert sorted(ids_on(page, "leisure")) == ["L2", "L3"]  # no dates: always on
    page = site.get("/annonces/leisure?date_from=2030-06-01&date_to=2030-08-01&category=Festival")
    assert ids_on(page.get_data(as_text=True), "leisure") == ["L1"]
    assert ids_on(site.get("/annonces/poi?theme=Culture").get_data(as_text=True), "poi") == ["P2"]
    # The kind select of the form leads to the other kind's page, keeping what applies to it.
    moved = site.get("/annonces/real_estate?kind=job&contract_type=CDD&price_min=5")
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/annonces/job?contract_type=CDD")
    page = site.get("/annonces/job?contract_type=CDI&rome=M").get_data(as_text=True)
    assert ids_on(page, "job") == ["J1"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/annonces/real_estate?price_min=abc", "price_min"),
        ("/annonces/real_estate?price_min=-5", "price_min"),
        ("/annonces/real_estate?price_max=1e400", "price_max"),
        ("/annonces/real_estate?price_min=NaN", "price_min"),
        ("/annonces/real_estate?rooms_min=2.5", "rooms_min"),
        ("/annonces/real_estate?price_min=200000&price_max=100", "price_max"),
        ("/annonces/real_estate?commune=75056", "commune"),
        ("/annonces/real_estate?transaction=swap", "transaction"),
        ("/annonces/real_estate?sort=<script>", "sort"),
        ("/annonces/job?rome=Z99", "rome"),
        ("/annonces/job?full_time=maybe", "full_time"),
        ("/annonces/job?sort=price_asc", "sort"),
        ("/annonces/leisure?date_from=31/12/2030", "date_from"),
        ("/annonces/leisure?date_from=2030-12-01&date_to=2030-01-01", "date_to"),
        ("/annonces/poi?theme=Nope", "theme"),
    ],
)
def test_bad_filter_values_are_said_never_a_500(catalogue, visitor, query, field):
    response = visitor(catalogue).get(query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in page and 'aria-invalid="true"' in page
    assert (
        "<script>" not in page.split("<main")[1].split("</main>")[0].replace('<script src="', "")
        or "&lt;script&gt;" in page
    )


def test_pages_keep_the_filters(catalogue, visitor, monkeypatch):
    from sites.listings import views as listing_site

    monkeypatch.setattr(listing_site, "PAGE_SIZE", 2)
    site = visitor(catalogue)
    first = site.get("/annonces/real_estate?property_type=house&sort=price_asc").get_data(
        as_text=True
    )
    assert ids_on(first, "real_estate") == ["H1", "H2"]
    nxt = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "property_type=house" in nxt and "sort=price_asc" in nxt and "page=2" in nxt
    assert ids_on(site.get(nxt).get_data(as_text=True), "real_estate") == ["H3"]
    assert site.get("/annonces/real_estate?page=99").status_code == 200
    assert site.get("/annonces/real_estate?page=-3").status_code == 200


# --- detail: the cell and the nearest amenities ------------------------------------------------


@pytest.fixture
def pois(app):
    """Hand-placed national points around Saint-Flour, removed after the test."""
    from sqlalchemy import text

    from core import grid

    def add(*rows):
        with app.app_context():
            for i, (code, name, north_km, east_km) in enumerate(rows):
                spot = at(north_km, east_km)
                lon, lat = spot["longitude"], spot["latitude"]
                db.session.execute(
                    text(
                        "INSERT INTO pois (source, source_id, type_code, name, geom, cell_id) "
                        "VALUES ('test', :sid, :code, :name, "
                        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :cell)"
                    ),
                    {
                        "sid": f"lp-{i}-{code}",
                        "code": code,
                        "name": name,
                        "lon": lon,
                        "lat": lat,
                        "cell": grid.cell_id(lon, lat),
                    },
                )
            db.session.commit()

    yield add
    with app.app_context():
        db.session.execute(text("DELETE FROM pois WHERE source = 'test'"))
        db.session.commit()


def test_detail_shows_its_cell_and_nearest_amenities(catalogue, visitor, pois, app):
    from core import grid
    from ingest.reference.criteria import BY_ID, matches
    from sites.listings.nearby import nearest_amenities

    pois(
        ("D265", "Cabinet du Dr Near", 2, 0),
        ("D265", "Cabinet du Dr Far", 9, 0),
        ("osm:amenity=pharmacy", "Pharmacie du Pont", 0, 0.5),
        ("D106", "Hôpital", 30, 0),
        ("C101", "École", 0, -150),  # beyond 100 km: "none within"
    )
    publish(app, catalogue, "real_estate", [HOME | {"external_id": "GEO"} | at()])
    page = visitor(catalogue).get("/annonces/real_estate/GEO").get_data(as_text=True)
    cell = grid.cell_id(LON, LAT)
    assert cell in page
    assert 'class="folium-map"' in page and "L.polygon" in page  # the square drawn
    assert "vendor/leaflet/leaflet.js" in page and "https://" not in page.split("<main")[1]
    assert re.search(r"Médecin généraliste le plus proche</th>\s*<td[^>]*>2,0\s?km", page)
    assert "Cabinet du Dr Near" in page and "Cabinet du Dr Far" not in page
    assert re.search(r"Pharmacie la plus proche</th>\s*<td[^>]*>0,5\s?km", page)
    assert re.search(r"Urgences hospitalières les plus proches</th>\s*<td[^>]*>30,0", page)
    assert re.search(r"École maternelle ou élémentaire la plus proche</th>\s*<td colspan", page)
    assert "approximate" not in page and "approximati" not in page
    # The SQL type match agrees with the catalogue's own rule.
    with app.app_context():
        found = nearest_amenities(LON, LAT)
    assert matches(BY_ID["gp_km"], found["gp_km"].type_code)
    assert found["primary_school_km"].distance_km is None
    assert 1.95 < found["gp_km"].distance_km < 2.05


def test_an_approximate_location_is_said(catalogue, visitor, app):
    publish(app, catalogue, "real_estate", [HOME | {"external_id": "APPROX"}])
    page = visitor(catalogue).get("/annonces/real_estate/APPROX").get_data(as_text=True)
    assert "Approximate location" in page or "approximati" in page
    assert "Nearest amenities" in page or "Équipements les plus proches" in page


# --- GET /api/v1/cells/<cell>/listings ----------------------------------------------------------


def test_cell_listings_api(cantal, make_tenant, visitor, app):
    from core import grid

    catalogue = make_tenant(name="Saint-Flour")

    cell = grid.cell_id(LON, LAT)
    publish(
        app,
        catalogue,
        "job",
        [
            {
                "external_id": "IN1",
                "title": "Dans le carreau",
                "rome_code": "M1805",
                "contract_type": "CDI",
            }
            | at(),
            {
                "external_id": "NEAR2",
                "title": "À 2 km",
                "rome_code": "M1805",
                "contract_type": "CDI",
            }
            | at(2, 0),
            {
                "external_id": "NEAR4",
                "title": "À 4 km",
                "rome_code": "M1805",
                "contract_type": "CDD",
            }
            | at(0, -4),
            {"external_id": "FAR", "title": "À 8 km", "rome_code": "M1805", "contract_type": "CDI"}
            | at(8, 0),
            {
                "external_id": "DRAFT",
                "title": "Brouillon",
                "rome_code": "M1805",
                "contract_type": "CDI",
                "status": "draft",
            }
            | at(),
        ],
    )
    publish(app, catalogue, "real_estate", [HOME | {"external_id": "HOME-IN"} | at()])
    other = make_tenant(name="Autre", code="15138")
    publish(
        app,
        other,
        "job",
        [
            {
                "external_id": "OTHER",
                "title": "Ailleurs",
                "rome_code": "M1805",
                "contract_type": "CDI",
            }
            | at()
        ],
    )
    site = visitor(catalogue)
    response = site.get(f"/api/v1/cells/{cell}/listings?kind=job")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert [i["external_id"] for i in body["items"]] == ["IN1", "NEAR2", "NEAR4"]
    assert body["total"] == 3 and body["pages"] == 1 and body["radius_km"] == 5
    first = body["items"][0]
    assert first["in_cell"] is True and first["commune"] == "Saint-Flour"
    assert first["fields"]["contract_type"] == "CDI" and first["url"].endswith("/annonces/job/IN1")
    assert 1.9 < body["items"][1]["distance_km"] < 2.6
    assert body["items"][1]["in_cell"] is False
    paged = site.get(f"/api/v1/cells/{cell}/listings?kind=job&page=2&per_page=2").get_json()
    assert [i["external_id"] for i in paged["items"]] == ["NEAR4"] and paged["pages"] == 2
    every = site.get(f"/api/v1/cells/{cell}/listings?per_page=50").get_json()
    ids = {i["external_id"] for i in every["items"]}
    assert {"IN1", "HOME-IN"} <= ids and not ids & {"DRAFT", "FAR", "OTHER"}
    assert every["items"][0]["in_cell"] and every["items"][1]["in_cell"]
    # Outside the territory, malformed, bad parameters.
    outside = grid.cell_id(2.35, 48.85)
    missing = site.get(f"/api/v1/cells/{outside}/listings")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert site.get("/api/v1/cells/nope/listings").status_code == 404
    assert site.get(f"/api/v1/cells/{cell}/listings?kind=boat").status_code == 422
    assert site.get(f"/api/v1/cells/{cell}/listings?per_page=500").status_code == 422
    assert site.get(f"/api/v1/cells/{cell}/listings?colour=red").status_code == 422
    # The other territory: Saint-Flour's cell is not its own; its own listing stays its own.
    assert visitor(other).get(f"/api/v1/cells/{cell}/listings").status_code == 404
    spec = site.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/cells/{cell_id}/listings"]["get"]
    assert operation["security"] == []


def test_cell_listings_are_rate_limited(catalogue, visitor, app, monkeypatch):
    from core import grid
    from sites.listings import cells_api

    cell = grid.cell_id(LON, LAT)
    site = visitor(catalogue)
    statuses = [site.get(f"/api/v1/cells/{cell}/listings").status_code for _ in range(125)]
    assert statuses[0] == 200 and statuses[-1] == 429
    assert cells_api.RATE == "120 per minute"
