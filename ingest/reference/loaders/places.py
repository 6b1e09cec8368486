"""Where a loaded point lies: the territories with a 1 km grid, their boxes, and its cell."""

from __future__ import annotations

import re

import numpy as np

from core import grid

#: Territories with a 1 km grid, with their lon/lat box (west, south, east, north, with a small
#: margin) and their grid's EPSG.
TERRITORIES = ("metro", "971", "972", "973", "974", "976")
TERRITORY_NAMES = (
    "metropolitan France",
    "Guadeloupe (971)",
    "Martinique (972)",
    "Guyane (973)",
    "La Réunion (974)",
    "Mayotte (976)",
)
_BOXES = np.array(
    [
        (-5.8, 41.2, 10.0, 51.3),
        (-62.0, 15.7, -60.8, 16.7),
        (-61.35, 14.3, -60.7, 14.95),
        (-54.8, 2.0, -51.4, 6.0),
        (55.1, -21.5, 56.0, -20.8),
        (44.9, -13.1, 45.4, -12.5),
    ]
)
_GRIDS = np.array([grid.METROPOLE if t == "metro" else grid.OVERSEAS[t] for t in TERRITORIES])
COMMUNE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def territory_of(commune: str) -> int:
    """Index in TERRITORIES of a commune code's territory; -1 when it has no 1 km grid."""
    if commune.startswith("97"):
        code = commune[:3]
        return TERRITORIES.index(code) if code in TERRITORIES else -1
    return 0


def inside(lon: np.ndarray, lat: np.ndarray, territory: np.ndarray) -> np.ndarray:
    """Whether each point lies in its territory's box (NaN and territory -1 are outside)."""
    box = _BOXES[np.clip(territory, 0, None)]
    with np.errstate(invalid="ignore"):
        hit = (lon >= box[:, 0]) & (lat >= box[:, 1]) & (lon <= box[:, 2]) & (lat <= box[:, 3])
    return hit & (territory >= 0)


def locate(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The territory holding each lon/lat point (overseas boxes first); -1 when none."""
    found = np.full(len(lon), -1, dtype=np.int64)
    for index in range(len(TERRITORIES) - 1, -1, -1):
        box = _BOXES[index]
        with np.errstate(invalid="ignore"):
            hit = (lon >= box[0]) & (lat >= box[1]) & (lon <= box[2]) & (lat <= box[3])
        found[hit & (found < 0)] = index
    return found


def cells_of(x, y, source: np.ndarray, territory: np.ndarray, rows: np.ndarray) -> list:
    """Cell ids of `rows` (indexes) from x/y in per-row `source` EPSG, in the territory's grid."""
    cells = np.full(len(x), None, dtype=object)
    if len(rows):
        grids = _GRIDS[territory[rows]]
        pairs = np.unique(np.stack([source[rows], grids], axis=1), axis=0)
        for src, grd in pairs.tolist():
            pick = rows[(source[rows] == src) & (grids == grd)]
            cells[pick] = grid.cell_ids(x[pick], y[pick], src, grd)
    return cells.tolist()


def ewkt(lon: float, lat: float) -> str:
    """A lon/lat point as COPY takes it into a geometry column."""
    return f"SRID=4326;POINT({lon:.7f} {lat:.7f})"
