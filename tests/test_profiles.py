"""National cells, cell profiles and synthetic data, on a tiny territory with known answers.

The territory lies in the Bay of Biscay (no real commune or POI within 150 km), built in
EPSG:3035 so that every expected value can be worked out by hand from the cell centres.
Communes (x and y in metres from the corner E0, N0; all span y 100 → 2 900):
  A 99001 x 100 → 2 400    B 99002 x 2 400 → 5 400    C 98001 x 5 400 → 7 600 (another département)
Cell (c, r) is the square [c, c+1] × [r, r+1] km from the corner; its centre is (c+.5, r+.5) km.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import insert, text

from core import grid
from core.extensions import db
from ingest.reference.cells import build_cells, covering_pairs, to_grid
from ingest.reference.models import CellPopulation, Commune, Poi, PropertySale
from ingest.reference.profiles import build_profiles
from ingest.reference.synth import EQUIPMENT, synth

E0, N0 = 3_100_000, 2_600_000
A, B, C = "99001", "99002", "98001"
TEST_IDS = grid.format_ids(
    *[a.ravel() for a in np.meshgrid(N0 + 1000 * np.arange(-2, 6), E0 + 1000 * np.arange(-2, 11))]
).tolist()


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = grid.project([E0 + x], [N0 + y], 3035, 4326)
    return float(lon[0]), float(lat[0])


def ewkt_point(x: float, y: float) -> str:
    lon, lat = lonlat(x, y)
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def rectangle(x0, y0, x1, y1) -> str:
    ring = [lonlat(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return "SRID=4326;MULTIPOLYGON(((" + ", ".join(f"{a!r} {b!r}" for a, b in ring) + ")))"


def cell(c: int, r: int) -> str:
    return grid.format_ids([N0 + 1000 * r], [E0 + 1000 * c]).tolist()[0]


def centre(c: int, r: int) -> tuple[float, float]:
    return 1000 * c + 500, 1000 * r + 500


def km(c: int, r: int, x: float, y: float) -> float:
    cx, cy = centre(c, r)
    return math.hypot(x - cx, y - cy) / 1000


def wipe_territory() -> None:
    db.session.rollback()
    params = {"ids": TEST_IDS, "communes": [A, B, C]}
    db.session.execute(text("DELETE FROM cell_profiles WHERE cell_id = ANY(:ids)"), params)
    db.session.execute(text("DELETE FROM cell_population WHERE cell_id = ANY(:ids)"), params)
    db.session.execute(text("DELETE FROM property_sales WHERE cell_id = ANY(:ids)"), params)
    db.session.execute(text("DELETE FROM pois WHERE cell_id = ANY(:ids)"), params)
    db.session.execute(
        text("DELETE FROM cells WHERE id = ANY(:ids) OR commune_insee = ANY(:communes)"), params
    )
    db.session.execute(text("DELETE FROM communes WHERE insee = ANY(:communes)"), params)
    db.session.commit()


@pytest.fixture(scope="module", autouse=True)
def _closed_pool(app):
    """Close the pooled connections at the end: left open, they fail the run (ResourceWarning)."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def territory(ctx):
    wipe_territory()
    db.session.execute(
        insert(Commune),
        [
            {
                "insee": A,
                "name": "Test A",
                "population": 3000,
                "departement": "99",
                "geom": rectangle(100, 100, 2400, 2900),
            },
            {
                "insee": B,
                "name": "Test B",
                "population": 12000,
                "departement": "99",
                "geom": rectangle(2400, 100, 5400, 2900),
            },
            {
                "insee": C,
                "name": "Test C",
                "population": 500,
                "departement": "98",
                "geom": rectangle(5400, 100, 7600, 2900),
            },
        ],
    )
    db.session.commit()
    yield ctx
    wipe_territory()


def add_pois(*pois) -> None:
    rows = []
    for i, (source, code, x, y) in enumerate(pois):
        lon, lat = lonlat(x, y)
        rows.append(
            {
                "source": source,
                "source_id": f"test-{i}",
                "type_code": code,
                "geom": ewkt_point(x, y),
                "cell_id": grid.cell_id(lon, lat),
            }
        )
    db.session.execute(insert(Poi), rows)


