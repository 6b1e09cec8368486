"""In Chromium, desktop and phone: each kind's listing page in words, and writing to an
advertiser through the form (the mail reaches the test SMTP server); axe-core on the page."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.support import ARTIFACTS, axe_violations, shot
from tests.support import host
from tests.test_listing_labels import seeded  # noqa: F401 - the fixture: every kind, coded

PAGES = {
    "real_estate": "RENT",
    "job": "EMPLOI-2026-0102",
    "business": "REPRISE-2026-0008",
    "leisure": "LOISIR-2026-0032",
    "poi": "LIEU-2026-0012",
}
SHOTS = ARTIFACTS / "listing_actions"  # looked at after a run; ignored by git


@pytest.fixture
def no_wait(app):
    """A browser fills the form faster than a person: the minimum fill time is off here."""
    previous = app.config["CONTACT_MIN_SECONDS"]
    app.config["CONTACT_MIN_SECONDS"] = 0
    yield
    app.config["CONTACT_MIN_SECONDS"] = previous


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_listing_pages_and_the_contact_form(
    app,
    seeded,  # noqa: F811 - the fixture imported above
    live_server,
    browser,
    smtp,
    no_wait,
    width,
    height,  # noqa: F811
):
    site = f"http://{host(seeded)}:{live_server}"
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", bypass_csp=True
    )
    page = context.new_page()
    try:
        for kind, external_id in PAGES.items():
            page.goto(f"{site}/annonces/{kind}/{external_id}")
            assert page.locator("h1").is_visible()
            shot(page, f"actions-{kind}-{width}")
        page.goto(f"{site}/annonces/real_estate/RENT")
        assert page.get_by_text("650 € / mois CC").is_visible()
        assert axe_violations(page) == []
        page.get_by_label("Votre nom").fill("Camille Martin")
        page.get_by_label("Votre adresse e-mail").fill("camille@example.org")
        page.get_by_label("Votre message").fill("")
        page.get_by_role("button", name="Envoyer mon message").click()
        assert page.get_by_text("il est vide").first.is_visible()  # said, nothing sent
        shot(page, f"actions-contact-error-{width}")
        page.get_by_label("Votre message").fill("Bonjour, est-il possible de visiter samedi ?")
        page.get_by_role("button", name="Envoyer mon message").click()
        assert page.get_by_text("Votre message a été envoyé").is_visible()
        shot(page, f"actions-contact-sent-{width}")
        [body] = smtp.deliver().bodies_to("immo@saint-flour.fr")
        assert "visiter samedi" in body and "camille@example.org" in body
    finally:
        context.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for png in ARTIFACTS.glob(f"actions-*-{width}.png"):
        shutil.copy(png, SHOTS / png.name)
