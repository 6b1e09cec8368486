"""How each method of the criteria catalogue (criteria.METHODS) computes its cells' values.

For many cells at once: nearest points and counts (KD-trees), median prices, population ratios.
"""

from __future__ import annotations

import numpy as np
import shapely

from core import grid
from ingest.reference.bulk import session_cursor, tick
from ingest.reference.criteria import Criterion, matches
from ingest.reference.models import POPULATION_VALUES, SYNTH

SIZE = grid.SIZE
#: POIs farther than this from a département's cells cannot change its nearest/count values
#: unless the nearest one found is farther still (then the search widens to WIDE_M).
MARGIN_M = 60_000.0
WIDE_M = 1_500_000.0


class CellsToProfile:
    """The cells to profile, grid by grid, with their population row (NaN when none)."""

    def __init__(self, rows: list[tuple]):
        width = 7 + len(POPULATION_VALUES)
        columns = list(zip(*rows, strict=True)) if rows else [()] * width
        self.ids = list(columns[0])
        self.epsg = np.array(columns[1], dtype="int64")
        north = np.array(columns[2], dtype="float64")
        east = np.array(columns[3], dtype="float64")
        self.x, self.y = east + SIZE / 2, north + SIZE / 2
        self.departement = list(columns[4])
        self.commune = list(columns[5])
        self.population_synthetic = np.array([s == SYNTH for s in columns[6]], dtype=bool)
        self.population = {
            name: np.array(columns[7 + i], dtype="float64")
            for i, name in enumerate(POPULATION_VALUES)
        }

    def __len__(self) -> int:
        return len(self.ids)

    def grids(self):
        """Per grid: its EPSG, the indexes of its cells, and their centres in its CRS."""
        for epsg in sorted(set(self.epsg.tolist())):
            members = np.flatnonzero(self.epsg == epsg)
            yield epsg, members, np.column_stack([self.x[members], self.y[members]])


def cells_to_profile(departement: str | None) -> CellsToProfile:
    """The cells of one département (or all of them), with their population row."""
    columns = ", ".join(f"p.{c}" for c in POPULATION_VALUES)
    where = "WHERE m.departement = %(d)s" if departement is not None else ""
    with session_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.epsg, c.northing, c.easting, m.departement, c.commune_insee,
                   p.source, {columns}
            FROM cells c
            LEFT JOIN communes m ON m.insee = c.commune_insee
            LEFT JOIN cell_population p ON p.cell_id = c.id
            {where}
            """,  # noqa: S608 - column names are constants
            {"d": departement},
        )
        return CellsToProfile(cursor.fetchall())


def _lonlat_box(epsg: int, xmin: float, ymin: float, xmax: float, ymax: float) -> tuple:
    """A lon/lat box holding a box of the grid's CRS (its edges densified, then padded)."""
    t = np.linspace(0.0, 1.0, 65)
    xs = np.concatenate(
        [xmin + (xmax - xmin) * t, np.full(65, xmax), xmin + (xmax - xmin) * t, np.full(65, xmin)]
    )
    ys = np.concatenate(
        [np.full(65, ymin), ymin + (ymax - ymin) * t, np.full(65, ymax), ymin + (ymax - ymin) * t]
    )
    lon, lat = grid.project(xs, ys, epsg, 4326)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.all():
        return (-180.0, -90.0, 180.0, 90.0)
    return (
        max(float(lon.min()) - 0.05, -180.0),
        max(float(lat.min()) - 0.05, -90.0),
        min(float(lon.max()) + 0.05, 180.0),
        min(float(lat.max()) + 0.05, 90.0),
    )


