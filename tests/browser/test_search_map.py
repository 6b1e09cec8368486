"""The search map in a real browser: recolouring in place, the cell panel, the table by keyboard
only, a phone-sized screen, and an axe-core accessibility check."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from core import grid
from tests.browser.support import axe_violations, cell_centre, shot
from tests.search_helpers import searched_land
from tests.support import host

E0, N0 = 3_104_000, 2_455_000


def cell(c: int, r: int) -> str:
    return grid.format_ids([N0 + 1000 * r], [E0 + 1000 * c]).tolist()[0]


CELLS = [cell(c, r) for r in range(3) for c in range(4)]
#: GP at c + r km, pharmacy at 2c km: with both within 3 km as must-haves, all three statuses.
PROFILES = {
    cell(c, r): {"gp_km": float(c + r), "pharmacy_km": 2.0 * c} for c in range(4) for r in range(3)
}
STYLE = """() => {
  const figure = document.querySelector("#search-map");
  const map = window[figure.dataset.map];
  const out = {};
  map.eachLayer((l) => { if (l.cellId) out[l.cellId] = [l.options.weight, l.options.dashArray]; });
  return out;
}"""


@pytest.fixture
def land(app, make_tenant):
    with searched_land(app, make_tenant(name="Plateau"), PROFILES, "0d") as ref:
        yield ref


def watch(page, site):
    errors, outside = [], []
    # 404s are reported by URL (the console only says "Failed to load resource").
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((site, "data:")) else None,
    )
    return errors, outside


def tab_to(page, selector: str, limit: int = 250) -> None:
    """Press Tab until the focus is on `selector` (keyboard only, as a person would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_search_recolours_the_map_and_opens_a_cell(land, live_server, browser):
    site = f"http://{host(land)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "lang", "value": "en", "url": site}])
    page = context.new_page()
    errors, outside = watch(page, site)
    try:
        page.goto(site + "/recherche")
        figure = page.locator("#search-map")
        expect(figure).to_have_attribute("data-cell-count", str(len(CELLS)))
        before = page.evaluate(STYLE)
        assert {tuple(v) for v in before.values()} == {(0.5, None)}  # no search yet: neutral
        page.evaluate("window.stillHere = true")

        page.get_by_label("Nearest GP", exact=True).check()
        page.locator("#t-gp_km").fill("3")
        page.get_by_label("Nearest pharmacy", exact=True).check()
        page.locator("#t-pharmacy_km").fill("3")
        page.locator("#search-form").get_by_role("button", name="Search").click()
        expect(figure).to_have_attribute("data-statuses", "1")
        expect(page.locator("#search-summary")).to_contain_text("green cell")
        after = page.evaluate(STYLE)
        assert page.evaluate("window.stillHere") is True  # recoloured in place, no navigation
        assert after[cell(0, 0)] == [1, None]  # green: solid, thin
        assert after[cell(3, 1)] == [1, "1 3"]  # yellow: dotted outline
        assert after[cell(2, 0)] == [3, "6 3"]  # orange: thick dashed outline
        assert "c=gp_km" in page.url and "pharmacy_km=3" in page.url
        expect(page.locator("#cell-table tr[data-cell]")).to_have_count(len(CELLS))
        shot(page, "search-map-recoloured")

        x, y = cell_centre(page, cell(0, 0))
        page.mouse.click(x, y)
        panel = page.locator("#cell-panel")
        expect(panel).to_be_visible()
        expect(page.locator("#panel-title")).to_be_focused()
        expect(panel.locator("td.ok")).to_have_count(2)
        expect(panel).to_contain_text("All must-haves met")
        expect(panel).to_contain_text("No listing of this kind")
        assert page.evaluate(STYLE)[cell(0, 0)][0] == 5  # the open cell stands out
        shot(page, "search-map-panel")
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert errors == [] and outside == []
    finally:
        context.close()


def test_table_by_keyboard_only(land, live_server, browser):
    site = f"http://{host(land)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.add_cookies([{"name": "lang", "value": "en", "url": site}])
    page = context.new_page()
    errors, _outside = watch(page, site)
    query = "c=gp_km&gp_km=3&gp_km_i=must&c=pharmacy_km&pharmacy_km=3&pharmacy_km_i=must"
    try:
        page.goto(f"{site}/recherche?{query}")
        expect(page.locator("#search-map")).to_have_attribute("data-statuses", "1")
        page.evaluate("window.stillHere = true")
        tab_to(page, "button[data-sort='-score']")
        page.keyboard.press("Enter")
        score = page.locator("th", has=page.locator("button[data-sort='score']"))
        expect(score).to_have_attribute("aria-sort", "descending")
        expect(page.locator("button[data-sort='score']")).to_be_focused()
        tab_to(page, "button[data-sort='commune']")
        page.keyboard.press("Space")
        expect(
            page.locator("th[aria-sort='ascending'] button[data-sort='-commune']")
        ).to_be_focused()
        tab_to(page, "button[data-open-cell]")
        opener = page.evaluate("document.activeElement.dataset.openCell")
        page.keyboard.press("Space")
        expect(page.locator("#panel-title")).to_be_focused()
        expect(page.locator("#cell-panel")).to_contain_text("Your criteria here")
        assert page.evaluate("window.stillHere") is True
        shot(page, "search-table-keyboard")
        page.keyboard.press("Escape")
        expect(page.locator("#cell-panel")).to_be_hidden()
        focused = page.evaluate("document.activeElement.dataset.openCell")
        assert focused == opener  # the focus is back where it was
        assert errors == []
    finally:
        context.close()


def test_phone_screen_and_accessibility(land, live_server, browser):
    site = f"http://{host(land)}:{live_server}"
    query = "c=gp_km&gp_km=3&gp_km_i=must&c=pharmacy_km&pharmacy_km=3&pharmacy_km_i=nice"
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, locale="fr-FR"
    )
    page = phone.new_page()
    try:
        page.goto(f"{site}/recherche?{query}")
        expect(page.locator("#search-map")).to_have_attribute("data-statuses", "1")
        wide = page.evaluate(
            """() => ['body', 'main', '.search-page', '.search-layout', '.search-results',
                '#cell-table', '.table-scroll', '#search-map', '.search-criteria', 'header',
                'footer', '#cell-panel']
                .map((s) => s + ':' + document.querySelector(s).scrollWidth + '/'
                     + document.querySelector(s).clientWidth)"""
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
        toggle = page.locator("#table-toggle")
        expect(toggle).to_be_visible()
        page.locator("button[data-open-cell]").first.click()
        expect(page.locator("#cell-panel")).to_be_visible()
        shot(page, "search-phone-panel")
        toggle.click()
        expect(page.locator("#cell-table")).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
    finally:
        phone.close()

    # axe-core is injected: only this context bypasses the page's CSP.
    checked = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="fr-FR"
    )
    page = checked.new_page()
    try:
        page.goto(f"{site}/recherche?{query}")
        expect(page.locator("#search-map")).to_have_attribute("data-statuses", "1")
        assert axe_violations(page) == []
        page.locator("button[data-open-cell]").first.click()
        expect(page.locator("#cell-panel td")).not_to_have_count(0)
        assert axe_violations(page) == []
    finally:
        checked.close()


