"""After "Rechercher" the answer comes into view, on a 390 px phone and on a desktop: the
summary (a live region) is on the screen with its advice, the results heading has the focus, and
the cell panel writes its values in French."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import ARTIFACTS
from tests.search_helpers import cell_at, graded_profiles, searched_land
from tests.support import host

E0, N0 = 3_112_000, 2_465_000
NBSP = "\u00a0"


def cell(c: int, r: int) -> str:
    return cell_at(E0, N0, c, r)


CELLS = [cell(c, r) for r in range(3) for c in range(4)]
PROFILES = graded_profiles(E0, N0)


@pytest.fixture
def land(app, make_tenant):
    with searched_land(app, make_tenant(name="Margeride"), PROFILES, "0f") as ref:
        yield ref


#: True once the page has not scrolled for ten frames (a smooth scroll has settled).
SETTLED = """() => new Promise((done) => {
  const y = window.scrollY;
  let frames = 0;
  const next = () => {
    if (window.scrollY !== y) return done(false);
    if (++frames === 10) return done(true);
    requestAnimationFrame(next);
  };
  requestAnimationFrame(next);
})"""


def search_and_look(browser, site: str, viewport: dict, name: str, **options) -> None:
    context = browser.new_context(viewport=viewport, locale="fr-FR", **options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site + "/recherche")
        expect(page.locator("#search-map")).to_have_attribute("data-cell-count", str(len(CELLS)))
        page.get_by_label("Médecin généraliste le plus proche", exact=True).check()
        page.locator("#t-gp_km").fill("0.5")
        summary = page.locator("#search-summary")
        if viewport["width"] < 600:
            expect(summary).not_to_be_in_viewport()  # below the whole form on a phone
        page.locator("#search-form").get_by_role("button", name="Rechercher").click()
        expect(summary).to_contain_text("Aucun carreau ne remplit tous vos critères")
        expect(summary).to_contain_text(f"au plus 1{NBSP}km")
        expect(summary).to_be_in_viewport(ratio=1)  # all of it, advice included
        expect(page.locator("#results-title")).to_be_focused()
        assert summary.get_attribute("aria-live") == "polite"
        page.wait_for_function(SETTLED)
        expect(summary).to_be_in_viewport(ratio=1)
        page.screenshot(path=str(ARTIFACTS / f"{name}-after-search.png"))

        page.locator("button[data-open-cell]").first.click()
        panel = page.locator("#cell-panel")
        expect(panel).to_contain_text(f"1,0{NBSP}km")
        expect(panel).to_contain_text(f"0,5{NBSP}km")
        page.screenshot(path=str(ARTIFACTS / f"{name}-panel.png"))
        assert errors == []
    finally:
        context.close()


def test_the_answer_comes_into_view_on_a_phone(land, live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    site = f"http://{host(land)}:{live_server}"
    phone = {"width": 390, "height": 844}
    search_and_look(browser, site, phone, "results-phone", is_mobile=True, has_touch=True)


def test_the_answer_is_in_view_on_a_desktop(land, live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    site = f"http://{host(land)}:{live_server}"
    search_and_look(browser, site, {"width": 1280, "height": 900}, "results-desktop")