class _Points:
    """Matching POIs of a region, projected to one grid, grouped by (type code, synthetic)."""

    def __init__(self, epsg: int, box: tuple[float, float, float, float], codes: list[str]):
        self.groups: dict[tuple[str, bool], np.ndarray] = {}
        if not codes:
            return
        xmin, ymin, xmax, ymax = box
        lonlat = _lonlat_box(epsg, *box)
        with session_cursor() as cursor:
            cursor.execute(
                """
                SELECT type_code, source = %(synth)s, ST_AsBinary(ST_Collect(geom))
                FROM pois
                WHERE type_code = ANY(%(codes)s)
                  AND geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
                GROUP BY 1, 2
                """,
                {
                    "synth": SYNTH,
                    "codes": codes,
                    "x0": lonlat[0],
                    "y0": lonlat[1],
                    "x1": lonlat[2],
                    "y1": lonlat[3],
                },
            )
            found = cursor.fetchall()
        for code, synthetic, collected in found:
            xy = shapely.get_coordinates(shapely.from_wkb(bytes(collected)))
            x, y = grid.project(xy[:, 0], xy[:, 1], 4326, epsg)
            inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
            self.groups[(code, bool(synthetic))] = np.column_stack([x[inside], y[inside]])

    def of(self, criterion: Criterion) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates and synthetic flags of the points that count for `criterion`."""
        chosen = [(k, v) for k, v in sorted(self.groups.items()) if matches(criterion, k[0])]
        if not chosen:
            return np.empty((0, 2)), np.empty(0, dtype=bool)
        xy = np.concatenate([v for _, v in chosen])
        flags = np.concatenate([np.full(len(v), k[1]) for k, v in chosen])
        return xy, flags


def _tree(xy: np.ndarray):
    """A KD-tree of the points, built for one query (no balancing, no compaction)."""
    # Imported here: scipy adds about 0.3 s to the start of every process of the app (web,
    # worker, each `flask` command imports this module through `flask geo`); only
    # build-profiles needs it.
    from scipy.spatial import cKDTree

    return cKDTree(xy, balanced_tree=False, compact_nodes=False)


def _nearest(xy, flags, centres) -> tuple[np.ndarray, np.ndarray]:
    """Distance in metres to the nearest point (inf when none), and whether it is synthetic."""
    if not len(xy):
        return np.full(len(centres), np.inf), np.zeros(len(centres), dtype=bool)
    distance, index = _tree(xy).query(centres, k=1, workers=-1)
    found = np.isfinite(distance)
    synthetic = np.zeros(len(centres), dtype=bool)
    synthetic[found] = flags[index[found]]
    return distance, synthetic


def _count(xy, flags, centres, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points within `radius_m` of each centre, and whether any of them is synthetic."""
    if not len(xy):
        return np.zeros(len(centres)), np.zeros(len(centres), dtype=bool)
    count = _tree(xy).query_ball_point(centres, r=radius_m, return_length=True, workers=-1)
    if flags.all():
        synthetic = count > 0
    elif not flags.any():
        synthetic = np.zeros(len(centres), dtype=bool)
    else:
        synth_count = _tree(xy[flags]).query_ball_point(
            centres, r=radius_m, return_length=True, workers=-1
        )
        synthetic = synth_count > 0
    return count.astype("float64"), synthetic


def _poi_codes() -> list[str]:
    with session_cursor() as cursor:
        cursor.execute("SELECT DISTINCT type_code FROM pois")
        return [r[0] for r in cursor.fetchall()]


def point_criteria(
    cells: CellsToProfile, criteria, departement, values, synthetic, progress
) -> None:
    """`nearest` and `count_within`, grid by grid: one KD-tree query per criterion."""
    if not criteria:
        return
    present = _poi_codes()
    codes = sorted({code for c in criteria for code in present if matches(c, code)})
    for epsg, members, centres in cells.grids():
        xmin, ymin = centres.min(axis=0) - SIZE / 2
        xmax, ymax = centres.max(axis=0) + SIZE / 2
        near = _Points(
            epsg, (xmin - MARGIN_M, ymin - MARGIN_M, xmax + MARGIN_M, ymax + MARGIN_M), codes
        )
        wide: _Points | None = None
        for criterion in criteria:
            xy, flags = near.of(criterion)
            if criterion.method == "nearest":
                distance, synth = _nearest(xy, flags, centres)
                # a point outside the region is > MARGIN_M away: beyond that, look wider
                unsure = distance > MARGIN_M
                if departement is not None and unsure.any():
                    if wide is None:
                        wide = _Points(
                            epsg,
                            (xmin - WIDE_M, ymin - WIDE_M, xmax + WIDE_M, ymax + WIDE_M),
                            codes,
                        )
                    far_xy, far_flags = wide.of(criterion)
                    distance[unsure], synth[unsure] = _nearest(far_xy, far_flags, centres[unsure])
                value = np.where(np.isfinite(distance), distance / 1000.0, np.nan)
            else:
                radius_m = float(criterion.params["radius_km"]) * 1000.0
                if radius_m > MARGIN_M:
                    raise ValueError(f"{criterion.id}: radius beyond the {MARGIN_M} m margin")
                value, synth = _count(xy, flags, centres, radius_m)
            values[criterion.id][members] = value
            synthetic[members] |= synth
            tick(progress)