SEARCHED = "/recherche?c=gp_km&gp_km=3&gp_km_i=must&c=pharmacy_km&pharmacy_km=3&pharmacy_km_i=must"
#: When the cells were coloured, stamped by the page (as bench/pages_demo.py does).
COLOURED_AT = """
window.colouredAt = null;
new MutationObserver((_, watcher) => {
  const figure = document.getElementById("search-map");
  if (figure && figure.getAttribute("data-statuses") === "1") {
    window.colouredAt = performance.now();
    watcher.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-statuses"]});
"""
TILES_ASKED = """() => performance.getEntriesByType("resource")
  .filter((e) => e.name.includes("/fond-de-carte/")).map((e) => e.startTime)"""


def asked(page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url.split('?')[0]}"))
    return requests


def test_a_searched_page_draws_its_cells_coloured_from_its_own_answer(land, live_server, browser):
    """The page carries the statuses the server searched for its table: the cells are drawn in
    them, with no search asked again, the cell layer asked once (preloaded from the head), and the
    base map's tiles asked for only once the cells are coloured."""
    site = f"http://{host(land)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors, outside = watch(page, site)
    requests = asked(page)
    page.add_init_script(COLOURED_AT)
    try:
        page.goto(site + SEARCHED)
        figure = page.locator("#search-map")
        expect(figure).to_have_attribute("data-statuses", "1")
        styles = page.evaluate(STYLE)
        assert styles[cell(0, 0)] == [1, None]  # green
        assert styles[cell(3, 1)] == [1, "1 3"]  # yellow
        assert styles[cell(2, 0)] == [3, "6 3"]  # orange
        expect(page.locator("canvas.leaflet-tile[data-features]").first).to_be_attached()
        coloured, tiles = page.evaluate("window.colouredAt"), page.evaluate(TILES_ASKED)
        assert tiles and min(tiles) >= coloured
        assert not [r for r in requests if r.startswith("POST ") and "/api/v1/search" in r]
        assert requests.count(f"GET {site}/recherche/cellules.json") == 1
        assert errors == [] and outside == []
    finally:
        context.close()


def test_a_page_made_for_other_cells_searches_again(land, live_server, browser):
    """Statuses made for another version of the cells than the layer's are not used: the map asks
    the API, and colours from its answer."""
    site = f"http://{host(land)}:{live_server}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors, outside = watch(page, site)
    requests = asked(page)

    def stale(route):
        # Fetched here: only Chromium resolves *.localhost names by itself.
        ask = urllib.request.Request(
            f"http://127.0.0.1:{live_server}{SEARCHED}",
            headers={"Host": f"{host(land)}:{live_server}"},
        )
        with urllib.request.urlopen(ask, timeout=30) as answer:  # noqa: S310 - the test's server
            body = answer.read().decode()
            headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-length"}
        version = r'("result": \{"statuses": "\w+", "version": ")'
        body, made = re.subn(version, r"\1old-", body)
        assert made == 1
        route.fulfill(status=200, headers=headers, body=body)

    page.route(site + SEARCHED, stale)
    try:
        page.goto(site + SEARCHED)
        expect(page.locator("#search-map")).to_have_attribute("data-statuses", "1")
        assert page.evaluate(STYLE)[cell(2, 0)] == [3, "6 3"]  # orange, from the API's answer
        assert f"POST {site}/api/v1/search" in requests
        assert errors == [] and outside == []
    finally:
        context.close()