def add_sales(*sales) -> None:
    rows = []
    for i, (kind, per_m2, x, y) in enumerate(sales):
        lon, lat = lonlat(x, y)
        rows.append(
            {
                "source": "dvf",
                "source_id": f"test-{i}",
                "sold_on": date(2025, 1, 1),
                "property_type": kind,
                "price_eur": per_m2 * 100,
                "built_area_m2": 100.0,
                "geom": ewkt_point(x, y),
                "cell_id": grid.cell_id(lon, lat),
            }
        )
    db.session.execute(insert(PropertySale), rows)


def population(c, r, source="filosofi", **values) -> dict:
    row = dict.fromkeys(
        ("ind", "men", "men_pauv", "ind_snv", "log_soc", "ind_0_17", "ind_18_64", "ind_65p"), 0.0
    )
    row.update(values, cell_id=cell(c, r), source=source)
    return row


def profiles() -> dict[str, dict]:
    rows = db.session.execute(
        text("SELECT * FROM cell_profiles WHERE cell_id = ANY(:ids)"), {"ids": TEST_IDS}
    )
    return {r.cell_id: r._asdict() for r in rows}


# --- cells ------------------------------------------------------------------------------------


def test_covering_pairs_equal_grid_covering():
    rng = np.random.default_rng(3)
    shapes = []
    for _ in range(40):
        lon, lat = rng.uniform(-4, 7), rng.uniform(43, 50)
        blob = shapely.Point(lon, lat).buffer(rng.uniform(0.005, 0.08), quad_segs=4)
        shapes.append(shapely.affinity.scale(blob, rng.uniform(0.3, 1.5), 1.0))
    shapes.append(shapely.Polygon())  # an empty geometry covers nothing
    projected = to_grid(np.array(shapes, dtype=object), 4326, 3035)
    which, north, east = covering_pairs(projected, chunk=7)
    ids = grid.format_ids(north, east)
    for i, shape in enumerate(shapes):
        assert sorted(ids[which == i].tolist()) == sorted(grid.covering(shape)), i


def test_build_cells_places_each_cell_in_the_commune_holding_its_centre(territory):
    assert build_cells("99") == 18  # columns 0-5 touch A or B, three rows
    rows = db.session.execute(
        text("SELECT id, epsg, northing, easting, commune_insee FROM cells WHERE id = ANY(:ids)"),
        {"ids": TEST_IDS},
    ).all()
    got = {r.id: r.commune_insee for r in rows}
    # column 2 is shared by A and B, its centre (x 2 500) is in B; column 5's centre is in C,
    # a commune of another département
    expected = {cell(c, r): [A, A, B, B, B, C][c] for c in range(6) for r in range(3)}
    assert got == expected
    assert {(r.epsg, r.northing, r.easting) for r in rows} == {
        (3035, N0 + 1000 * r, E0 + 1000 * c) for c in range(6) for r in range(3)
    }
    # the neighbouring département's build adds its own cells and keeps the shared column
    assert build_cells("98") == 9  # columns 5 to 7
    assert build_cells("99") == 18  # idempotent
    got = dict(
        db.session.execute(
            text("SELECT id, commune_insee FROM cells WHERE id = ANY(:ids)"), {"ids": TEST_IDS}
        ).all()
    )
    assert len(got) == 24 and got[cell(5, 0)] == C and got[cell(7, 2)] == C


# --- profiles ---------------------------------------------------------------------------------


@pytest.fixture
def loaded(territory):
    add_pois(
        ("synth", "D307", 3700, 1200),  # pharmacies
        ("osm", "osm:amenity=pharmacy", 300, 2800),
        ("bpe", "F113", 5400, 500),  # sports
        ("osm", "osm:leisure=pitch", 500, 5400),
        ("bpe", "F101", 2000, 2000),
        ("bpe", "F121", 5600, 500),
        ("bpe", "F201", 600, 600),  # leisure, not sport
    )
    add_sales(
        *[("house", v, 1100 + 150 * i, 1500) for i, v in enumerate([2000, 1000, 3000, 2100, 2500])],
        ("house", 3000, 400, 400),  # cell (0, 0), commune A
        ("house", 5000, 3500, 1500),  # cell (3, 1), commune B
    )
    db.session.execute(
        insert(CellPopulation),
        [
            population(
                0,
                0,
                ind=250,
                men=100,
                men_pauv=15,
                ind_snv=5_000_000,
                log_soc=8,
                ind_0_17=50,
                ind_18_64=150,
                ind_65p=50,
            ),
            population(1, 0),  # nobody: the shares have no denominator
            population(4, 0, source="synth", ind=10, men=4, men_pauv=1),
        ],
    )
    db.session.commit()
    return territory


