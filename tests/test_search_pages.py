"""The search page: form from the catalogue, results without script, the cell layer, saved searches.

The territory is twelve hand-made cells (4 × 3) in a corner of the grid no other test uses, with
hand-written profiles, so that statuses can be predicted.
"""

from __future__ import annotations

import gzip
import json
import re
from contextlib import contextmanager
from html import unescape

import pytest
from sqlalchemy import text

from core import grid
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.criteria import CRITERIA
from ingest.reference.territory import TerritoryCell
from sites.search import freshness, matrix, table
from sites.search.presets import PRESETS
from tests.search_helpers import searched_land
from tests.support import host

E0, N0 = 3_100_000, 2_450_000


def cell(c: int, r: int) -> str:
    return grid.format_ids([N0 + 1000 * r], [E0 + 1000 * c]).tolist()[0]


CELLS = [cell(c, r) for r in range(3) for c in range(4)]
#: GP at c + r km, pharmacy at 2 * c km: with both ≤ 3 km as must-haves, statuses vary.
PROFILES = {
    cell(c, r): {"gp_km": float(c + r), "pharmacy_km": 2.0 * c} for c in range(4) for r in range(3)
}
ARGS = "c=gp_km&gp_km=3&gp_km_i=must&c=pharmacy_km&pharmacy_km=3&pharmacy_km_i=must"
BODY = {
    "criteria": [
        {"id": "gp_km", "threshold": 3, "importance": "must"},
        {"id": "pharmacy_km", "threshold": 3, "importance": "must"},
    ]
}


@contextmanager
def bound(app, ref):
    """The territory's session for a few direct reads (requests run in contexts of their own:
    an outer application context would share `g` and the session between them)."""
    with app.app_context(), tenant_scope(ref):
        yield
        db.session.rollback()


@pytest.fixture
def land(app, make_tenant):
    with searched_land(app, make_tenant(name="Terre <Haute>"), PROFILES, "0c") as ref:
        yield ref


@pytest.fixture
def guest(land, visitor):
    """A visitor of the territory reading English (the msgids: true whatever the catalogue)."""

    def make(ref=None):
        v = visitor(ref or land)
        v.client.set_cookie("lang", "en", domain=v.host)
        return v

    return make


