"""The resident's whole visit on the demo's communauté, in Chromium, in French, on a desktop and a
390 px phone: home → a preset → the results in view → a green cell's panel → a listing in it →
a message to its advertiser (received by the test SMTP server) → a job saved as a favourite →
the account page lists favourites of two territories. Screenshots in tests/artifacts/;
axe-core on the home, search, listing and account pages; no request leaves 127.0.0.1."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.demo import demo_rows, normed_csv
from ingest.listings.imports import submit
from ingest.listings.models import Listing
from sites.search import freshness, layer
from sites.search.engine import score
from sites.search.presets import BY_PRESET
from sites.search.query import parse_query
from tests.browser.support import ARTIFACTS, axe_violations, cell_centre
from tests.support import PASSWORD, host
from tests.test_account_everywhere import account_id, keep

SHOTS = ARTIFACTS / "resident_journey"  # looked at after a run; ignored by git
DAY = date(2026, 12, 7)


@pytest.fixture
def demo(app, cantal_profiles, make_tenant):
    """The communauté as the demo makes it: synthetic equipment, cells and profiles over the
    Cantal, its generated homes and jobs; Saint-Flour beside it. Which preset to pick and the
    green cell holding a home, as the engine answers."""
    ref = make_tenant(kind="epci", code="200066660", name="Saint-Flour Communauté")
    flour = make_tenant(name="Saint-Flour")
    with app.app_context():
        for kind in ("real_estate", "job"):
            rows = demo_rows(ref, kind, 60, today=DAY)
            db.session.rollback()  # the communes were read outside the territory
            with tenant_scope(ref):
                assert submit(kind, normed_csv(kind, rows), "f.csv", inline=True).status == "done"
                db.session.commit()
        freshness.cells_changed(ref)
        freshness.profiles_changed()
        layer.clear_cache()
        with tenant_scope(ref):
            homes = dict(
                db.session.execute(
                    select(Listing.cell_id, Listing.title).where(Listing.kind == "real_estate")
                ).all()
            )
            key, cell = _green_home(ref, homes)
            db.session.rollback()
    yield {"ref": ref, "other": flour, "preset": key, "cell": cell}


def _green_home(ref, homes) -> tuple[str, str]:
    """The first preset that makes a cell holding a home green, and that cell."""
    for key, preset in BY_PRESET.items():
        criteria = preset.as_json()["criteria"]
        green = score(ref, parse_query({"criteria": criteria})).green_cells()
        held = sorted(set(green) & set(homes))
        if held:
            return key, held[0]
    raise AssertionError("no preset makes a cell with a home green")


@pytest.fixture
def no_wait(app):
    """A browser fills the form faster than a person: the minimum fill time is off here."""
    previous = app.config["CONTACT_MIN_SECONDS"]
    app.config["CONTACT_MIN_SECONDS"] = 0
    yield
    app.config["CONTACT_MIN_SECONDS"] = previous


def look(page, name: str) -> None:
    """A screenshot of the whole page, which never scrolls sideways (seen on a listing's page
    on the phone: the energy scale ran off the screen)."""
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{name}: {wide} px wider than the screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def clean(page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    found = axe_violations(page)
    assert found == [], found


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_residents_visit(
    app, demo, make_account, live_server, browser, smtp, no_wait, width, height
):
    ref, cell = demo["ref"], demo["cell"]
    site = f"http://{host(ref)}:{live_server}"
    email = make_account()
    keep(app, demo["other"], account_id(app, email), favourites=[("F1", "Ferme de la Planèze")])
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="fr-FR",
        bypass_csp=True,  # axe-core is injected as a script
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(("http://127.0.0.1", "data:", site)) else outside.append(r.url)
        ),
    )
    tag = f"{width}"
    try:
        # Home: the presets one click away.
        page.goto(site + "/")
        expect(page.locator("h1")).to_have_text("Saint-Flour Communauté")
        look(page, f"1-home-{tag}")
        clean(page)
        name = BY_PRESET[demo["preset"]].name_fr
        page.locator(".preset-list").get_by_role("link", name=re.compile(re.escape(name))).click()

        # The results come into view, the map coloured.
        figure = page.locator("#search-map")
        expect(figure).to_have_attribute("data-statuses", "1")
        summary = page.locator("#search-summary")
        expect(summary).to_contain_text("carreau")
        expect(summary).to_be_in_viewport(ratio=1)
        expect(page.locator("#results-title")).to_be_in_viewport()
        page.screenshot(path=str(SHOTS / f"2-results-viewport-{tag}.png"))  # what a person sees
        look(page, f"2-results-{tag}")
        clean(page)

        # A green cell holding a home: zoomed to as a person would, then tapped.
        page.evaluate(
            """(id) => { const f = document.querySelector("#search-map");
                 const map = window[f.dataset.map]; let found = null;
                 map.eachLayer((l) => { if (l.cellId === id) found = l; });
                 found._map.setView(found.getBounds().getCenter(), 13, {animate: false});
                 f.scrollIntoView({block: "center"}); }""",
            cell,
        )
        x, y = cell_centre(page, cell)
        page.mouse.click(x, y)
        panel = page.locator("#cell-panel")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("Tous les critères indispensables sont remplis")
        home = panel.locator(".panel-listings a").first
        expect(home).to_be_visible()
        page.screenshot(path=str(SHOTS / f"3-cell-{tag}.png"))
        title = home.inner_text().strip()

        # Its listing, and a message to the advertiser.
        home.click()
        expect(page.locator("h1")).to_contain_text(title[:20])
        look(page, f"4-listing-{tag}")
        clean(page)
        page.get_by_label("Votre nom").fill("Camille Martin")
        page.get_by_label("Votre adresse e-mail").fill("camille@example.org")
        page.get_by_label("Votre message").fill("Bonjour, est-il possible de visiter samedi ?")
        page.get_by_role("button", name="Envoyer mon message").click()
        expect(page.get_by_text("Votre message a été envoyé")).to_be_visible()
        look(page, f"5-contact-sent-{tag}")
        inbox = smtp.deliver()
        to = {a for envelope in inbox.messages for a in envelope.rcpt_tos}
        assert any("visiter samedi" in body for a in to for body in inbox.bodies_to(a))

        # A job, saved as a favourite (logging in on the way).
        if phone:
            page.get_by_role("button", name="Menu").click()
        page.locator(".site-nav").get_by_role("link", name="Emploi", exact=True).click()
        page.locator(".card-title a").first.click()
        expect(page.locator("h1")).to_be_visible()
        job = page.locator("h1").inner_text().strip()
        page.locator(".favourite-action a").click()
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text(job)
        page.locator(".favourite-action button[type=submit]").click()
        expect(page.locator(".favourite-state")).to_be_visible()
        look(page, f"6-job-saved-{tag}")

        # The account: this territory's job and the other's farm.
        page.goto(site + "/compte/")
        expect(page.locator("h1")).to_have_text("Mon compte")
        kept = page.locator(".kept-territory")
        expect(kept).to_have_count(2)
        expect(kept.first).to_contain_text(job)
        expect(kept.nth(1)).to_contain_text("Ferme de la Planèze")
        look(page, f"7-account-{tag}")
        clean(page)
        assert errors == [] and outside == []
    finally:
        context.close()
