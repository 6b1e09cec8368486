"""The search over a territory's matrix: each cell's status and score, and one cell explained.

Statuses and score
    A must-have passes when value ≤ threshold (direction "lower") or value ≥ threshold
    ("higher"). A cell is green when every must-have passes, orange when exactly one fails,
    yellow when more fail. The score (0 to 1) is the mean closeness over the nice-to-haves: a
    met one counts 1, a missed one threshold/value ("lower": 10 km asked, 12.5 km found → 0.8)
    or value/threshold ("higher": 3 asked, 2 found → 0.67), an unknown one 0. With no
    nice-to-have the score is null. `precise` is true when at most 200 cells are green (with no
    must-have at all every cell is green).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from core import grid
from core.extensions import db
from core.i18n import pick
from core.tenancy import TenantRef
from ingest.reference.criteria import Criterion
from sites.search.matrix import ROW, Matrix, matrix_of
from sites.search.query import RENT_DIVISOR, Query

if TYPE_CHECKING:
    import numpy as np

#: Cells beyond which a search is not precise (too many green cells to make someone a contact).
PRECISE_MAX = 200
#: Decimals shown per unit.
DECIMALS = {"km": 1, "%": 1}
#: A cell's status by its count of failed must-haves (0, 1, 2 or more); its first letter is the
#: one-character code of compact results, the map and the table.
STATUS_NAMES = ("green", "orange", "yellow")
_STATUS_CHARS = "".join(name[0] for name in STATUS_NAMES).encode()


@dataclass
class Result:
    """A search over a territory: per cell its fails count and score, and the counts."""

    matrix: Matrix
    query: Query
    fails: np.ndarray  # uint8 per cell (capped at 2: 0 green, 1 orange, 2 yellow)
    scores: np.ndarray | None  # float32 per cell, None without nice-to-haves
    counts: dict[str, int]

    @property
    def version(self) -> str:
        return self.matrix.version

    @property
    def total(self) -> int:
        return len(self.matrix)

    @property
    def precise(self) -> bool:
        return self.counts["green"] <= PRECISE_MAX

    def green_cells(self) -> list[str]:
        return self.matrix.ids[self.fails == 0].tolist()

    def statuses(self) -> str:
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        return np.frombuffer(_STATUS_CHARS, dtype="S1")[self.fails].tobytes().decode()

    def compact(self, with_scores: bool = False) -> dict:
        """Statuses as one character per cell in layer order; scores (whole percents) on
        demand: the map recolours from the statuses alone."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        out = self._head()
        out["statuses"] = self.statuses()
        if with_scores and self.scores is not None:
            out["scores"] = np.rint(self.scores * 100).astype("int64").tolist()
        return out

    def full(self) -> dict:
        """Every cell, best first (status, then score, then id), with its failed must-haves."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        m, must = self.matrix, self.query.must
        order = np.lexsort(
            (m.ids, -(self.scores if self.scores is not None else np.zeros(len(m))), self.fails)
        )
        failed: dict[int, list] = {}
        if must:
            rows = _rows(m, self.query, [w.id for w in must])
            for k, w in enumerate(must):
                threshold = self.query.threshold_of(w)
                shown = display(w.criterion, threshold)
                where = np.flatnonzero(~_passes(rows[k], w.criterion, threshold))
                values = displays(w.criterion, rows[k][where])  # rounded all at once
                for i, value in zip(where.tolist(), values, strict=True):
                    failed.setdefault(i, []).append(
                        {"id": w.id, "value": value, "threshold": shown}
                    )
        cells = []
        scores = self.scores
        for i in order.tolist():
            cells.append(
                {
                    "id": str(m.ids[i]),
                    "status": STATUS_NAMES[self.fails[i]],
                    "score": round(float(scores[i]), 3) if scores is not None else None,
                    "failed": failed.get(i, []),
                }
            )
        return self._head() | {"cells": cells}

    def _head(self) -> dict:
        return {
            "version": self.version,
            "counts": self.counts,
            "precise": self.precise,
            "total": self.total,
        }


def display(criterion: Criterion, value) -> float | int | None:
    """A value rounded for people: km and % to one decimal, the rest to whole numbers."""
    value = float(value)
    if not math.isfinite(value):
        return None
    decimals = DECIMALS.get(criterion.unit)
    return round(value, decimals) if decimals else int(round(value))


def displays(criterion: Criterion, values: np.ndarray) -> list:
    """`display` over an array (None for unknown values)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    decimals = DECIMALS.get(criterion.unit)
    rounded = np.round(values.astype("float64"), decimals or 0)
    known = np.isfinite(rounded)
    safe = np.where(known, rounded, 0.0)
    out = safe.tolist() if decimals else safe.astype("int64").tolist()
    if not known.all():
        for i in np.flatnonzero(~known).tolist():
            out[i] = None
    return out