def test_build_profiles_hand_computed(loaded):
    build_cells("99")
    assert build_profiles("99") == 15  # column 5 belongs to C, of département 98
    got = profiles()
    assert set(got) == {cell(c, r) for c in range(5) for r in range(3)}
    assert {p["departement"] for p in got.values()} == {"99"}

    p00, p40, p11, p42 = got[cell(0, 0)], got[cell(4, 0)], got[cell(1, 1)], got[cell(4, 2)]
    # nearest: the osm pharmacy for (0, 0), the synthetic one for (4, 0)
    assert p00["pharmacy_km"] == pytest.approx(math.hypot(200, 2300) / 1000, abs=1e-6)
    assert p00["pharmacy_km"] == pytest.approx(km(0, 0, 300, 2800), abs=1e-6)
    assert p40["pharmacy_km"] == pytest.approx(math.hypot(800, 700) / 1000, abs=1e-6)
    assert p11["pharmacy_km"] == pytest.approx(km(1, 1, 300, 2800), abs=1e-6)
    assert p00["emergency_km"] is None  # no such point anywhere
    # within 5 km: (0, 0) reaches F113 at 4.9 km and the pitch at 4.9 km, not F121 at 5.1 km
    assert p00["sport_count"] == 3
    assert p40["sport_count"] == 3  # F113, F101, F121; the pitch is 6.3 km away
    assert p42["sport_count"] == 4
    assert p00["leisure_count"] == 1 and p42["leisure_count"] == 1  # 0.14 and 4.34 km
    assert p00["culture_count"] == 0
    # prices: (1, 1) has five sales; (0, 0) one, so commune A's six; B has one sale only,
    # so its cells take the département's seven
    assert p11["house_price_m2"] == pytest.approx(2100)
    assert p00["house_price_m2"] == pytest.approx((2100 + 2500) / 2)
    assert got[cell(0, 2)]["house_price_m2"] == pytest.approx(2300)
    assert got[cell(3, 1)]["house_price_m2"] == pytest.approx(2500)
    assert got[cell(2, 0)]["house_price_m2"] == pytest.approx(2500)  # centre in B
    assert p00["flat_price_m2"] is None
    # population
    assert p00["density"] == 250
    assert p00["poverty_share"] == pytest.approx(15.0)
    assert p00["living_standard"] == pytest.approx(20_000)
    assert p00["social_housing_share"] == pytest.approx(8.0)
    assert p00["under_18_share"] == pytest.approx(20.0)
    assert p00["over_65_share"] == pytest.approx(20.0)
    p10, p20 = got[cell(1, 0)], got[cell(2, 0)]
    assert p10["density"] == 0 and p10["poverty_share"] is None  # zero households
    assert p20["density"] == 0 and p20["poverty_share"] is None  # no data at all
    assert p40["poverty_share"] == pytest.approx(25.0)
    # synthetic: (4, 0) reaches the synthetic pharmacy first and has synthetic population
    assert p40["synthetic"] is True
    assert p00["synthetic"] is False and p11["synthetic"] is False


def test_build_profiles_replaces_its_rows_and_sees_across_the_border(loaded):
    build_cells("99")
    build_cells("98")
    build_profiles("99")
    assert build_profiles("99") == 15
    assert build_profiles("98") == 9  # columns 5 to 7
    got = profiles()
    assert len(got) == 24
    assert got[cell(5, 0)]["departement"] == "98"
    # a pharmacy of département 99 serves a cell of 98
    assert got[cell(7, 0)]["pharmacy_km"] == pytest.approx(km(7, 0, 3700, 1200), abs=1e-6)
    # département 98 has no sale: its own median, then nothing
    assert got[cell(7, 0)]["house_price_m2"] is None


def test_a_cell_without_any_point_of_a_kind_gets_null_and_zero_counts(territory):
    build_cells("99")
    assert build_profiles("99") == 15
    row = profiles()[cell(0, 0)]
    assert row["pharmacy_km"] is None and row["sport_count"] == 0
    assert row["density"] == 0 and row["poverty_share"] is None
    assert row["house_price_m2"] is None and row["synthetic"] is False


