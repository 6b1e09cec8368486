"""A listing's place: its page shows its cell and the nearest amenities; the listings of a cell
and around it (GET /api/v1/cells/<cell>/listings)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from core import grid
from core.extensions import db
from ingest.reference.criteria import BY_ID, matches
from sites.listings import cells_api
from sites.listings.nearby import nearest_amenities
from tests import listing_page_helpers
from tests.listing_page_helpers import HOME, LAT, LON, at, publish

catalogue = listing_page_helpers.catalogue


# --- detail: the cell and the nearest amenities ------------------------------------------------


@pytest.fixture
def pois(app):
    """Hand-placed national points around Saint-Flour, removed after the test."""

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
    pois(
        ("D265", "Cabinet du Dr Near", 2, 0),
        ("D265", "Cabinet du Dr Far", 9, 0),
        ("osm:amenity=pharmacy", "Pharmacie du Pont", 0, 0.5),
        ("D106", "Hôpital", 30, 0),
        ("C101", "École", 0, -150),  # beyond 100 km: "none within"
    )
    publish(app, catalogue, "real_estate", [HOME | {"external_id": "GEO"} | at()])
    page = visitor(catalogue).get("/annonces/real_estate/GEO").get_data(as_text=True)
    # The square is drawn, its grid code is no reader's business (a raw code on a page).
    assert grid.cell_id(LON, LAT) not in page
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
    # The Cantal: its listings may lie 8 km from Saint-Flour (a territory keeps to its land).
    catalogue = make_tenant(name="Cantal", kind="departement", code="15")

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
    other = make_tenant(name="Saint-Flour", code="15187")  # overlaps the Cantal
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
    # The other territory, on the same spot: each sees its own listings only.
    theirs = visitor(other).get(f"/api/v1/cells/{cell}/listings").get_json()
    assert [i["external_id"] for i in theirs["items"]] == ["OTHER"]
    spec = site.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/cells/{cell_id}/listings"]["get"]
    assert operation["security"] == []


def test_cell_listings_are_rate_limited(catalogue, visitor, app, monkeypatch):
    cell = grid.cell_id(LON, LAT)
    site = visitor(catalogue)
    statuses = [site.get(f"/api/v1/cells/{cell}/listings").status_code for _ in range(125)]
    assert statuses[0] == 200 and statuses[-1] == 429
    assert cells_api.RATE == "120 per minute"
