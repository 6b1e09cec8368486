"""The national matrix: built from the cells and profiles into memory-mappable files (content
versioned, made current atomically, a second build changing nothing), mapped read-only, scored
by the territories' own engine with the same statuses, summed by département and commune, and
cut to a bounded viewport."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import grid
from core.tenancy import tenant_scope
from ingest.reference.national import (
    NationalMatrixError,
    build,
    code_of_id,
    current_version,
    ids_of,
)
from sites.search import national
from sites.search.engine import score
from sites.search.query import parse_query
from tests.test_search_engine import QUERY


@pytest.fixture
def built(app, ctx, cantal_profiles, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "NATIONAL_DIR", str(tmp_path))
    return build(tmp_path), tmp_path


def test_the_matrix_is_written_once_per_content_and_mapped_read_only(built):
    manifest, folder = built
    assert manifest.cells > 5000 and manifest.communes == 246 and manifest.departements == 1
    assert current_version(folder) == manifest.version
    again = build(folder)  # the same data: the same version, nothing rewritten
    assert again.version == manifest.version
    assert {p.name for p in folder.iterdir()} == {"CURRENT", manifest.version}
    described = json.loads((folder / manifest.version / "manifest.json").read_text())
    assert described["cells"] == manifest.cells and described["format"] == 1
    matrix = national.national_matrix()
    assert isinstance(matrix.values, np.memmap) and not matrix.values.flags.writeable
    assert np.all(np.diff(matrix.ids) > 0)  # sorted codes: lookups by bisection


def test_national_statuses_are_the_territory_engines(built, make_tenant):
    query = parse_query(QUERY)
    cantal = make_tenant(kind="departement", code="15")
    with tenant_scope(cantal):
        own = score(cantal, query)
    whole = national.national_search(query)
    cells = own.matrix.ids.tolist()
    where = whole.matrix.indices(cells)
    assert (where >= 0).all()  # every cell of the Cantal is in the national matrix
    assert whole.fails[where].tolist() == own.fails.tolist()
    assert whole.counts == own.counts and whole.precise == own.precise
    assert whole.matrix.index_of(cells[0]) == where[0]
    assert ids_of(whole.matrix.ids[where[:3]]) == cells[:3]


def test_the_national_map_sums_by_departement_and_commune(built):
    result = national.national_search(parse_query(QUERY))
    (cantal,) = national.by_departement(result)
    assert cantal.code == "15" and cantal.cells == len(result.matrix)
    assert (cantal.green, cantal.orange, cantal.yellow) == (
        result.counts["green"],
        result.counts["orange"],
        result.counts["yellow"],
    )
    communes = national.by_commune(result, "15")
    held = set(np.asarray(result.matrix.mapped.communes).tolist()) - {-1}
    assert len(communes) == len(held) > 200  # every commune holding a cell, once
    assert sum(a.cells for a in communes) == len(result.matrix) - int(
        (np.asarray(result.matrix.mapped.communes) < 0).sum()
    )
    assert national.by_commune(result, "75") == []
    assert 0 <= communes[0].green_share <= 1


def test_a_viewport_shows_its_cells_and_refuses_to_be_too_wide(built):
    result = national.national_search(parse_query(QUERY))
    # Around Saint-Flour: about 10 km × 10 km.
    seen = national.viewport_cells(result, 3.03, 44.99, 3.15, 45.07)
    assert 50 < len(seen) <= 200
    ids = [cell for cell, _status in seen]
    index = result.matrix.indices(ids)
    assert [s for _c, s in seen] == result.fails[index].tolist()
    flour = grid.cell_id(3.0928, 45.0337)
    assert flour in ids
    with pytest.raises(national.ViewportTooLarge, match="zoom in"):
        national.viewport_cells(result, -5.0, 42.0, 8.0, 51.0)  # all of France


def test_bad_cell_ids_and_a_matrix_never_built_are_said(app, ctx, tmp_path, monkeypatch):
    with pytest.raises(grid.CellIdError, match="not a 1 km cell id"):
        code_of_id("N45E3")
    with pytest.raises(grid.CellIdError, match="metropolitan"):
        code_of_id("CRS2972RES1000mN540000E340000")  # Guyane's grid
    monkeypatch.setitem(app.config, "NATIONAL_DIR", str(tmp_path / "empty"))
    with pytest.raises(NationalMatrixError, match="flask geo build-national"):
        national.national_matrix()


def test_the_same_search_again_is_answered_from_the_recent_ones(built, monkeypatch):
    monkeypatch.setattr(national, "RECENT_SEARCHES", 2)
    national._recent.clear()
    query = parse_query(QUERY)
    first = national.national_search(query)
    assert national.national_search(parse_query(QUERY)) is first  # the map's next zoom
    other = parse_query({"criteria": [{"id": "gp_km", "threshold": 3, "importance": "must"}]})
    assert national.national_search(other) is not first
    third = parse_query({"criteria": [{"id": "gp_km", "threshold": 4, "importance": "must"}]})
    national.national_search(third)  # two kept: the oldest goes
    assert national.national_search(query) is not first
    national._recent.clear()