def _group_medians(groups, values, flags, size: int, least: int):
    """Median of `values` per group (NaN below `least` values) and whether any flag is set."""
    order = np.lexsort((values, groups))
    groups, values = groups[order], values[order]
    counts = np.bincount(groups, minlength=size)
    starts = np.cumsum(counts) - counts
    enough = counts >= max(least, 1)
    low = starts[enough] + (counts[enough] - 1) // 2
    high = starts[enough] + counts[enough] // 2
    median = np.full(size, np.nan)
    median[enough] = (values[low] + values[high]) / 2.0
    flagged = np.bincount(groups, weights=flags[order].astype("float64"), minlength=size) > 0
    return median, flagged


def price_criteria(
    cells: CellsToProfile, criteria, departement, values, synthetic, progress
) -> None:
    """`median_price`: the cell's own sales when it has at least `min_sales`, else its
    commune's (same bound), else its département's. A sale belongs to the commune of its cell.
    """
    if not criteria:
        return
    scope = ""
    if departement is not None:
        scope = """AND cell_id IN (SELECT c.id FROM cells c JOIN communes m
                                   ON m.insee = c.commune_insee WHERE m.departement = %(d)s)"""
    with session_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT cell_id, property_type, price_eur::float8 / built_area_m2, source = %(s)s
            FROM property_sales WHERE built_area_m2 > 0 AND property_type = ANY(%(kinds)s)
            {scope}
            """,  # noqa: S608 - the fragment is a constant
            {"s": SYNTH, "d": departement, "kinds": [c.params["property_type"] for c in criteria]},
        )
        sales = cursor.fetchall()
    position = {cell: i for i, cell in enumerate(cells.ids)}
    where = np.fromiter((position.get(r[0], -1) for r in sales), dtype="int64", count=len(sales))
    kinds = np.array([r[1] for r in sales], dtype=object)
    per_m2 = np.fromiter((r[2] for r in sales), dtype="float64", count=len(sales))
    flags = np.fromiter((r[3] for r in sales), dtype=bool, count=len(sales))
    known = where >= 0
    _, commune = np.unique(np.array(cells.commune, dtype=str), return_inverse=True)
    _, dep = np.unique(np.array(cells.departement, dtype=str), return_inverse=True)
    for criterion in criteria:
        mine = known & (kinds == criterion.params["property_type"])
        cell = where[mine]
        least = int(criterion.params["min_sales"])
        value = np.full(len(cells), np.nan)
        synth = np.zeros(len(cells), dtype=bool)
        for level, least_here in ((dep, 1), (commune, least), (None, least)):
            groups = cell if level is None else level[cell]
            size = len(cells) if level is None else int(level.max()) + 1
            median, flagged = _group_medians(groups, per_m2[mine], flags[mine], size, least_here)
            here = median if level is None else median[level]
            there = flagged if level is None else flagged[level]
            found = ~np.isnan(here)  # finer levels overwrite coarser ones
            value[found], synth[found] = here[found], there[found]
        values[criterion.id][:] = value
        synthetic[:] |= synth & ~np.isnan(value)
        tick(progress)


def ratio_criteria(cells: CellsToProfile, criteria, values, synthetic, progress) -> None:
    has_row = ~np.isnan(cells.population["ind"])
    for criterion in criteria:
        params = criterion.params
        scale = float(params.get("scale", 1.0))
        numerator = cells.population[params["numerator"]]
        if params.get("denominator") is None:
            # a count per cell (1 km²): no population data means nobody lives there
            value = np.where(has_row, numerator * scale, 0.0)
        else:
            denominator = cells.population[params["denominator"]]
            ok = has_row & (denominator > 0)
            value = np.full(len(cells), np.nan)
            value[ok] = numerator[ok] / denominator[ok] * scale
        values[criterion.id][:] = value
        tick(progress)
    if criteria:
        synthetic |= cells.population_synthetic
