"""The base map in a real browser: drawn from the platform's own tiles, nothing from elsewhere."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db
from ingest.reference import basemap
from sites.search import layer
from tests.browser.support import shot
from tests.support import host

#: The tiles drawn (canvas) and how many shapes they hold, once every tile has loaded.
DRAWN = """() => {
  const tiles = [...document.querySelectorAll(".basemap canvas.leaflet-tile-loaded")];
  return tiles.map((t) => Number(t.dataset.features || 0));
}"""


@pytest.fixture
def saint_flour(app, cantal, make_tenant, redis_conn):
    ref = make_tenant(name="Saint-Flour")  # the commune 15187
    with app.app_context():
        basemap.refresh_boundaries(["15"])
    layer.clear_cache()
    yield ref
    with app.app_context():
        db.session.execute(text("DELETE FROM basemap_features"))
        db.session.commit()
    layer.clear_cache()


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_search_map_draws_the_platforms_own_base_map(
    saint_flour, live_server, browser, width, height
):
    site = f"http://{host(saint_flour)}:{live_server}"
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    page = context.new_page()
    requests, failed = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        page.goto(site + "/recherche")
        page.locator("#search-map").scroll_into_view_if_needed()
        page.wait_for_function(
            """() => {
              const tiles = document.querySelectorAll(".basemap canvas");
              return tiles.length > 0 &&
                [...tiles].every((t) => t.classList.contains("leaflet-tile-loaded"));
            }"""
        )
        drawn = page.evaluate(DRAWN)
        assert drawn and sum(drawn) > 0, drawn  # the commune's boundaries and names
        tiles = [u for u in requests if "/fond-de-carte/" in u]
        assert tiles and all(u.endswith(".mvt") for u in tiles)
        # Names are drawn in a pane over the cells (never hidden under a result), from the
        # same tiles: one request per tile for both layers.
        names = page.evaluate(
            """() => {
              const pane = document.querySelector(".leaflet-basemapNames-pane");
              const drawn = pane && pane.querySelectorAll("canvas").length;
              return pane && [getComputedStyle(pane).zIndex, drawn];
            }"""
        )
        assert names and int(names[0]) > 400 and names[1] > 0, names
        assert len(tiles) == len(set(tiles)), tiles
        # A metric scale only (no miles on a French page).
        assert "mi" not in page.locator(".leaflet-control-scale").inner_text().split()
        # Every request went to the page's own host (127.0.0.1): no CDN, no outside tiles.
        assert all(u.startswith((site + "/", "data:")) for u in requests), requests
        assert not [u for u in failed if "favicon" not in u], failed
        attribution = page.locator(".leaflet-control-attribution")
        assert "© les contributeurs d’OpenStreetMap" in attribution.inner_text()
        shot(page, f"basemap-search-{width}")
    finally:
        context.close()
