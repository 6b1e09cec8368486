"""The listing form in a real browser: the map places the point, the CSP stays quiet."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from tests.browser.support import shot
from tests.support import PASSWORD, host


def test_editor_places_a_listing_on_the_map_and_saves_it(
    app,
    cantal,
    make_tenant,
    make_account,
    live_server,
    browser,
):
    territory = make_tenant(name="Saint-Flour")
    email = make_account(roles=[("editor", territory)])
    site = f"http://{host(territory)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    outside, missing = [], []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((site, "data:")) else None,
    )
    try:
        page.goto(site + "/compte/connexion")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Mon compte")
        page.goto(site + "/console/annonces/nouvelle/real_estate")
        page.get_by_label("Identifiant").fill("CARTE-1")
        page.get_by_label("Titre").fill("Maison placée sur la carte")
        page.get_by_label("Code INSEE de la commune").fill("15187")
        page.get_by_label("Transaction").select_option("sale")
        page.get_by_label("Type de bien").select_option("house")
        page.get_by_label("Prix (€)").fill("120000")
        figure = page.locator("figure.picker")
        expect(figure).to_be_visible()
        latitude = page.locator("#f-latitude")
        expect(latitude).to_have_value("")
        page.locator(".folium-map").click()  # scrolled into view, clicked in its middle
        expect(latitude).not_to_have_value("")
        expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
        shot(page, "listing-form-map")
        page.get_by_role("button", name="Save as a draft").or_(
            page.get_by_role("button", name="Enregistrer comme brouillon")
        ).click()
        expect(page.locator(".flash-success")).to_be_visible()
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert outside == []
        assert [u for u in missing if not u.endswith("/favicon.ico")] == []
        with app.app_context(), tenant_scope(territory):
            saved = db.session.execute(select(Listing)).scalar_one()
            assert not saved.location_approximate and saved.cell_id
            db.session.rollback()
    finally:
        context.close()
