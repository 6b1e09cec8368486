"""National 1 km cells and their profiles: every stored criterion of every cell, in bulk.

`build_cells` places the communes on the grid; `build_profiles` computes one wide
`cell_profiles` row per cell (see criteria.METHODS). Both are vectorised (numpy, shapely 2,
scipy's cKDTree) and write with delete + COPY in one transaction, so a reader sees the old rows
or the new ones, never a mix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from scipy.spatial import cKDTree

from core import grid
from core.extensions import db
from core.signals import announce, profiles_changed
from ingest.reference.bulk import copy_rows
from ingest.reference.criteria import Criterion, matches, stored_criteria
from ingest.reference.models import POPULATION_VALUES

SIZE = grid.SIZE
#: POIs farther than this from a département's cells cannot change its nearest/count values
#: unless the nearest one found is farther still (then the search widens to WIDE_M).
MARGIN_M = 60_000.0
WIDE_M = 1_500_000.0
SYNTH = "synth"

Progress = Callable[[int], object] | None


def tick(progress: Progress, n: int = 1) -> None:
    if progress:
        progress(n)


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE after a bulk rewrite (outside the transaction): the planner gets fresh
    statistics and the next rewrite reuses the dead rows' space (autovacuum may be off)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')


def session_cursor():
    """A psycopg cursor on the session's connection (same transaction as the ORM)."""
    return db.session.connection().connection.driver_connection.cursor()


# --- the grid over many geometries ------------------------------------------------------------


def to_grid(shapes: np.ndarray, source: int, target: int) -> np.ndarray:
    """Geometries reprojected vertex by vertex, all in one pyproj call (as grid.covering does)."""
    if source == target or not len(shapes):
        return shapes
    return shapely.transform(shapes, grid.transformer(source, target).transform, interleaved=False)


