"""The search page's answer as a French reader gets it without script: the summary's advice
(relax, with a link that applies it; tighten), the table's value columns and the panel's values
written in French with their units, compared as written.

Twelve hand-made cells (4 × 3) in a corner of the grid no other test uses; the GP lies
1.04 km + c + r km away (shown 1,0 km, 2,0 km…), the pharmacy 2c km.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.search_helpers import cell_at, graded_profiles, searched_land

E0, N0 = 3_108_000, 2_460_000
NBSP = "\u00a0"


def cell(c: int, r: int) -> str:
    return cell_at(E0, N0, c, r)


CELLS = [cell(c, r) for r in range(3) for c in range(4)]
PROFILES = graded_profiles(E0, N0)


@pytest.fixture
def land(app, make_tenant):
    with searched_land(app, make_tenant(name="Planèze"), PROFILES, "0e") as ref:
        yield ref


def page(visitor, ref, query: str) -> str:
    response = visitor(ref).get("/recherche?" + query)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def summary_of(html: str) -> str:
    found = re.search(r'<div id="search-summary".*?</div>\s*<figure', html, re.S)
    assert found, "no summary"
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def test_nothing_green_says_which_must_have_to_relax_and_links_to_it(land, visitor):
    query = "c=gp_km&gp_km=0.5&gp_km_i=must&c=pharmacy_km&pharmacy_km=10&pharmacy_km_i=must"
    html = page(visitor, land, query)
    summary = summary_of(html)
    assert "0 carreau vert" in summary and "12 carreaux orange" in summary
    assert "Aucun carreau ne remplit tous vos critères indispensables." in summary
    assert (
        f"« Médecin généraliste le plus proche » (au plus 0,5{NBSP}km) est celui qui en écarte"
        " le plus : 12 carreaux ne le remplissent pas." in summary
    )
    # the nearest GP is shown 1,0 km: at most 1 km turns that one cell green
    assert (
        f"1 carreau serait vert avec « Médecin généraliste le plus proche » au plus 1{NBSP}km."
        in summary
    )
    link = re.search(r'<a class="advice-apply" href="([^"]+)">([^<]+)</a>', html)
    assert link.group(2) == f"Rechercher avec au plus 1{NBSP}km"
    assert "gp_km=1&" in link.group(1) and "pharmacy_km=10" in link.group(1)
    assert link.group(1).endswith("#results-title")

    # Following it: one green cell, its GP written "1,0 km" and met against "1 km".
    applied = page(visitor, land, link.group(1).split("?", 1)[1].split("#")[0])
    assert "1 carreau vert" in summary_of(applied)
    first = re.search(r'<tr class="row-g" data-cell="([^"]+)">(.*?)</tr>', applied, re.S)
    assert first.group(1) == cell(0, 0)
    assert f"1,0{NBSP}km" in first.group(2) and "✓" in first.group(2) and "✗" not in first.group(2)


def test_everything_green_suggests_tightening(land, visitor):
    html = page(visitor, land, "c=gp_km&gp_km=50&gp_km_i=must")
    summary = summary_of(html)
    assert "12 carreaux verts" in summary
    assert "Tous les carreaux remplissent vos critères indispensables." in summary
    # the median GP is 3,5 km: at most 3 km keeps 1 + 2 + 3 cells
    assert (
        f"Pour les départager : « Médecin généraliste le plus proche » au plus 3{NBSP}km en"
        " garderait 6 sur 12." in summary
    )
    assert "gp_km=3&" in re.search(r'class="advice-apply" href="([^"]+)"', html).group(1)
    nothing = summary_of(page(visitor, land, "c=pharmacy_km&pharmacy_km=10&pharmacy_km_i=nice"))
    assert "Sans critère indispensable, tous les carreaux sont verts." in nothing


def test_table_shows_the_telling_values_in_french_best_first(land, visitor):
    query = "c=gp_km&gp_km=3&gp_km_i=must&c=pharmacy_km&pharmacy_km=3&pharmacy_km_i=nice"
    html = page(visitor, land, query)
    heads = re.findall(r'<th scope="col" class="value-col">(.*?)</th>', html, re.S)
    heads = [re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", h)).strip() for h in heads]
    # both split the cells in half; the pharmacy's values spread more (0 to 6 km for 3 asked)
    assert heads == [
        f"Pharmacie la plus proche au plus 3{NBSP}km · souhaité",
        f"Médecin généraliste le plus proche au plus 3{NBSP}km",
    ]
    values = re.findall(r'<td class="value (ok|ko)">.*?</span> ([^<]*)<', html, re.S)
    assert len(values) == 2 * len(CELLS)
    for _status, written in values:
        assert re.fullmatch(rf"\d+,\d{NBSP}km", written), written  # French decimals, a unit
    rows = re.findall(r'<tr class="row-([goy])" data-cell="([^"]+)"', html)
    assert [s for s, _ in rows] == sorted((s for s, _ in rows), key="goy".index)
    # green cells by score: the pharmacy within 3 km first (c0, then c1 at 2 km)
    assert rows[0][1] == cell(0, 0)
    assert "indispensables manquants" not in html  # every must-have has its own column
    four = "".join(f"&c={c}&{c}=9&{c}_i=must" for c in ("dentist_km", "bakery_km", "post_km"))
    html = page(visitor, land, query + four)
    assert len(re.findall(r'class="value-col"', html)) == 3
    assert "Autres critères indispensables manquants" in html  # the must-haves left out
    assert "(demandé au plus 9 km)" in html


def test_panel_without_script_writes_values_in_french(land, visitor):
    query = "c=gp_km&gp_km=1&gp_km_i=must&cell=" + cell(0, 0)
    html = page(visitor, land, query)
    panel = re.search(r'<aside id="cell-panel".*?</aside>', html, re.S).group(0)
    assert f"<td>1,0{NBSP}km</td>" in panel and f"<td>1{NBSP}km</td>" in panel
    assert "✓" in panel and "non rempli" not in panel


def test_relaxing_an_at_least_to_zero_offers_the_search_without_it(land, visitor):
    # no job offer anywhere: "at least 1" rules out every cell; at least 0 is no criterion at all
    html = page(visitor, land, "c=jobs_count&jobs_count=1&jobs_count_i=must&c=gp_km&gp_km=50")
    summary = summary_of(html)
    assert "12 carreaux seraient verts sans « Offres d'emploi du territoire »." in summary
    link = re.search(r'<a class="advice-apply" href="([^"]+)">([^<]+)</a>', html)
    assert link.group(2) == "Rechercher sans ce critère"
    assert "jobs_count" not in link.group(1) and "gp_km=50" in link.group(1)
