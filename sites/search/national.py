"""France-wide search over the national matrix (written by `flask geo build-national`, mapped
read-only once per process and shared by every process of the machine through the page cache):
every metropolitan cell's status and score with the territories' own engine, summed by
département or by commune for the national map, and the cells themselves within a bounded
viewport."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from core import grid
from ingest.reference.national import (
    Mapped,
    NationalMatrixError,
    code_of_id,
    current_version,
    ids_of,
    open_version,
)
from sites.search.engine import Result, explain, score_matrix
from sites.search.matrix import Matrix
from sites.search.query import Query

if TYPE_CHECKING:
    import numpy as np

#: How often a process looks whether a newer matrix was made current (seconds).
CHECK_SECONDS = 30
#: The most cells a viewport may show one by one (about 200 km × 200 km); wider, the map shows
#: communes or départements.
MAX_VIEWPORT_CELLS = 40_000

__all__ = [
    "NationalMatrixError",
    "ViewportTooLarge",
    "code_of_id",
    "national_matrix",
    "national_search",
]


class ViewportTooLarge(ValueError):
    """A viewport holding more cells than MAX_VIEWPORT_CELLS."""


@dataclass
class NationalMatrix(Matrix):
    """The national matrix as the engine reads it: `ids` are the cells' int64 codes (sorted),
    `values` the mapped float32 rows; `mapped` holds the communes and départements."""

    mapped: Mapped | None = None

    @cached_property
    def _area_keys(self) -> dict[str, np.ndarray]:
        """Per kind of area, each square's area × 3 as int32 (a square of no area counts in a
        last, dropped one): a search's statuses are then counted per area in one bincount."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        out = {}
        for kind, index, size in (
            ("departements", self.mapped.departements, len(self.mapped.departement_codes)),
            ("communes", self.mapped.communes, len(self.mapped.commune_codes)),
        ):
            index = np.asarray(index)
            out[kind] = (np.where(index >= 0, index, size).astype(np.int32)) * 3
        return out

    def area_counts(self, kind: str, fails: np.ndarray, keep=None) -> np.ndarray:
        """(areas, 3) squares per area and status (green, orange, yellow)."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        keys = self._area_keys[kind]
        size = len(self.mapped.departement_codes if kind == "departements" else
                   self.mapped.commune_codes)  # fmt: skip
        if keep is not None:
            keys, fails = keys[keep], fails[keep]
        counts = np.bincount(keys + fails, minlength=(size + 1) * 3)
        return counts.reshape(size + 1, 3)[:size]

    def cell_ids(self, where) -> list[str]:
        return ids_of(self.ids[where])

    def index_of(self, cell_id: str) -> int | None:
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        code = code_of_id(cell_id)
        i = int(np.searchsorted(self.ids, code))
        return i if i < len(self.ids) and self.ids[i] == code else None

    def indices(self, cells: list[str]) -> np.ndarray:
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        if not cells or not len(self.ids):
            return np.full(len(cells), -1, "int64")
        codes = np.array([code_of_id(c) for c in cells], dtype="int64")
        index = np.searchsorted(self.ids, codes).clip(0, len(self) - 1)
        return np.where(self.ids[index] == codes, index, -1)


_lock = threading.Lock()
_held: dict[str, object] = {"matrix": None, "checked": 0.0, "directory": None}


def national_matrix() -> NationalMatrix:
    """This process's mapping of the current national matrix (NationalMatrixError when none was
    ever built); a newer one made current is mapped within CHECK_SECONDS."""
    directory = Path(current_app.config["NATIONAL_DIR"])
    held = _held["matrix"]
    now = time.monotonic()
    fresh = now - _held["checked"] < CHECK_SECONDS and _held["directory"] == directory
    if held is not None and fresh:
        return held
    with _lock:
        version = current_version(directory)
        if version is None:
            raise NationalMatrixError(
                f"the national matrix was never built in {directory}: run `flask geo "
                "build-national`"
            )
        held = _held["matrix"]
        if held is None or held.version != version or _held["directory"] != directory:
            mapped = open_version(directory, version)
            held = NationalMatrix(
                ids=mapped.codes, communes=[], values=mapped.values, version=version, mapped=mapped
            )
        _held.update(matrix=held, checked=now, directory=directory)
        return held


def national_is_synthetic() -> bool:
    """Is the national matrix made from generated (demo) data? False when there is none."""
    try:
        return national_matrix().mapped.synthetic
    except NationalMatrixError:
        return False


def explain_cell(query: Query, cell_id: str) -> dict:
    """One metropolitan square explained against a search (CellIdError for an id that is not a
    metropolitan one, LookupError for a square the matrix does not hold)."""
    matrix = national_matrix()
    i = matrix.index_of(cell_id)
    if i is None:
        raise LookupError(cell_id)
    commune = int(matrix.mapped.communes[i])
    main = matrix.mapped.commune_codes[commune] if commune >= 0 else None
    return explain(matrix, query, i, cell_id, main)


#: National searches a process keeps (about 0.6 MB each): the map asks the same search again at
#: each zoom (départements, a département's communes, views of squares) and each move.
RECENT_SEARCHES = 16
_recent: OrderedDict[tuple[str, str], Result] = OrderedDict()
_recent_lock = threading.Lock()


def national_search(query: Query) -> Result:
    """Every metropolitan cell scored (`precise`: at most 200 green cells over France); the
    same search again, on the same matrix, is answered from the recent ones."""
    matrix = national_matrix()
    key = (matrix.version, json.dumps(query.as_json(), sort_keys=True))
    with _recent_lock:
        found = _recent.get(key)
        if found is not None:
            _recent.move_to_end(key)
            return found
    result = score_matrix(matrix, query)
    with _recent_lock:
        _recent[key] = result
        while len(_recent) > RECENT_SEARCHES:
            _recent.popitem(last=False)
    return result


@dataclass(frozen=True)
class Area:
    """A département's or a commune's cells by status, for the national map and its table."""

    code: str
    cells: int
    green: int
    orange: int
    yellow: int
    #: Its position in the matrix's places (names, map points).
    index: int = -1

    @property
    def green_share(self) -> float:
        return self.green / self.cells if self.cells else 0.0


def _areas(counts: np.ndarray, codes: list[str]) -> list[Area]:
    """The areas holding squares (a département's search reads 35 000 communes' counts)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    present = np.flatnonzero(counts.any(axis=1))
    return [
        Area(codes[i], sum(row), row[0], row[1], row[2], i)
        for i, row in zip(present.tolist(), counts[present].tolist(), strict=True)
    ]


