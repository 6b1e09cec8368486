"""The search over a territory's matrix: each cell's status and score, and one cell explained.

Statuses and score
    A must-have passes when value ≤ threshold (direction "lower") or value ≥ threshold
    ("higher"). A cell is green when every must-have passes, orange when exactly one fails,
    yellow when more fail. The score (0 to 1) is the mean closeness over the nice-to-haves: a
    met one counts 1, a missed one threshold/value ("lower": 10 km asked, 12.5 km found → 0.8)
    or value/threshold ("higher": 3 asked, 2 found → 0.67), an unknown one 0. With no
    nice-to-have the score is null. `precise` is true when at most 200 cells are green (with no
    must-have at all every cell is green). Values and thresholds are compared as they are shown
    (sites/search/values.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import text

from core import grid
from core.extensions import db
from core.i18n import pick
from core.tenancy import TenantRef
from ingest.reference.criteria import Criterion
from sites.search import values
from sites.search.matrix import ROW, Matrix, matrix_of
from sites.search.query import RENT_DIVISOR, Query
from sites.search.values import decimals, rounded, shown_threshold

if TYPE_CHECKING:
    import numpy as np

#: Cells beyond which a search is not precise (too many green cells to make someone a contact).
PRECISE_MAX = 200
#: A cell's status by its count of failed must-haves (0, 1, 2 or more); its first letter is the
#: one-character code of compact results, the map and the table.
STATUS_NAMES = ("green", "orange", "yellow")
#: A score rounded to three decimals as JSON writes it, by its whole thousandths (0 to 1 000);
#: _NO_SCORE stands for null (no nice-to-have).
_SCORE_JSON = [*(repr(k / 1000) for k in range(1001)), "null"]
_NO_SCORE = 1001


class _Tables(NamedTuple):
    """Lookup arrays of the answers, made at the first search (numpy is imported then)."""

    #: A status's one-character code, by status.
    status_chars: np.ndarray
    #: What follows a cell's id in the full answer up to its failed must-haves, by status and
    #: score.
    status_score_json: np.ndarray
    #: What precedes a failed must-have in the full answer, by whether one came before it.
    comma: np.ndarray


@cache
def _tables() -> _Tables:
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    return _Tables(
        np.array([name[0] for name in STATUS_NAMES], dtype="S1"),
        np.array(
            [
                [f',"status":"{name}","score":{score},"failed":[' for score in _SCORE_JSON]
                for name in STATUS_NAMES
            ],
            dtype=object,
        ),
        np.array(["", ","], dtype=object),
    )


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _thousandths(scores: np.ndarray) -> np.ndarray:
    """`round(float(score), 3)` of every cell in whole thousandths. A float32 times 1 000 is
    exact in float64, so rint rounds it as round() does (halves to even on the exact value),
    and k / 1000 is then the very float round() returns."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    out = np.rint(scores.astype("float64") * 1000).astype("int64")
    if out.size and (out.min() < 0 or out.max() > 1000):
        raise ValueError("a score outside [0, 1]")
    return out