# --- synthetic data ---------------------------------------------------------------------------


def synth_rows() -> dict[str, list]:
    params = {"ids": TEST_IDS}
    return {
        "pois": db.session.execute(
            text(
                "SELECT source_id, type_code, name, ST_AsText(geom), cell_id, commune_insee "
                "FROM pois WHERE source = 'synth' AND cell_id = ANY(:ids) ORDER BY source_id"
            ),
            params,
        ).all(),
        "property_sales": db.session.execute(
            text(
                "SELECT source_id, sold_on, property_type, price_eur, built_area_m2, "
                "ST_AsText(geom), cell_id FROM property_sales "
                "WHERE source = 'synth' AND cell_id = ANY(:ids) ORDER BY source_id"
            ),
            params,
        ).all(),
        "cell_population": db.session.execute(
            text(
                "SELECT * FROM cell_population WHERE source = 'synth' AND cell_id = ANY(:ids) "
                "ORDER BY cell_id"
            ),
            params,
        ).all(),
    }


def test_synth_is_deterministic_and_replaces_its_rows(territory):
    add_pois(("bpe", "D307", 1000, 1000))
    db.session.execute(insert(CellPopulation), [population(1, 1, ind=77, men=30, ind_18_64=77)])
    db.session.commit()

    counts = synth(["99"], seed=7)
    first = synth_rows()
    assert counts == {table: len(rows) for table, rows in first.items()}
    assert counts["pois"] > 50 and counts["property_sales"] > 100
    assert synth(["99"], seed=7) == counts
    assert synth_rows() == first  # same rows, not twice as many
    other = synth(["99"], seed=8)
    assert synth_rows()["pois"] != first["pois"] and other["pois"] > 50

    # real rows are never touched
    bpe = db.session.execute(
        text("SELECT count(*) FROM pois WHERE source = 'bpe' AND cell_id = ANY(:ids)"),
        {"ids": TEST_IDS},
    ).scalar()
    assert bpe == 1
    real = db.session.execute(
        text("SELECT source, ind FROM cell_population WHERE cell_id = :c"), {"c": cell(1, 1)}
    ).one()
    assert tuple(real) == ("filosofi", 77)


def test_synth_places_everything_in_its_communes(territory):
    synth(["99"], seed=1)
    build_cells("99")
    rows = synth_rows()
    pois, sales, people = rows["pois"], rows["property_sales"], rows["cell_population"]
    assert {p.commune_insee for p in pois} == {A, B}  # C is of département 98
    assert {p.type_code for p in pois} <= set(EQUIPMENT)
    assert all(p.name.startswith("[synthétique]") for p in pois)
    inside = db.session.execute(
        text(
            "SELECT bool_and(ST_Contains(m.geom, p.geom)) FROM pois p "
            "JOIN communes m ON m.insee = p.commune_insee WHERE p.source = 'synth' "
            "AND p.cell_id = ANY(:ids)"
        ),
        {"ids": TEST_IDS},
    ).scalar()
    assert inside is True
    commune_cells = {cell(c, r) for c in range(6) for r in range(3)}  # cells touching A or B
    for wkt, cell_id in [(p[3], p.cell_id) for p in pois] + [(s[5], s.cell_id) for s in sales]:
        point = shapely.from_wkt(wkt)
        assert cell_id == grid.cell_id(point.x, point.y)
        assert cell_id in commune_cells
    # sales: plausible prices, the last two years
    for sale in sales:
        assert sale.property_type in {"house", "flat"}
        assert 300 <= float(sale.price_eur) / sale.built_area_m2 <= 12_000
        assert date.today() - timedelta(days=731) <= sale.sold_on <= date.today()
    # population: the communes' 15 000 people over their cells, coherent rows
    assert {p.cell_id for p in people} <= commune_cells
    assert sum(p.ind for p in people) == pytest.approx(15_000, rel=0.01)
    for p in people:
        assert p.ind_0_17 + p.ind_18_64 + p.ind_65p == pytest.approx(p.ind, abs=0.02)
        assert 0.1 - 1e-6 <= p.men_pauv / p.men <= 0.2 + 1e-6
        assert p.ind / p.men == pytest.approx(2.2, rel=0.2)
        assert p.ind_snv / p.ind == pytest.approx(21_000, rel=0.6)


def test_synth_needs_a_place(ctx):
    with pytest.raises(ValueError):
        synth()