def by_departement(result: Result) -> list[Area]:
    """Each département's cells by status (the national zoom)."""
    matrix = result.matrix
    counts = matrix.area_counts("departements", result.fails)
    return _areas(counts, matrix.mapped.departement_codes)


def by_commune(result: Result, departement: str | None = None) -> list[Area]:
    """Each commune's cells by status, within one département when given."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    matrix, keep = result.matrix, None
    if departement is not None:
        try:
            wanted = matrix.mapped.departement_codes.index(departement)
        except ValueError:
            return []
        keep = np.asarray(matrix.mapped.departements) == wanted
    counts = matrix.area_counts("communes", result.fails, keep)
    return _areas(counts, matrix.mapped.commune_codes)


def viewport(result: Result, west: float, south: float, east: float, north: float):
    """The positions of the cells of a lon/lat box (ViewportTooLarge when it holds more than
    MAX_VIEWPORT_CELLS cells)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    xs, ys = grid.project([west, east, west, east], [south, south, north, north], 4326, 3035)
    e0, e1 = int(np.floor(min(xs) / 1000)), int(np.floor(max(xs) / 1000))
    n0, n1 = int(np.floor(min(ys) / 1000)), int(np.floor(max(ys) / 1000))
    if (e1 - e0 + 1) * (n1 - n0 + 1) > MAX_VIEWPORT_CELLS:
        raise ViewportTooLarge(
            f"this view holds {(e1 - e0 + 1) * (n1 - n0 + 1)} cells; at most "
            f"{MAX_VIEWPORT_CELLS} are shown one by one: zoom in"
        )
    codes = result.matrix.ids
    rows = np.arange(n0, n1 + 1, dtype="int64") * 10_000
    starts = np.searchsorted(codes, rows + e0)
    ends = np.searchsorted(codes, rows + e1, side="right")
    parts = [np.arange(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    return np.concatenate(parts).astype("int64") if parts else np.empty(0, "int64")


def viewport_cells(result: Result, west: float, south: float, east: float, north: float):
    """The cells of a lon/lat box, one by one: [(cell id, status index)]."""
    picked = viewport(result, west, south, east, north)
    return list(zip(ids_of(result.matrix.ids[picked]), result.fails[picked].tolist(), strict=True))


def corners(codes) -> list[list[list[float]]]:
    """Each cell's four corners as [lat, lon] pairs (south-west, south-east, north-east,
    north-west), for a map to draw."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    codes = np.asarray(codes, dtype="int64")
    north = (codes // 10_000) * 1000
    east = (codes % 10_000) * 1000
    points = []
    for de, dn in ((0, 0), (1000, 0), (1000, 1000), (0, 1000)):
        lon, lat = grid.project(east + de, north + dn, 3035, 4326)
        points.append(np.round(np.column_stack([lat, lon]), 5))
    return np.stack(points, axis=1).tolist()
