"""A listing in a real browser: found from a search on the map, its square and amenities, saved
as a favourite, "my place"; screenshots, no outside request, axe-core on the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from core import grid
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.service import save
from tests.browser.support import axe_violations, cell_centre, shot
from tests.support import PASSWORD, host

LON, LAT = 3.0928, 45.0337  # Saint-Flour
CELL = grid.cell_id(LON, LAT)


@pytest.fixture
def town(app, cantal, make_tenant):
    ref = make_tenant(name="Saint-Flour")
    with app.app_context(), tenant_scope(ref):
        home = {
            "external_id": "HOME",
            "title": "Maison de bourg avec jardin",
            "commune_insee": "15187",
            "transaction": "sale",
            "property_type": "house",
            "price": Decimal("149000"),
            "living_area_m2": Decimal("110"),
            "rooms": 5,
            "latitude": LAT,
            "longitude": LON,
            "status": "published",
        }
        work = {
            "external_id": "JOB",
            "title": "Infirmier ou infirmière",
            "commune_insee": "15187",
            "rome_code": "J1506",
            "contract_type": "CDI",
            "latitude": LAT + 0.02,
            "longitude": LON,
            "status": "published",
        }
        assert save("real_estate", [home], source="api").errors == {}
        assert save("job", [work], source="api").errors == {}
        db.session.commit()
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO cell_profiles (cell_id, departement, gp_km, pharmacy_km) "
                "VALUES (:c, '15', 23, 1) ON CONFLICT (cell_id) DO UPDATE SET gp_km = 23"
            ),
            {"c": CELL},
        )
        db.session.execute(
            text(
                "INSERT INTO pois (source, source_id, type_code, name, geom, cell_id) VALUES "
                "('test', 'browser-ph', 'D307', 'Pharmacie du Pont', "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :c)"
            ),
            {"lon": LON + 0.005, "lat": LAT, "c": grid.cell_id(LON + 0.005, LAT)},
        )
        db.session.commit()
    yield ref
    with app.app_context():
        db.session.execute(text("DELETE FROM cell_profiles WHERE cell_id = :c"), {"c": CELL})
        db.session.execute(text("DELETE FROM pois WHERE source = 'test'"))
        db.session.commit()


def watch(page, site):
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((site, "data:")) else None,
    )
    return errors, outside


def test_open_a_listing_save_it_and_open_my_place(town, live_server, browser, make_account):
    email = make_account()
    site = f"http://{host(town)}:{live_server}"
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    errors, outside = watch(page, site)
    try:
        page.goto(site + "/annonces/real_estate?property_type=house")
        page.get_by_role("link", name="Maison de bourg avec jardin").click()
        expect(page.locator("h1")).to_have_text("Maison de bourg avec jardin")
        expect(page.locator(".cell-map .leaflet-container")).to_be_visible()
        expect(page.locator(".listing-cell")).not_to_contain_text(CELL)  # no raw grid code
        expect(page.locator("table.amenities")).to_contain_text("Pharmacie du Pont")
        shot(page, "listing-1-detail")

        page.locator(".favourite-action a").click()  # log in to save it
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Maison de bourg avec jardin")
        page.locator(".favourite-action button[type=submit]").click()
        expect(page.locator(".favourite-state")).to_be_visible()
        shot(page, "listing-2-saved")

        page.locator(".favourite-state a").click()
        expect(page.locator(".place-map .leaflet-container")).to_be_visible()
        expect(page.locator("table.opportunities")).to_contain_text("Infirmier ou infirmière")
        expect(page.locator("ul.missing")).to_contain_text("23,0")
        page.locator("#radius_km").select_option("20")
        page.locator(".place-radius button[type=submit]").click()
        expect(page.locator("#radius_km")).to_have_value("20")
        shot(page, "listing-3-my-place")

        page.goto(site + "/compte/favoris/")
        expect(page.locator(".favourites-list")).to_contain_text("Maison de bourg avec jardin")
        shot(page, "listing-4-favourites")
        assert [e for e in errors if "404" not in e] == [] and outside == []  # 404: favicon
    finally:
        context.close()


def test_listing_and_place_pages_pass_axe(town, live_server, browser, make_account):
    email = make_account()
    site = f"http://{host(town)}:{live_server}"
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="fr-FR"
    )
    page = context.new_page()
    try:
        page.goto(site + "/annonces/real_estate/HOME")
        expect(page.locator(".cell-map .leaflet-container")).to_be_visible()
        assert axe_violations(page) == []
        page.goto(site + "/annonces/real_estate?price_min=abc")  # with an error said
        assert axe_violations(page) == []
        page.goto(site + "/compte/connexion?next=/annonces/real_estate/HOME")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.locator(".favourite-action button[type=submit]").click()
        page.locator(".favourite-state a").click()
        expect(page.locator(".place-map .leaflet-container")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        context.close()


def test_from_the_search_to_my_place(app, town, live_server, browser, make_account):
    """The whole visit: two must-haves, the map recolours, a green cell, its listing, saved,
    and "my place" — the territory now counts this person as a prospect."""
    email = make_account()
    site = f"http://{host(town)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors, outside = watch(page, site)
    try:
        page.goto(site + "/compte/connexion")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(site + "/recherche")
        page.evaluate("window.stillHere = true")
        # Two must-haves: only the listing's square has a pharmacy within 3 km and a GP
        # within 30 km (the other squares have no profile: unknown fails).
        page.locator("#use-pharmacy_km").check()
        page.locator("#t-pharmacy_km").fill("3")
        page.locator("#use-gp_km").check()
        page.locator("#t-gp_km").fill("30")
        page.locator("#search-form button[type=submit]").last.click()
        figure = page.locator("#search-map")
        expect(figure).to_have_attribute("data-statuses", "1")
        expect(page.locator("#search-summary")).to_contain_text("1 carreau vert")
        assert page.evaluate("window.stillHere") is True  # recoloured in place
        shot(page, "journey-1-search")

        x, y = cell_centre(page, CELL)
        page.mouse.click(x, y)
        panel = page.locator("#cell-panel")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("Saint-Flour")
        listing = panel.get_by_role("link", name="Maison de bourg avec jardin")
        expect(listing).to_be_visible()
        shot(page, "journey-2-cell")

        listing.click()
        expect(page.locator("h1")).to_have_text("Maison de bourg avec jardin")
        page.locator(".favourite-action button[type=submit]").click()
        expect(page.locator(".favourite-state")).to_be_visible()
        page.locator(".favourite-state a").click()
        expect(page.locator(".place-map .leaflet-container")).to_be_visible()
        expect(page.locator("table.opportunities")).to_contain_text("Infirmier ou infirmière")
        shot(page, "journey-3-my-place")
        assert [e for e in errors if "404" not in e] == [] and outside == []  # 404: favicon
    finally:
        context.close()
    with app.app_context(), tenant_scope(town):
        stages = db.session.execute(text("SELECT stage FROM leads")).scalars().all()
    assert stages == ["prospect"]  # the search made a contact, the click a prospect