@dataclass
class Result:
    """A search over a territory: per cell its fails count and score, and the counts."""

    matrix: Matrix
    query: Query
    fails: np.ndarray  # uint8 per cell (capped at 2: 0 green, 1 orange, 2 yellow)
    counts: dict[str, int]

    @cached_property
    def scores(self) -> np.ndarray | None:
        """float32 per cell, None without nice-to-haves; computed when first read: the map's
        compact answer has no scores, and they are most of the scoring's work."""
        return _scores(self.matrix, self.query)

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
        return self.matrix.cell_ids(self.fails == 0)

    def statuses(self) -> str:
        return _tables().status_chars[self.fails].tobytes().decode()

    def compact(self, with_scores: bool = False) -> dict:
        """Statuses as one character per cell in layer order; scores (whole percents) on
        demand: the map recolours from the statuses alone."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        out = self._head()
        out["statuses"] = self.statuses()
        if with_scores and self.scores is not None:
            out["scores"] = np.rint(self.scores * 100).astype("int64").tolist()
        return out

    def order(self) -> np.ndarray:
        """Cell positions best first: status, then score (highest first), then id. The matrix's
        ids are sorted, so a stable sort's ties stay in id order without comparing the ids."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        if self.scores is None:
            return np.argsort(self.fails, kind="stable")
        return np.lexsort((-self.scores, self.fails))

    def full(self) -> dict:
        """Every cell, best first (status, then score, then id), with its failed must-haves."""
        return json.loads(self.full_json())

    def full_json(self) -> str:
        """`full()` as the API sends it (compact JSON, UTF-8 as is), written by numpy over the
        cells instead of a dict per cell: a département's full answer is 6 000 cells, and
        building then encoding their dicts cost ten times the scoring."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        m, order = self.matrix, self.order()
        n = len(order)
        head = _dumps(self._head())[:-1]
        if not n:
            return f'{head},"cells":[]}}'
        scores = _thousandths(self.scores) if self.scores is not None else np.full(n, _NO_SCORE)
        failed = self._failed_texts()
        # Per cell: its id, its status and score, one column per must-have, its end; then
        # every piece of every cell joined at once.
        pieces = np.empty((n, 3 + failed.shape[1]), dtype=object)
        pieces[:, 0] = m.ids_json[order]
        pieces[:, 1] = _tables().status_score_json[self.fails[order], scores[order]]
        pieces[:, 2:-1] = failed[order]
        pieces[:, -1] = ']},{"id":'
        pieces[-1, -1] = "]}"
        return f'{head},"cells":[{{"id":{"".join(pieces.ravel().tolist())}]}}'

    def _failed_texts(self) -> np.ndarray:
        """Per cell and must-have (in the query's order), the JSON object of the failed
        must-have, after a comma when one before it failed too; "" where it holds."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        m, query = self.matrix, self.query
        must = query.must
        out = np.full((len(m), len(must)), "", dtype=object)
        started = np.zeros(len(m), dtype=bool)
        for k, (w, row) in enumerate(zip(must, _rows(m, query, [w.id for w in must]), strict=True)):
            threshold = query.threshold_of(w)
            where = np.flatnonzero(~_passes(row, w.criterion, threshold))
            if not len(where):
                continue
            head = f'{{"id":{_dumps(w.id)},"value":'
            tail = f',"threshold":{_dumps(shown_threshold(w.criterion, threshold))}}}'
            texts = _value_texts(w.criterion, row[where], head, tail)
            out[where, k] = _tables().comma[started[where].view("uint8")] + texts
            started[where] = True
        return out

    def _head(self) -> dict:
        return {
            "version": self.version,
            "counts": self.counts,
            "precise": self.precise,
            "total": self.total,
        }


def _value_texts(criterion: Criterion, values: np.ndarray, head: str, tail: str) -> np.ndarray:
    """head + JSON of `values.rounded(criterion, value)` + tail for every value, as objects.
    Each distinct rounded value is written once: a criterion's failing values repeat a lot."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    places = decimals(criterion)
    # Each float32 times a power of ten is exact in float64: this rounds as round() does.
    rounded = np.round(values.astype("float64"), places)
    known = np.isfinite(rounded)
    out = np.full(len(values), f"{head}null{tail}", dtype=object)
    if known.any():
        # Unique by bit pattern, so that -0.0 keeps its sign as json.dumps writes it.
        bits, inverse = np.unique(rounded[known].view("int64"), return_inverse=True)
        shown = bits.view("float64")
        shown = shown.tolist() if places else shown.astype("int64").tolist()
        out[known] = np.array([f"{head}{v!r}{tail}" for v in shown], dtype=object)[inverse]
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


def _add_closeness(scores: np.ndarray, row: np.ndarray, criterion: Criterion, threshold, out):
    """Add to `scores` 1 where the criterion holds, else the ratio of threshold to value ("lower")
    or of value to threshold ("higher"), and 0 where the value is unknown. `out` is scratch
    space of the row's size: a département's 26 rows spend as long allocating as computing."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    limit = np.float32(threshold)  # compared in the matrix's precision
    if limit == 0:  # no ratio to speak of: met or not
        scores += _passes(row, criterion, threshold)
        return
    if criterion.direction == "lower":
        np.divide(limit, row, out=out)
    else:
        np.divide(row, limit, out=out)
    # minimum keeps NaN (unknown) and caps a met criterion (ratio ≥ 1, or ∞) at 1; fmax then
    # turns NaN into 0.
    np.minimum(out, np.float32(1), out=out)
    np.fmax(out, np.float32(0), out=out)
    scores += out


def _fails(m: Matrix, query: Query, columns=slice(None)) -> np.ndarray:
    """Failed must-haves per cell, capped at 2 (0 green, 1 orange, 2 yellow)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    fails = np.zeros(len(m.ids[columns]), dtype="uint8")
    must = query.must
    for w, row in zip(must, _rows(m, query, [w.id for w in must], columns), strict=True):
        # a fail is "not passing": NaN compares false, so an unknown value fails
        fails += ~_passes(row, w.criterion, query.threshold_of(w))
    return np.minimum(fails, 2, out=fails)


def _scores(m: Matrix, query: Query, columns=slice(None)) -> np.ndarray | None:
    """The mean closeness over the nice-to-haves per cell; None without any."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    nice = query.nice
    if not nice:
        return None
    n = len(m.ids[columns])
    scores = np.zeros(n, dtype="float32")
    scratch = np.empty(n, dtype="float32")
    with np.errstate(divide="ignore", invalid="ignore"):
        for w, row in zip(nice, _rows(m, query, [w.id for w in nice], columns), strict=True):
            _add_closeness(scores, row, w.criterion, query.threshold_of(w), scratch)
    scores /= np.float32(len(nice))
    return scores


def score_matrix(m: Matrix, query: Query) -> Result:
    """Score a matrix (the benchmarks call this directly); the scores wait until read."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    fails = _fails(m, query)
    # Two counts of a comparison: a third of a bincount's time over France's 550 000 squares.
    green, orange = int(np.count_nonzero(fails == 0)), int(np.count_nonzero(fails == 1))
    counts = (green, orange, len(fails) - green - orange)
    return Result(m, query, fails, dict(zip(STATUS_NAMES, counts, strict=True)))


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
    return explain(m, query, i, cell_id, m.communes[i])


def explain(m: Matrix, query: Query, i: int, cell_id: str, main: str | None) -> dict:
    """The cell at position `i` of a matrix explained (a territory's or the national one);
    `main`: the commune holding most of it."""
    one = slice(i, i + 1)
    fails, scores = _fails(m, query, one), _scores(m, query, one)
    criteria = []
    for w, row in zip(
        query.criteria, _rows(m, query, [w.id for w in query.criteria], one), strict=True
    ):
        threshold = query.threshold_of(w)
        criteria.append(
            {
                "id": w.id,
                "label": label_of(w.criterion),
                "unit": w.criterion.unit,
                "value": rounded(w.criterion, row[0]),
                "threshold": shown_threshold(w.criterion, threshold),
                "value_text": values.text(w.criterion, row[0]),
                "threshold_text": values.threshold_text(w.criterion, threshold),
                "importance": w.importance,
                "ok": bool(_passes(row, w.criterion, threshold)[0]),
            }
        )
    return {
        "cell": cell_id,
        "status": STATUS_NAMES[int(fails[0])],
        "score": round(float(scores[0]), 3) if scores is not None else None,
        "communes": _communes_covering(cell_id, main),
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
