"""The INSPIRE / INSEE 1 km grid: point ↔ cell id ↔ polygon, vectorised (pyproj + numpy).

A cell id is `CRS{epsg}RES1000mN{northing}E{easting}`, the cell's south-west corner in metres
in the grid's projection: EPSG:3035 for metropolitan France, the local UTM zone overseas.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from pyproj import Transformer

SIZE = 1000
METROPOLE = 3035
#: Overseas départements → the EPSG code of their grid (INSEE's carroyage uses local UTM).
OVERSEAS = {
    "971": 5490,  # Guadeloupe, UTM 20N (RGAF09)
    "972": 5490,  # Martinique, UTM 20N (RGAF09)
    "973": 2972,  # Guyane, UTM 22N (RGFG95)
    "974": 2975,  # La Réunion, UTM 40S (RGR92)
    "976": 4471,  # Mayotte, UTM 38S (RGM04)
}
GRID_EPSGS = frozenset({METROPOLE, *OVERSEAS.values()})
#: A cell id's form (also the API's pattern for a cell parameter).
ID_PATTERN = r"^CRS(\d{4,5})RES1000mN(-?\d+)E(-?\d+)$"
_ID_RE = re.compile(ID_PATTERN)


class CellIdError(ValueError):
    """A string that is not a 1 km cell id."""


def grid_for_departement(code: str) -> int:
    return OVERSEAS.get(code[:3], METROPOLE) if code.startswith("97") else METROPOLE


@cache
def transformer(source: int, target: int) -> Transformer:
    from pyproj import Transformer  # noqa: PLC0415 - heavy: imported when a point is projected

    return Transformer.from_crs(source, target, always_xy=True)


def project(x, y, source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates from one CRS to another (arrays in, arrays out)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed

    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if source == target:
        return x, y
    return transformer(source, target).transform(x, y)


def corners(x, y, source: int = 4326, grid: int = METROPOLE) -> tuple[np.ndarray, np.ndarray]:
    """South-west corners (northing, easting) of the cells holding the points, as int64."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed

    gx, gy = project(x, y, source, grid)
    easting = (np.floor(gx / SIZE) * SIZE).astype("int64")
    northing = (np.floor(gy / SIZE) * SIZE).astype("int64")
    return northing, easting


def format_ids(northing, easting, grid: int = METROPOLE) -> np.ndarray:
    """Cell ids from corner arrays (an f-string per id beats numpy's char functions 2×)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed

    prefix = f"CRS{grid}RES1000mN"
    northing, easting = np.asarray(northing).tolist(), np.asarray(easting).tolist()
    if not isinstance(northing, list):  # 0-d arrays
        return np.array(f"{prefix}{northing}E{easting}")
    return np.array([f"{prefix}{n}E{e}" for n, e in zip(northing, easting, strict=True)])


def cell_ids(x, y, source: int = 4326, grid: int = METROPOLE) -> np.ndarray:
    """The cell id of every point (x, y in `source`, lon/lat by default)."""
    northing, easting = corners(x, y, source, grid)
    return format_ids(northing, easting, grid)


def cell_id(x: float, y: float, source: int = 4326, grid: int = METROPOLE) -> str:
    return str(cell_ids([x], [y], source, grid)[0])


def parse(cell: str) -> tuple[int, int, int]:
    """`(epsg, northing, easting)` of a cell id; anything malformed is a CellIdError."""
    match = _ID_RE.match(cell) if isinstance(cell, str) else None
    if match is None:
        raise CellIdError(f"not a 1 km cell id: {cell!r} (expected CRS3035RES1000mN…E…)")
    epsg, northing, easting = (int(g) for g in match.groups())
    if epsg not in GRID_EPSGS:
        raise CellIdError(f"cell id {cell!r}: EPSG:{epsg} is not a grid of France")
    if northing % SIZE or easting % SIZE:
        raise CellIdError(f"cell id {cell!r}: corners are multiples of 1000 m")
    return epsg, northing, easting


def polygon(cell: str, target: int | None = None) -> list[tuple[float, float]]:
    """The cell's square as a closed ring, in its grid's CRS or in `target` (4326: lon/lat)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed

    epsg, n, e = parse(cell)
    xs = np.array([e, e + SIZE, e + SIZE, e, e], dtype="float64")
    ys = np.array([n, n, n + SIZE, n + SIZE, n], dtype="float64")
    if target is not None and target != epsg:
        xs, ys = project(xs, ys, epsg, target)
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def centres(cells, target: int = 4326) -> tuple[np.ndarray, np.ndarray]:
    """Centres of many cells of one grid, in `target`."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed

    parsed = [parse(c) for c in cells]
    if not parsed:
        return np.empty(0), np.empty(0)
    grids = {p[0] for p in parsed}
    if len(grids) != 1:
        raise CellIdError("cells of several grids: centre them grid by grid")
    arr = np.array([(p[1], p[2]) for p in parsed], dtype="float64")
    return project(arr[:, 1] + SIZE / 2, arr[:, 0] + SIZE / 2, grids.pop(), target)


def covering(geometry, source: int = 4326, grid: int = METROPOLE) -> list[str]:
    """Ids of the cells whose square intersects `geometry` (a shapely geometry in `source`)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when cells are computed
    import shapely  # noqa: PLC0415 - heavy: imported when cells are computed

    if geometry is None or geometry.is_empty:
        return []
    projected = geometry
    if source != grid:
        to_grid = transformer(source, grid).transform
        projected = shapely.transform(geometry, to_grid, interleaved=False)
    minx, miny, maxx, maxy = projected.bounds
    es = np.arange(np.floor(minx / SIZE) * SIZE, maxx, SIZE)
    ns = np.arange(np.floor(miny / SIZE) * SIZE, maxy, SIZE)
    if not len(es) or not len(ns):
        return []
    ee, nn = np.meshgrid(es, ns)
    ee, nn = ee.ravel(), nn.ravel()
    squares = shapely.box(ee, nn, ee + SIZE, nn + SIZE)
    shapely.prepare(projected)
    hit = shapely.intersects(projected, squares)
    return format_ids(nn[hit].astype("int64"), ee[hit].astype("int64"), grid).tolist()
