"""National 1 km cells: the communes placed on the grid (`flask geo build-cells`).

The covering of many geometries at once (`covering_pairs`) serves synthetic data too.
"""

from __future__ import annotations

import numpy as np
import shapely

from core import grid
from core.extensions import db
from ingest.reference.bulk import Progress, copy_rows, session_cursor, tick, vacuum

SIZE = grid.SIZE


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


def place_cells(
    insee: np.ndarray,
    grids: np.ndarray,
    shapes: np.ndarray,
    own: np.ndarray,
    progress: Progress = None,
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


def build_cells(departement: str | None = None, progress: Progress = None) -> int:
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