def covering_pairs(
    projected: np.ndarray, chunk: int = 2000, progress: Progress = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(geometry index, northing, easting)` of every cell square intersecting each geometry.

    The geometries are already in the grid's CRS. Same cells as `core.grid.covering`, one
    geometry at a time, but with every candidate square of a chunk tested in one shapely call.
    """
    index, north, east = [], [], []
    shapely.prepare(projected)
    bounds = shapely.bounds(projected)
    for start in range(0, len(projected), chunk):
        stop = min(start + chunk, len(projected))
        minx, miny, maxx, maxy = bounds[start:stop].T
        valid = ~np.isnan(minx)
        e0 = np.where(valid, np.floor(minx / SIZE) * SIZE, 0.0)
        n0 = np.where(valid, np.floor(miny / SIZE) * SIZE, 0.0)
        # len(np.arange(e0, maxx, SIZE)), as covering() enumerates them
        nx = np.where(valid, np.ceil((maxx - e0) / SIZE), 0).clip(0).astype("int64")
        ny = np.where(valid, np.ceil((maxy - n0) / SIZE), 0).clip(0).astype("int64")
        counts = nx * ny
        total = int(counts.sum())
        if total:
            which = np.repeat(np.arange(start, stop), counts)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            k = np.arange(total) - first
            width = np.repeat(nx, counts)
            e = np.repeat(e0, counts) + (k % width) * SIZE
            n = np.repeat(n0, counts) + (k // width) * SIZE
            squares = shapely.box(e, n, e + SIZE, n + SIZE)
            hit = shapely.intersects(projected[which], squares)
            index.append(which[hit])
            north.append(n[hit].astype("int64"))
            east.append(e[hit].astype("int64"))
        tick(progress, stop - start)
    if not index:
        empty = np.empty(0, dtype="int64")
        return empty, empty, empty
    return np.concatenate(index), np.concatenate(north), np.concatenate(east)


def cell_keys(northing: np.ndarray, easting: np.ndarray) -> np.ndarray:
    """One int64 per cell of a grid (corners in km fit in 2**31)."""
    return (np.asarray(northing, "int64") // SIZE) * (1 << 32) + (
        np.asarray(easting, "int64") // SIZE
    )


def _communes(departement: str | None) -> list[tuple]:
    """insee, département, WKB of the communes to place, and of their neighbours.

    For one département, the communes of other départements whose box comes within ~2 km are
    loaded too: a cell on the border goes to the commune holding its centre, whichever it is.
    """
    with session_cursor() as cursor:
        if departement is None:
            cursor.execute(
                "SELECT insee, departement, ST_AsBinary(geom) FROM communes ORDER BY insee"
            )
        else:
            cursor.execute(
                """
                SELECT insee, departement, ST_AsBinary(geom) FROM communes
                WHERE geom && (SELECT ST_Expand(ST_Extent(geom)::geometry, 0.03)
                               FROM communes WHERE departement = %(d)s)
                ORDER BY insee
                """,
                {"d": departement},
            )
        return cursor.fetchall()


# --- cells ------------------------------------------------------------------------------------


def place_cells(
    insee: np.ndarray, grids: np.ndarray, shapes: np.ndarray, own: np.ndarray, progress=None
) -> list[tuple[str, int, int, int, str]]:
    """Rows `(id, epsg, northing, easting, commune)` of the cells intersecting the `own`
    communes; a cell shared by several communes goes to the one holding its centre, else to
    the first in `insee` order."""
    rows: list[tuple] = []
    for epsg in sorted(set(grids.tolist())):
        members = np.flatnonzero(grids == epsg)
        projected = to_grid(shapes[members], 4326, epsg)
        which, north, east = covering_pairs(projected, progress=progress)
        keys = cell_keys(north, east)
        wanted = np.isin(keys, keys[own[members][which]])
        which, north, east, keys = which[wanted], north[wanted], east[wanted], keys[wanted]
        centre = shapely.contains_xy(projected[which], east + SIZE / 2, north + SIZE / 2)
        # per cell: the commune holding the centre first, then insee order (members are sorted)
        order = np.lexsort((which, ~centre, keys))
        keys, which, north, east = keys[order], which[order], north[order], east[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        which, north, east = which[first], north[first], east[first]
        ids = grid.format_ids(north, east, epsg)
        rows += zip(
            ids.tolist(),
            [epsg] * len(ids),
            north.tolist(),
            east.tolist(),
            insee[members][which].tolist(),
            strict=True,
        )
    return rows


def build_cells(departement: str | None = None, progress=None) -> int:
    """(Re)compute the `cells` of one département's communes (or of all); returns how many.

    Delete then COPY in one transaction. A département's build also replaces the rows of its
    border cells that an earlier build gave to a neighbouring commune.
    """
    try:
        found = _communes(departement)
        rows: list[tuple] = []
        if found:
            insee = np.array([r[0] for r in found], dtype=object)
            deps = [r[1] for r in found]
            shapes = shapely.from_wkb([bytes(r[2]) for r in found])
            invalid = ~shapely.is_valid(shapes)
            if invalid.any():
                shapes[invalid] = shapely.make_valid(shapes[invalid])
            grids = np.array([grid.grid_for_departement(d) for d in deps])
            own = np.array([departement is None or d == departement for d in deps])
            rows = place_cells(insee, grids, shapes, own, progress)
        with session_cursor() as cursor:
            if departement is None:
                cursor.execute("DELETE FROM cells")
            else:
                cursor.execute(
                    """
                    DELETE FROM cells WHERE id = ANY(%(ids)s) OR commune_insee IN
                        (SELECT insee FROM communes WHERE departement = %(d)s)
                    """,
                    {"ids": [r[0] for r in rows], "d": departement},
                )
        count = copy_rows("cells", ["id", "epsg", "northing", "easting", "commune_insee"], rows)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    vacuum("cells")
    return count


# --- profiles ---------------------------------------------------------------------------------


class _Cells:
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
        for epsg in sorted(set(self.epsg.tolist())):
            members = np.flatnonzero(self.epsg == epsg)
            yield epsg, members, np.column_stack([self.x[members], self.y[members]])


def _load_cells(departement: str | None) -> _Cells:
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
        return _Cells(cursor.fetchall())


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


def _tree(xy: np.ndarray) -> cKDTree:
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


def _point_criteria(cells: _Cells, criteria, departement, values, synthetic, progress) -> None:
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


def _price_criteria(cells: _Cells, criteria, departement, values, synthetic, progress) -> None:
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


def _ratio_criteria(cells: _Cells, criteria, values, synthetic, progress) -> None:
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


def _binary_block(columns: Sequence[tuple[str, object]]) -> bytes:
    """Rows in PostgreSQL's binary COPY format, built column-wise with numpy.

    `columns` are `("text", list of str or None)`, `("bool", bool array)` or
    `("float8", float array, NaN for NULL)`. Each field is laid out at its widest in a byte
    matrix; a mask keeps the bytes a row really has (no payload for a NULL)."""
    n = len(columns[0][1])
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []

    def add(data: np.ndarray, used: np.ndarray | None = None) -> None:
        parts.append((np.frombuffer(data.tobytes(), dtype=np.uint8).reshape(n, -1), used))

    add(np.full(n, len(columns), dtype=">i2"))
    for kind, data in columns:
        if kind == "text":
            null = np.array([v is None for v in data], dtype=bool)
            encoded = np.array(["" if v is None else v for v in data], dtype=object)
            encoded = np.char.encode(encoded.astype(str), "utf-8")
            length = np.char.str_len(encoded)
            add(np.where(null, -1, length).astype(">i4"))
            width = max(int(length.max(initial=0)), 1)
            add(encoded.astype(f"S{width}"), np.arange(width)[None, :] < length[:, None])
        elif kind == "bool":
            add(np.full(n, 1, dtype=">i4"))
            add(np.asarray(data, dtype=np.uint8))
        else:  # float8
            values = np.asarray(data, dtype="float64")
            null = np.isnan(values)
            add(np.where(null, -1, 8).astype(">i4"))
            add(values.astype(">f8"), np.repeat(~null[:, None], 8, axis=1))
    matrix = np.concatenate([p[0] for p in parts], axis=1)
    used = np.concatenate(
        [np.ones(p[0].shape, dtype=bool) if p[1] is None else p[1] for p in parts], axis=1
    )
    return matrix[used].tobytes()


def copy_binary(
    table: str, names: Sequence[str], columns: Sequence[tuple[str, object]], batch=100_000
) -> int:
    """COPY column arrays in binary on the session's connection; returns the row count.

    For wide numeric rows: psycopg's `write_row` adapts value by value, several times slower."""
    n = len(columns[0][1]) if columns else 0
    quoted = ", ".join(f'"{c}"' for c in names)
    with (
        session_cursor() as cursor,
        cursor.copy(
            f'COPY "{table}" ({quoted}) FROM STDIN (FORMAT BINARY)'  # noqa: S608 - our names
        ) as copy,
    ):
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))  # signature, flags, no extension
        for start in range(0, n, batch):
            block = [(kind, data[start : start + batch]) for kind, data in columns]
            copy.write(_binary_block(block))
        copy.write(b"\xff\xff")
    return n


def build_profiles(departement: str | None = None, progress=None) -> int:
    """Compute every stored criterion of the cells of one département (or all of them) and
    replace their `cell_profiles` rows (delete + COPY, one transaction); returns rows written."""
    criteria = stored_criteria()
    for criterion in criteria:
        if criterion.method == "ratio":
            for name in (criterion.params["numerator"], criterion.params.get("denominator")):
                if name is not None and name not in POPULATION_VALUES:
                    raise ValueError(f"{criterion.id}: unknown population column {name!r}")
    try:
        cells = _load_cells(departement)
        tick(progress)
        values = {c.id: np.full(len(cells), np.nan) for c in criteria}
        synthetic = np.zeros(len(cells), dtype=bool)
        by_method: dict[str, list[Criterion]] = {}
        for criterion in criteria:
            by_method.setdefault(criterion.method, []).append(criterion)
        if len(cells):
            points = by_method.get("nearest", []) + by_method.get("count_within", [])
            _point_criteria(cells, points, departement, values, synthetic, progress)
            prices = by_method.get("median_price", [])
            _price_criteria(cells, prices, departement, values, synthetic, progress)
            _ratio_criteria(cells, by_method.get("ratio", []), values, synthetic, progress)
        unknown = set(by_method) - {"nearest", "count_within", "median_price", "ratio"}
        if unknown:
            raise ValueError(f"no computation for method(s) {sorted(unknown)}")
        count = _write_profiles(cells, criteria, values, synthetic, departement)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    vacuum("cell_profiles")
    announce(profiles_changed)  # the search matrices reload
    tick(progress)
    return count


def _write_profiles(cells: _Cells, criteria: Sequence[Criterion], values, synthetic, dep) -> int:
    with session_cursor() as cursor:
        if dep is None:
            cursor.execute("DELETE FROM cell_profiles")
        else:
            cursor.execute(
                "DELETE FROM cell_profiles WHERE departement = %(d)s OR cell_id = ANY(%(ids)s)",
                {"d": dep, "ids": cells.ids},
            )
    columns = [
        ("text", cells.ids),
        ("text", cells.departement),
        ("bool", synthetic),
        *(("float8", values[c.id]) for c in criteria),
    ]
    names = ["cell_id", "departement", "synthetic", *(c.id for c in criteria)]
    return copy_binary("cell_profiles", names, columns)
