"""A listing's photos in a real browser: the gallery served by the platform (no outside
request), readable alt texts, axe-core clean, at desktop and phone widths; screenshots."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.photos import add_photo
from ingest.listings.service import save
from sites.demo_photos import demo_photos, draw
from tests.browser.support import ARTIFACTS, axe_violations, shot
from tests.support import host

SHOTS = ARTIFACTS / "listing_photos"  # looked at after a run; ignored by git


@pytest.fixture
def town(app, cantal, make_tenant):
    ref = make_tenant(name="Saint-Flour")
    with app.app_context(), tenant_scope(ref):
        saved = save(
            "real_estate",
            [
                {
                    "external_id": "HOME",
                    "title": "Maison de bourg avec jardin",
                    "commune_insee": "15187",
                    "transaction": "sale",
                    "property_type": "house",
                    "price": "149000",
                    "status": "published",
                }
            ],
            source="api",
        )
        listing = db.session.get(Listing, saved.outcome.results["HOME"][0])
        db.session.commit()
        for seed in ("a", "b"):
            add_photo(listing, draw("real_estate", seed), source="manual", alt=f"Vue {seed}")
        db.session.commit()
    with app.app_context():
        demo_photos([ref.slug])
    return ref


@pytest.mark.parametrize("width", [1280, 390])
def test_the_gallery_is_served_here_and_accessible(town, live_server, browser, width):
    site = f"http://{host(town)}:{live_server}"
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="fr-FR", bypass_csp=True
    )
    page = context.new_page()
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((site, "data:")) else None,
    )
    try:
        page.goto(site + "/annonces/real_estate/HOME")
        slides = page.locator(".gallery-slides img")
        expect(slides).to_have_count(2)
        expect(slides.first).to_have_attribute("alt", "Vue a")
        assert page.evaluate("document.querySelector('.gallery-slides img').naturalWidth") > 0
        expect(page.locator(".gallery-thumbs a")).to_have_count(2)
        shot(page, f"listing-photos-{width}")
        assert axe_violations(page) == []
        page.goto(site + "/annonces/real_estate")
        expect(page.locator(".card-photo")).to_have_count(1)
        shot(page, f"listing-cards-{width}")
        assert outside == []
    finally:
        context.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name in (f"listing-photos-{width}", f"listing-cards-{width}"):
        shutil.copy(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")
