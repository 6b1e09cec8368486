"""Favourite properties and "my place": save/remove, privacy, radius, missing amenities."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core import grid
from core.auth.models import Account
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.service import save
from sites.listings.models import Favourite
from sites.search.models import SavedSearch

LON, LAT = 3.0928, 45.0337  # Saint-Flour
KM_LAT, KM_LON = 1 / 111.2, 1 / 78.6
HOME = {
    "external_id": "HOME",
    "title": "Maison de bourg",
    "transaction": "sale",
    "property_type": "house",
    "price": Decimal("149000"),
}
CELL = grid.cell_id(LON, LAT)


def at(north_km: float = 0, east_km: float = 0) -> dict:
    return {
        "latitude": round(LAT + north_km * KM_LAT, 6),
        "longitude": round(LON + east_km * KM_LON, 6),
    }


def publish(app, ref, kind, items):
    with app.app_context():
        rows = []
        for item in items:
            code = db.session.execute(
                text(
                    "SELECT insee FROM communes "
                    "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                ),
                {"lon": item["longitude"], "lat": item["latitude"]},
            ).scalar()
            rows.append({"status": "published", "commune_insee": code} | item)
        db.session.rollback()
        with tenant_scope(ref):
            saved = save(kind, rows, source="api")
            assert saved.errors == {}, saved.errors
            db.session.commit()


def job(external_id, north_km):
    return {
        "external_id": external_id,
        "title": f"Emploi {external_id}",
        "rome_code": "M1805",
        "contract_type": "CDI",
    } | at(north_km)


@pytest.fixture
def place(app, cantal, make_tenant):
    """Saint-Flour with a property, opportunities at known distances, its square's profile and
    a GP 22 km away; the national rows are removed afterwards."""
    ref = make_tenant(name="Cantal", kind="departement", code="15")  # listings up to 25 km away
    publish(app, ref, "real_estate", [HOME | at()])
    publish(
        app, ref, "job", [job("J3", 3), job("J15", -15), job("JDRAFT", 1) | {"status": "draft"}]
    )
    publish(
        app,
        ref,
        "business",
        [
            {
                "external_id": "B8",
                "title": "Boulangerie à reprendre",
                "activity": "Boulangerie",
                "transfer_type": "fonds_de_commerce",
            }
            | at(0, 8)
        ],
    )
    publish(
        app,
        ref,
        "leisure",
        [{"external_id": "L25", "title": "Lac", "category": "Lake"} | at(0, -25)],
    )
    spot = at(22)
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO cell_profiles (cell_id, departement, gp_km, pharmacy_km) "
                "VALUES (:cell, '15', 23, 2) ON CONFLICT (cell_id) DO UPDATE "
                "SET gp_km = 23, pharmacy_km = 2"
            ),
            {"cell": CELL},
        )
        db.session.execute(
            text(
                "INSERT INTO pois (source, source_id, type_code, name, geom, cell_id) VALUES "
                "('test', 'fav-gp', 'D265', 'Cabinet lointain', "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :cell)"
            ),
            {
                "lon": spot["longitude"],
                "lat": spot["latitude"],
                "cell": grid.cell_id(spot["longitude"], spot["latitude"]),
            },
        )
        db.session.commit()
    yield ref
    with app.app_context():
        db.session.execute(text("DELETE FROM cell_profiles WHERE cell_id = :c"), {"c": CELL})
        db.session.execute(text("DELETE FROM pois WHERE source = 'test'"))
        db.session.commit()


def listing_id(app, ref, external_id="HOME") -> int:
    with app.app_context(), tenant_scope(ref):
        return db.session.execute(
            select(Listing.id).where(Listing.external_id == external_id)
        ).scalar_one()


def account_id(app, email) -> int:
    with app.app_context():
        return db.session.execute(select(Account.id).where(Account.email == email)).scalar_one()


def favourite_of(app, ref, email):
    with app.app_context(), tenant_scope(ref):
        return db.session.execute(
            select(Favourite.id).where(Favourite.account_id == account_id(app, email))
        ).scalar_one_or_none()


def signed_in(visitor, ref, make_account):
    email = make_account()
    site = visitor(ref)
    site.login(email)
    return site, email


def save_home(site, app, ref):
    return site.post(
        "/compte/favoris/basculer",
        {"listing": listing_id(app, ref), "action": "add"},
        csrf_from="/annonces/real_estate/HOME",
    )


def test_save_and_remove_a_favourite(place, visitor, make_account, app):
    anonymous = visitor(place).get("/annonces/real_estate/HOME").get_data(as_text=True)
    assert "/compte/connexion?next=" in anonymous and "favoris/basculer" not in anonymous
    site, email = signed_in(visitor, place, make_account)
    page = site.get("/annonces/real_estate/HOME").get_data(as_text=True)
    assert 'value="add"' in page and ("Save to my favourites" in page or "favoris" in page)
    # No CSRF token, no change.
    refused = site.client.post(
        "/compte/favoris/basculer",
        base_url=site.base,
        data={"listing": listing_id(app, place), "action": "add"},
    )
    assert refused.status_code == 400 and favourite_of(app, place, email) is None
    response = save_home(site, app, place)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/annonces/real_estate/HOME"
    )
    assert save_home(site, app, place).status_code == 302  # twice: still one
    favourite = favourite_of(app, place, email)
    assert favourite is not None
    page = site.get("/annonces/real_estate/HOME").get_data(as_text=True)
    assert 'value="remove"' in page and f"/compte/favoris/{favourite}" in page
    listing = site.get("/compte/favoris/").get_data(as_text=True)
    assert "Maison de bourg" in listing and f"/compte/favoris/{favourite}" in listing
    assert "/compte/favoris/" in site.get("/compte/").get_data(as_text=True)
    removed = site.post(
        "/compte/favoris/basculer",
        {"listing": listing_id(app, place), "action": "remove"},
        csrf_from="/annonces/real_estate/HOME",
    )
    assert removed.status_code == 302 and favourite_of(app, place, email) is None
    # Any published listing of the territory can be saved: a job too, not a draft nor a
    # foreign id.
    job = site.post(
        "/compte/favoris/basculer",
        {"listing": listing_id(app, place, "J3"), "action": "add"},
        csrf_from="/annonces/real_estate/HOME",
    )
    assert job.status_code == 302 and job.headers["Location"].endswith("/annonces/job/J3")
    saved = site.get("/compte/favoris/").get_data(as_text=True)
    assert "/annonces/job/J3" in saved
    job_page = site.get("/annonces/job/J3").get_data(as_text=True)
    assert 'value="remove"' in job_page and "Voir mon lieu" not in job_page
    for other in (listing_id(app, place, "JDRAFT"), 999999):
        response = site.post(
            "/compte/favoris/basculer",
            {"listing": other, "action": "add"},
            csrf_from="/annonces/real_estate/HOME",
        )
        assert response.status_code == 404
    assert visitor(place).get("/compte/favoris/").status_code == 302  # to the login page


def test_nobody_else_sees_a_favourite(place, visitor, make_account, make_tenant, app):
    site, email = signed_in(visitor, place, make_account)
    save_home(site, app, place)
    favourite = favourite_of(app, place, email)
    assert site.get(f"/compte/favoris/{favourite}").status_code == 200
    other, _email = signed_in(visitor, place, make_account)
    assert other.get(f"/compte/favoris/{favourite}").status_code == 404
    assert "Maison de bourg" not in other.get("/compte/favoris/").get_data(as_text=True)
    changed = other.post(
        f"/compte/favoris/{favourite}/rayon", {"radius_km": "30"}, csrf_from="/compte/favoris/"
    )
    assert changed.status_code == 404
    # The same person on another territory: its own (empty) favourites, never these.
    elsewhere = visitor(make_tenant(name="Murat", code="15138"))
    elsewhere.login(email)
    assert elsewhere.get(f"/compte/favoris/{favourite}").status_code == 404
    assert "Maison de bourg" not in elsewhere.get("/compte/favoris/").get_data(as_text=True)


def test_my_place_radius(place, visitor, make_account, app):
    site, email = signed_in(visitor, place, make_account)
    save_home(site, app, place)
    favourite = favourite_of(app, place, email)
    page = site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    assert 'class="folium-map"' in page and "L.circle" in page.replace("L.circleMarker", "")
    assert "Emploi J3" in page and "Emploi J15" not in page and "JDRAFT" not in page
    assert ".bindPopup(" in page and "$(" not in page  # link popups without jQuery
    assert "Boulangerie à reprendre" in page and "Lac" not in page
    assert re.search(r"Emploi J3</a>.*?3,0\s?km", page, re.S)
    assert '<option value="10" selected>' in page
    response = site.post(
        f"/compte/favoris/{favourite}/rayon",
        {"radius_km": "20"},
        csrf_from=f"/compte/favoris/{favourite}",
    )
    assert response.status_code == 302
    page = site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    assert "Emploi J15" in page and "Lac" not in page and '<option value="20" selected>' in page
    site.post(
        f"/compte/favoris/{favourite}/rayon", {"radius_km": "30"}, csrf_from="/compte/favoris/"
    )
    assert "Lac" in site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    bad = site.post(
        f"/compte/favoris/{favourite}/rayon", {"radius_km": "1000"}, csrf_from="/compte/favoris/"
    )
    assert bad.status_code == 302
    page = site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    assert '<option value="30" selected>' in page


def test_missing_amenities_follow_the_latest_saved_search(place, visitor, make_account, app):
    site, email = signed_in(visitor, place, make_account)
    save_home(site, app, place)
    favourite = favourite_of(app, place, email)
    # No saved search: the catalogue's default distances (GP ≤ 10 km fails at 23 km).
    page = site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    assert re.search(r"Médecin généraliste le plus proche (at|à) 23,0\s?km", page)
    with app.app_context(), tenant_scope(place):
        owner = account_id(app, email)
        db.session.add(
            SavedSearch(
                account_id=owner,
                name="Ancienne",
                query={"criteria": [{"id": "dentist_km", "threshold": 1, "importance": "must"}]},
            )
        )
        db.session.flush()
        db.session.execute(text("UPDATE saved_searches SET updated_at = now() - interval '1 day'"))
        db.session.add(
            SavedSearch(
                account_id=owner,
                name="Famille",
                query={
                    "criteria": [
                        {"id": "gp_km", "threshold": 10, "importance": "must"},
                        {"id": "pharmacy_km", "threshold": 5, "importance": "must"},
                    ]
                },
            )
        )
        db.session.commit()
    page = site.get(f"/compte/favoris/{favourite}").get_data(as_text=True)
    missing = page.split('id="missing-title"')[1]
    assert "Famille" in missing
    assert re.search(r"Médecin généraliste le plus proche (at|à) 23,0\s?km", missing)
    # The threshold as the search page words it (as set, "10 km"), never "10,0 km".
    assert re.search(r"≤ 10\s?km", missing) and "10,0" not in missing
    assert re.search(r"22,0\s?km.*Cabinet lointain", missing, re.S)  # from the property itself
    assert "Pharmacie" not in missing and "Dentiste" not in missing


def test_a_withdrawn_or_expired_favourite_is_said_unavailable(place, visitor, make_account, app):
    site, email = signed_in(visitor, place, make_account)
    save_home(site, app, place)
    favourite = favourite_of(app, place, email)
    with app.app_context(), tenant_scope(place):
        db.session.execute(
            Listing.__table__.update().where(Listing.external_id == "HOME").values(status="expired")
        )
        db.session.commit()
    listing = site.get("/compte/favoris/")
    assert listing.status_code == 200
    assert "no longer available" in listing.get_data(as_text=True) or "plus disponible" in (
        listing.get_data(as_text=True)
    )
    page = site.get(f"/compte/favoris/{favourite}")
    assert page.status_code == 200 and 'value="remove"' in page.get_data(as_text=True)
    assert 'class="folium-map"' not in page.get_data(as_text=True)
    removed = site.post(
        "/compte/favoris/basculer",
        {"listing": listing_id(app, place), "action": "remove"},
        csrf_from="/compte/favoris/",
    )
    assert removed.status_code == 302 and removed.headers["Location"].endswith("/compte/favoris/")
    assert favourite_of(app, place, email) is None
