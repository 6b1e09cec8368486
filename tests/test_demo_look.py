"""The demo as a resident reads it: titles that are French sentences, numbers with their
thousands separators, one wording of km, years as years, maps in metres and framed on what they
show."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core import grid
from core.extensions import db
from core.maps import local_map, map_parts
from core.tenancy import tenant_scope
from core.themes import render_site
from ingest.listings.service import save
from sites.demo import seed_home_texts
from sites.listings.placemaps import cell_map
from sites.search.values import km, measure
from tests.listing_page_helpers import BASE

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def french(app):
    # On the console's host: a host the application serves, so that URLs can be built.
    with app.test_request_context("/", base_url=f"http://admin.{app.config['BASE_DOMAIN']}"):
        yield


def test_a_grouping_demo_title_is_not_vivre_a_its_name(app, make_tenant, visitor):
    umbrella = make_tenant(
        slug="pvd_cantal", kind="umbrella", name="Petites villes de demain du Cantal"
    )
    town = make_tenant(slug="murat", name="Murat")
    with app.app_context():
        assert seed_home_texts(echo=lambda _line: None) == 2
    grouping = visitor(umbrella).get("/").get_data(as_text=True)
    title = re.sub(r"<[^>]+>", "", re.search(r'<h1 id="hero-title">(.*?)</h1>', grouping, re.S)[1])
    assert title.strip() == "Vivre dans une petite ville du Cantal"
    # A commune's title is the page's own sentence, in the reader's language.
    commune = visitor(town).get("/").get_data(as_text=True)
    assert '<h1 id="hero-title">Vivre à Murat</h1>' in commune


def test_km_are_worded_once_as_the_search_words_them(french):
    assert km(2) == f"2,0{NBSP}km"
    assert km(12.345) == f"12,3{NBSP}km"
    assert km(None) == ""
    assert measure("inh./km²", 1234.4) == f"1{NNBSP}234{NBSP}habitants/km²"  # never "inh./km²"
    assert measure("count", 1540) == f"1{NNBSP}540"


def test_count_sentences_carry_thousands_separators(french):
    summary = render_site(
        "search/_summary.html",
        problem=None,
        counts={"green": 1540, "orange": 12000, "yellow": 1},
        advice=None,
        precise=True,
        form=None,
    )
    assert f"1{NNBSP}540 carreaux verts" in summary
    assert f"12{NNBSP}000 carreaux orange" in summary
    assert "1 carreau jaune" in summary
    assert "1540" not in summary and "12000" not in summary


def test_a_listing_shows_its_year_as_a_year_and_its_price_once(app, cantal, make_tenant, visitor):
    town = make_tenant(name="Saint-Flour")
    item = BASE | {"external_id": "OLD-HOUSE", "status": "published", "year_built": 1890}
    with app.app_context(), tenant_scope(town):
        saved = save("real_estate", [item | {"price": Decimal("149000")}], source="api")
        assert saved.errors == {}
        db.session.commit()
    page = visitor(town).get("/annonces/real_estate/OLD-HOUSE").get_data(as_text=True)
    assert re.search(r"<dt>Année de construction</dt>\s*<dd>1890</dd>", page)
    # The price says its unit: its title does not repeat it ("Prix (€)").
    assert re.search(r"<dt>Prix</dt>\s*<dd>149\u202f000\xa0€</dd>", page)
    assert "Prix (€)" not in page


def test_map_scales_are_metric_only(french):
    script = str(
        map_parts(local_map(location=[45.0, 3.0], zoom_start=8, control_scale=True)).script
    )
    assert "L.control.scale({imperial: false})" in script
    assert script.count("L.control.scale(") == 1  # not folium's own (miles and feet)
    plain = str(map_parts(local_map(location=[45.0, 3.0], zoom_start=8)).script)
    assert "L.control.scale(" not in plain


def test_a_cell_map_is_centred_on_the_cell_not_the_point(french):
    lon, lat = 3.0928, 45.0337  # near a cell's edge or not, the whole square must be framed
    cell = grid.cell_id(lon, lat)
    corners = grid.polygon(cell, 4326)[:-1]
    centre_lon = sum(x for x, _y in corners) / 4
    centre_lat = sum(y for _x, y in corners) / 4
    script = str(cell_map(lon, lat, cell).script)
    found = re.search(r'"?center"?:\s*\[([-0-9.]+),\s*([-0-9.]+)\]', script)
    assert found, script[:400]
    assert float(found.group(1)) == pytest.approx(centre_lat, abs=1e-6)
    assert float(found.group(2)) == pytest.approx(centre_lon, abs=1e-6)
