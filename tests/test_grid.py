"""The INSPIRE 1 km grid: ids, polygons, covering cells; checked against the projection's maths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from core import grid


def laea_3035(lon: float, lat: float) -> tuple[float, float]:
    """ETRS89-LAEA (EPSG:3035) forward projection on GRS80, from the EPSG guidance formulas:
    an implementation independent of PROJ to check the ids against."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = 2 * f - f * f
    e = math.sqrt(e2)
    lat0, lon0, fe, fn = math.radians(52), math.radians(10), 4321000.0, 3210000.0

    def q(phi):
        s = math.sin(phi)
        return (1 - e2) * (
            s / (1 - e2 * s * s) - (1 / (2 * e)) * math.log((1 - e * s) / (1 + e * s))
        )

    qp, q0, q1 = q(math.pi / 2), q(lat0), q(math.radians(lat))
    beta0, beta = math.asin(q0 / qp), math.asin(q1 / qp)
    rq = a * math.sqrt(qp / 2)
    d = a * (math.cos(lat0) / math.sqrt(1 - e2 * math.sin(lat0) ** 2)) / (rq * math.cos(beta0))
    lam = math.radians(lon) - lon0
    b = rq * math.sqrt(
        2
        / (1 + math.sin(beta0) * math.sin(beta) + math.cos(beta0) * math.cos(beta) * math.cos(lam))
    )
    x = fe + b * d * math.cos(beta) * math.sin(lam)
    y = fn + (b / d) * (
        math.cos(beta0) * math.sin(beta) - math.sin(beta0) * math.cos(beta) * math.cos(lam)
    )
    return x, y


PLACES = {
    "Notre-Dame de Paris": (2.3499, 48.8530),
    "Saint-Flour, place d'Armes": (3.0928, 45.0337),
    "Murat": (2.8692, 45.1101),
    "Strasbourg": (7.7521, 48.5734),
    "Brest": (-4.4861, 48.3904),
    "Ajaccio": (8.7369, 41.9192),
    "Perpignan": (2.8948, 42.6887),
}


@pytest.mark.parametrize("name", PLACES)
def test_cell_id_matches_the_projection_formulas(name):
    lon, lat = PLACES[name]
    x, y = laea_3035(lon, lat)
    expected = f"CRS3035RES1000mN{math.floor(y / 1000) * 1000}E{math.floor(x / 1000) * 1000}"
    assert grid.cell_id(lon, lat) == expected


def test_vectorised_equals_one_by_one():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-4.5, 8, 500), rng.uniform(42.5, 51, 500)
    many = grid.cell_ids(lon, lat)
    assert [grid.cell_id(a, b) for a, b in zip(lon[:50], lat[:50], strict=True)] == list(many[:50])


def test_round_trip_id_polygon_id():
    for lon, lat in PLACES.values():
        cell = grid.cell_id(lon, lat)
        ring = grid.polygon(cell, 4326)
        assert len(ring) == 5 and ring[0] == ring[-1]
        centre = Polygon(ring).centroid
        assert grid.cell_id(centre.x, centre.y) == cell
        ring_3035 = grid.polygon(cell)
        _, n, e = grid.parse(cell)
        assert ring_3035[0] == (e, n) and ring_3035[2] == (e + 1000, n + 1000)


def test_corners_belong_to_the_cell_to_their_north_east():
    assert grid.cell_id(3760000, 2888000, source=3035) == "CRS3035RES1000mN2888000E3760000"
    assert grid.cell_id(3760999.999, 2888999.999, 3035) == "CRS3035RES1000mN2888000E3760000"
    assert grid.cell_id(3761000, 2889000, source=3035) == "CRS3035RES1000mN2889000E3761000"


def test_negative_coordinates_floor_downwards():
    assert grid.cell_id(-1.5, -0.2, source=3035) == "CRS3035RES1000mN-1000E-1000"
    assert grid.cell_id(-1000, -2500, source=3035) == "CRS3035RES1000mN-3000E-1000"
    assert grid.parse("CRS3035RES1000mN-3000E-1000") == (3035, -3000, -1000)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "CRS3035RES1000mN2888000",
        "CRS3035RES200mN2888000E3760000",
        "crs3035res1000mn1e1",
        "CRS3035RES1000mN2888500E3760000",
        "CRS4326RES1000mN2888000E3760000",
        "CRS3035RES1000mN2888000E3760000 ",
        None,
        42,
    ],
)
def test_malformed_ids_are_clear_errors(bad):
    with pytest.raises(grid.CellIdError, match="cell id"):
        grid.parse(bad)


def test_overseas_la_reunion_uses_its_utm_grid():
    epsg = grid.grid_for_departement("974")
    assert epsg == 2975
    cell = grid.cell_id(55.4504, -20.8789, grid=epsg)  # Saint-Denis de La Réunion
    assert cell.startswith("CRS2975RES1000mN76")
    _, n, e = grid.parse(cell)
    x, y = grid.project([55.4504], [-20.8789], 4326, 2975)
    assert (n, e) == (math.floor(y[0] / 1000) * 1000, math.floor(x[0] / 1000) * 1000)
    centre = Polygon(grid.polygon(cell, 4326)).centroid
    assert grid.cell_id(centre.x, centre.y, grid=epsg) == cell
    assert grid.grid_for_departement("15") == 3035


def test_covering_cells():
    square = box(3760000, 2888000, 3763000, 2890000)  # 3 × 2 km, aligned on the grid
    cells = grid.covering(square, source=3035)
    assert len(cells) == 6
    assert "CRS3035RES1000mN2889000E3762000" in cells
    shifted = box(3760500, 2888500, 3761500, 2889500)  # straddles four cells
    assert len(grid.covering(shifted, source=3035)) == 4
    lon, lat = PLACES["Murat"]
    around = grid.covering(Point(lon, lat).buffer(0.001))
    assert grid.cell_id(lon, lat) in around
    assert grid.covering(Point(lon, lat).buffer(0)) == []