def _rows(m: Matrix, query: Query, ids: list[str], columns=slice(None)) -> list[np.ndarray]:
    """The value rows of these criteria (homes under the budget counted for the query)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    out = []
    for cid in ids:
        if cid == "homes_count" and query.budget is not None:
            fits = np.where(
                m.home_sale,
                m.home_price <= query.budget,
                m.home_price <= query.budget / RENT_DIVISOR,
            )
            keep = fits & (m.home_cell >= 0)
            row = np.bincount(m.home_cell[keep], minlength=len(m)).astype("float32")
            out.append(row[columns])
        else:
            out.append(m.values[ROW[cid], columns])
    return out


def _passes(row: np.ndarray, criterion: Criterion, threshold: float) -> np.ndarray:
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    limit = np.float32(threshold)  # compared in the matrix's precision: 2.3 ≤ 2.3 holds
    return row <= limit if criterion.direction == "lower" else row >= limit


def _closeness(row: np.ndarray, criterion: Criterion, threshold: float) -> np.ndarray:
    """1 when the criterion holds, else the ratio of threshold to value; 0 when unknown."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    limit = np.float32(threshold)
    if limit == 0:  # no ratio to speak of: met or not
        return np.where(_passes(row, criterion, threshold), np.float32(1), np.float32(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = limit / row if criterion.direction == "lower" else row / limit
    # minimum keeps NaN (unknown) and caps a met criterion (ratio ≥ 1, or ∞) at 1; fmax then
    # turns NaN into 0.
    return np.fmax(np.minimum(ratio, np.float32(1)), np.float32(0))


def _compute(m: Matrix, query: Query, columns=slice(None)) -> tuple[np.ndarray, np.ndarray | None]:
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    n = len(m.ids[columns])
    fails = np.zeros(n, dtype="uint8")
    must = query.must
    for w, row in zip(must, _rows(m, query, [w.id for w in must], columns), strict=True):
        # a fail is "not passing": NaN compares false, so an unknown value fails
        fails += ~_passes(row, w.criterion, query.threshold_of(w))
    np.minimum(fails, 2, out=fails)
    nice = query.nice
    scores = None
    if nice:
        scores = np.zeros(n, dtype="float32")
        for w, row in zip(nice, _rows(m, query, [w.id for w in nice], columns), strict=True):
            scores += _closeness(row, w.criterion, query.threshold_of(w))
        scores /= np.float32(len(nice))
    return fails, scores


def score_matrix(m: Matrix, query: Query) -> Result:
    """Score a matrix (the benchmarks call this directly)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    fails, scores = _compute(m, query)
    counts = np.bincount(fails, minlength=3)
    return Result(m, query, fails, scores, dict(zip(STATUS_NAMES, counts.tolist(), strict=True)))


def score(tenant: TenantRef, query: Query) -> Result:
    """Score every cell of the territory for a parsed query."""
    return score_matrix(matrix_of(tenant), query)


# --- one cell, for the panel --------------------------------------------------------------------


def label_of(criterion: Criterion) -> str:
    """The criterion's name in the reader's language."""
    return pick(criterion.label_fr, criterion.label_en)


def evaluate_cell(tenant: TenantRef, query: Query, cell_id: str) -> dict:
    """One cell explained: its communes, status, score and each asked criterion's value.
    Raises LookupError when the cell is not the territory's."""
    m = matrix_of(tenant)
    i = m.index_of(cell_id) if isinstance(cell_id, str) else None
    if i is None:
        raise LookupError(cell_id)
    fails, scores = _compute(m, query, slice(i, i + 1))
    criteria = []
    for w, row in zip(
        query.criteria,
        _rows(m, query, [w.id for w in query.criteria], slice(i, i + 1)),
        strict=True,
    ):
        threshold = query.threshold_of(w)
        criteria.append(
            {
                "id": w.id,
                "label": label_of(w.criterion),
                "unit": w.criterion.unit,
                "value": display(w.criterion, row[0]),
                "threshold": display(w.criterion, threshold),
                "importance": w.importance,
                "ok": bool(_passes(row, w.criterion, threshold)[0]),
            }
        )
    return {
        "cell": cell_id,
        "status": STATUS_NAMES[int(fails[0])],
        "score": round(float(scores[0]), 3) if scores is not None else None,
        "communes": _communes_covering(cell_id, m.communes[i]),
        "criteria": criteria,
    }


def _communes_covering(cell_id: str, main: str | None) -> list[dict]:
    """The cell's main commune first, then the others its square overlaps, by name."""
    ring = grid.polygon(cell_id, 4326)
    wkt = "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + "))"
    rows = db.session.execute(
        text(
            """
            SELECT insee, name FROM communes
            WHERE insee = :main
               OR ST_Intersects(geom, ST_GeomFromText(:wkt, 4326))
            """
        ),
        {"main": main, "wkt": wkt},
    ).all()
    rows = sorted(rows, key=lambda r: (r[0] != main, r[1], r[0]))
    return [{"insee": insee, "name": name} for insee, name in rows]