def statuses_by_api(app, client, ref) -> dict[str, str]:
    response = client.post(
        "/api/v1/search?format=compact", json=BODY, base_url=f"http://{host(ref)}"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    compact = response.get_json()
    with bound(app, ref):
        _version, ids = matrix.cell_order(ref)
    return dict(zip(ids, compact["statuses"], strict=True))


def table_statuses(html: str) -> dict[str, str]:
    found = re.findall(r'<tr class="row-([goy])" data-cell="([^"]+)"', html)
    return {cell_id: status for status, cell_id in found}


def panel_of(html: str) -> str:
    found = re.search(r'<aside id="cell-panel".*?</aside>', html, re.S)
    return found.group(0) if found else ""


def decode_layer(body: dict) -> list[str]:
    """Cell ids of the layer, decoded as the page's script does."""
    v, ids, n, e = body["cells"], [], 0, 0
    for i in range(body["count"]):
        n += v[8 * i]
        e += v[8 * i + 1]
        ids.append(f"CRS{body['grid']}RES1000mN{n * 1000}E{e * 1000}")
    return ids


# --- the page ------------------------------------------------------------------------------------


def test_page_lists_every_group_criterion_and_preset_without_outside_urls(land, guest):
    page = guest().get("/recherche")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for legend in (
        "Health",
        "Childhood and education",
        "Shops and services",
        "Transport",
        "Housing",
        "Jobs and economy",
        "Leisure and tourism",
        "Population",
    ):
        assert f"<legend>{legend}</legend>" in html, legend
    for criterion in CRITERIA:
        assert f'id="use-{criterion.id}"' in html
        assert unescape(criterion.label_en) in unescape(html)
    for preset in PRESETS:
        assert f'value="{preset.id}"' in html and unescape(preset.name_en) in unescape(html)
    assert "Terre &lt;Haute&gt;" in html  # the territory's name, escaped
    assert 'href="/recherche"' in html  # the site's navigation
    urls = re.findall(r'(?:src|href|action|data-[a-z-]+)="([^"]*)"', html)
    portal = "http://vivrau.localhost/"  # the platform's own national portal, linked once
    outside = [u for u in urls if re.match(r"^(https?:)?//", u) and not u.startswith(portal)]
    assert outside == [] and f'href="{portal}recherche"' in html
    # Nothing outside in the map's script either (folium's defaults use CDNs).
    assert not re.search(r"https?://(?!" + re.escape(host(land)) + "|vivrau\\.localhost/)", html)
    assert 'nonce="' in html and "search.js" in html


def test_the_form_without_script_gives_the_apis_statuses(app, land, guest, client):
    expected = statuses_by_api(app, client, land)
    assert set(expected.values()) == {"g", "o", "y"}
    html = guest().get("/recherche?" + ARGS).get_data(as_text=True)
    assert table_statuses(html) == expected
    counts = {s: list(expected.values()).count(s) for s in "goy"}
    assert f"{counts['g']} green cells" in html and f"{counts['y']} yellow cells" in html
    # Shown in the form as asked.
    assert re.search(r'id="use-gp_km" name="c" value="gp_km" checked', html)
    assert 'id="t-pharmacy_km" name="pharmacy_km" value="3"' in html


def test_table_sorts_and_pages_without_script(land, guest, monkeypatch):
    monkeypatch.setattr(table, "PAGE_SIZE", 5)
    person = guest()
    html = person.get("/recherche?" + ARGS).get_data(as_text=True)
    rows = re.findall(r'<tr class="row-([goy])"', html)
    assert rows == sorted(rows, key="goy".index) and len(rows) == 5
    assert 'aria-sort="ascending"' in html and "Page 1 of 3" in html
    last = person.get("/recherche?" + ARGS + "&sort=-status&page=3").get_data(as_text=True)
    assert 'aria-sort="descending"' in last and "Page 3 of 3" in last
    assert re.findall(r'<tr class="row-([goy])"', last)[-1] == "g"
    # The table's own form repeats the search; a sort button's value comes last and wins.
    again = person.get("/recherche?" + ARGS + "&sort=status&sort=-score").get_data(as_text=True)
    assert re.search(
        r'<th scope="col" aria-sort="descending">\s*<button[^>]*data-sort="score"', again
    )


def test_cell_panel_without_script(land, guest):
    green = cell(0, 0)
    html = panel_of(guest().get(f"/recherche?{ARGS}&cell={green}").get_data(as_text=True))
    assert 'id="panel-title"' in html
    assert html.count("✓") == 2 and "not met" not in html
    orange = cell(2, 0)  # GP at 2 km, pharmacy at 4 km
    html = panel_of(guest().get(f"/recherche?{ARGS}&cell={orange}").get_data(as_text=True))
    assert "✗" in html and "not met" in html and "4.0" in html
    # A cell of no territory: no panel, no error.
    html = guest().get(f"/recherche?{ARGS}&cell=CRS3035RES1000mN1E1").get_data(as_text=True)
    assert 'id="panel-title"' not in html


def test_presets_fill_the_form(land, guest):
    preset = PRESETS[0]
    html = guest().get(f"/recherche?preset={preset.id}").get_data(as_text=True)
    for cid, _threshold, importance in preset.criteria:
        assert re.search(rf'id="use-{cid}" name="c" value="{cid}" checked', html)
        box = "m" if importance == "must" else "n"
        assert re.search(rf'id="{box}-{cid}" name="{cid}_i" value="{importance}" checked', html)
    assert "green cell" in html  # searched at once


def test_bad_numbers_are_said_beside_their_field_and_escaped(land, guest):
    person = guest()
    html = person.get('/recherche?c=gp_km&gp_km="><script>alert(1)</script>&gp_km_i=must').get_data(
        as_text=True
    )
    assert "<script>alert(1)</script>" not in html
    assert 'aria-invalid="true"' in html and "is not a number" in html
    html = person.get("/recherche?c=gp_km&gp_km=-4&gp_km_i=must").get_data(as_text=True)
    assert re.search(r'id="e-gp_km">[^<]*negative', html)
    html = person.get("/recherche?c=gp_km&gp_km=4&gp_km_i=must&adults=0").get_data(as_text=True)
    assert "Adults" in html and 'role="alert"' in html


# --- the cell layer ------------------------------------------------------------------------------


def test_cell_layer_is_cacheable_and_in_the_engines_order(app, land, guest):
    person = guest()
    response = person.get("/recherche/cellules.json")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    body = response.get_json()
    with bound(app, land):
        version, ids = matrix.cell_order(land)
    assert body["version"] == version and etag == f'"cells-{version}"'
    assert decode_layer(body) == ids
    # Corners come back to the grid's cells (about a metre of rounding).
    first = grid.polygon(ids[0], 4326)[0]
    assert abs(body["cells"][2] / body["scale"] - first[0]) < 2e-5
    assert (
        person.get("/recherche/cellules.json", headers={"If-None-Match": etag}).status_code == 304
    )
    # Compressed as served; the compressed ETag also revalidates.
    zipped = person.get("/recherche/cellules.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.get_data())) == body
    again = person.get(
        "/recherche/cellules.json",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304
    # The cells change: a new version, a new ETag.
    with bound(app, land):
        db.session.execute(TerritoryCell.__table__.delete().where(TerritoryCell.cell_id == ids[0]))
        db.session.commit()
        freshness.cells_changed(land)
    fresh = person.get("/recherche/cellules.json", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and decode_layer(fresh.get_json()) == ids[1:]


def test_table_fragment_for_the_script(land, guest):
    html = guest().get("/recherche/tableau?" + ARGS).get_data(as_text=True)
    assert 'data-part="summary"' in html and 'data-part="table"' in html
    assert "<html" not in html and len(re.findall(r'<tr class="row-', html)) == len(CELLS)


# --- saved searches ------------------------------------------------------------------------------


def test_saved_searches(app, land, guest, make_account, make_tenant):
    email = make_account(locale="en")
    person = guest()
    person.login(email)
    page = person.get("/recherche?" + ARGS).get_data(as_text=True)
    assert 'action="/recherche/enregistrer"' in page
    query = unescape(re.search(r'id="save-query" value="([^"]*)"', page).group(1))
    saved = person.post(
        "/recherche/enregistrer",
        {"name": "Près du <médecin>", "query": query},
        csrf_from="/recherche?" + ARGS,
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/compte/recherches")
    person.post(
        "/recherche/enregistrer",
        {"name": "Seconde", "query": "c=gp_km&gp_km=8&gp_km_i=nice"},
        csrf_from="/recherche?" + ARGS,
    )
    listing = person.get("/compte/recherches").get_data(as_text=True)
    assert "Près du &lt;médecin&gt;" in listing and "<médecin>" not in listing
    assert "Seconde" in listing
    link = unescape(re.search(r'<a href="(/recherche\?[^"]+)">Près du', listing).group(1))
    reopened = person.get(link).get_data(as_text=True)
    assert table_statuses(reopened) == table_statuses(page)
    assert 'href="/compte/recherches"' in person.get("/compte/").get_data(as_text=True)
    # Saving under the same name replaces it.
    person.post(
        "/recherche/enregistrer",
        {"name": "Seconde", "query": "c=gp_km&gp_km=9&gp_km_i=must"},
        csrf_from="/recherche?" + ARGS,
    )
    with bound(app, land):
        rows = db.session.execute(
            text("SELECT name, query, id FROM saved_searches ORDER BY id")
        ).all()
    assert [r[0] for r in rows] == ["Près du <médecin>", "Seconde"]
    assert rows[1][1] == {"criteria": [{"id": "gp_km", "threshold": 9.0, "importance": "must"}]}
    ids = [r[2] for r in rows]
    assert all(f"/compte/recherches/{i}/supprimer" in listing for i in ids)

    # Someone else sees none of them and cannot delete them.
    other = guest()
    other.login(make_account(locale="en"))
    assert "Près du" not in other.get("/compte/recherches").get_data(as_text=True)
    refused = other.post(f"/compte/recherches/{ids[0]}/supprimer", csrf_from="/compte/recherches")
    assert refused.status_code == 404
    # Nor does the same person on another territory.
    elsewhere = make_tenant()
    away = guest(elsewhere)
    away.login(email)
    assert "Près du" not in away.get("/compte/recherches").get_data(as_text=True)
    assert (
        away.post(
            f"/compte/recherches/{ids[0]}/supprimer", csrf_from="/compte/recherches"
        ).status_code
        == 404
    )
    # No CSRF token, no change.
    forged = person.client.post(
        f"/compte/recherches/{ids[0]}/supprimer", base_url=person.base, data={}
    )
    assert forged.status_code == 400
    forged = person.client.post(
        "/recherche/enregistrer", base_url=person.base, data={"name": "x", "query": ARGS}
    )
    assert forged.status_code == 400
    # Deleted by its owner.
    gone = person.post(f"/compte/recherches/{ids[0]}/supprimer", csrf_from="/compte/recherches")
    assert gone.status_code == 302
    after = person.get("/compte/recherches").get_data(as_text=True)
    assert "is deleted" in after and ">Près du" not in after and ">Seconde</a>" in after


def test_saved_searches_need_an_account(land, guest):
    person = guest()
    assert person.get("/compte/recherches").status_code in (302, 401)
    html = person.get("/recherche?" + ARGS).get_data(as_text=True)
    assert "/recherche/enregistrer" not in html and "/compte/connexion" in html
