"""What a search's answer says beyond its counts: the criteria that tell its cells apart, and
advice when no cell fits (relax the must-have that blocks most) or every cell does (tighten).

Relaxing
    A must-have "blocks" a cell when it is the only one the cell misses (the cell is orange
    because of it). The must-have that blocks most cells (ties: the one missed most) is the one
    to relax; its suggested threshold is the nearest value among the cells it blocks, rounded to
    the unit's readable step away from strictness (12,3 km → 13 km), and `cells` the cells that
    would then be green. When no cell misses only one must-have, the one missed most is named
    without a threshold; when its value is unknown in every cell it blocks, it is said so.

Tightening
    When every cell is green (and there are at least two), the criterion whose threshold at the
    median of the cells' values (rounded to the unit's step) splits them closest to half; an
    asked criterion first, then one of the catalogue not asked.

All of it is computed over the matrix's rows with numpy: a département's 6 000 cells or France's
550 000 take a few passes per criterion, never a Python loop over cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.reference.criteria import CRITERIA, Criterion
from sites.search.engine import Result, _passes, _rows
from sites.search.query import Wanted
from sites.search.values import step_towards

#: Cells the median of a criterion is taken over when suggesting a tighter threshold.
MEDIAN_SAMPLE = 1000


@dataclass(frozen=True)
class Relax:
    """No cell is green: the must-have to relax, and what relaxing it gives."""

    criterion: Criterion
    threshold: float  # as asked and compared
    failing: int  # cells that miss it
    blocking: int  # cells that miss it alone
    suggested: float | None  # None: relaxing it alone turns no cell green
    cells: int  # green cells at the suggested threshold
    unknown: bool  # its value is unknown in every cell it blocks

    kind = "relax"


@dataclass(frozen=True)
class Tighten:
    """Every cell is green: a criterion and threshold that would tell them apart."""

    criterion: Criterion
    importance: str | None  # as asked ("must", "nice"), None when not asked
    threshold: float | None  # as asked, None when not asked
    suggested: float
    cells: int  # cells meeting the suggested threshold
    total: int

    kind = "tighten"


def relax(result: Result) -> Relax | None:
    """When no cell is green and must-haves were asked: the one to relax (see the module)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    must = result.query.must
    if not must or result.counts["green"] or not result.total:
        return None
    rows = _rows(result.matrix, result.query, [w.id for w in must])
    thresholds = [result.query.threshold_of(w) for w in must]
    missed = np.empty((len(must), result.total), dtype=bool)  # must-have × cell
    for j, (w, row) in enumerate(zip(must, rows, strict=True)):
        np.logical_not(_passes(row, w.criterion, thresholds[j]), out=missed[j])
    others_met = (missed.sum(axis=0, dtype="int16")[None, :] - missed) == 0
    alone = missed & others_met
    failing, blocking = missed.sum(axis=1), alone.sum(axis=1)
    # Most blocked cells first, then most missed, then the order asked.
    j = int(np.lexsort((np.arange(len(must)), -failing, -blocking))[0])
    criterion, row = must[j].criterion, rows[j]
    candidates = row[alone[j] & np.isfinite(row)]
    suggested, cells = None, 0
    if len(candidates):
        nearest = candidates.min() if criterion.direction == "lower" else candidates.max()
        suggested = step_towards(criterion, float(nearest), looser=True)
        cells = int((others_met[j] & _passes(row, criterion, suggested)).sum())
    return Relax(
        criterion=criterion,
        threshold=thresholds[j],
        failing=int(failing[j]),
        blocking=int(blocking[j]),
        suggested=suggested,
        cells=cells,
        unknown=bool(blocking[j]) and not len(candidates),
    )


def tighten(result: Result) -> Tighten | None:
    """When every cell (two or more) is green: a criterion that splits them (see the module)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    n = result.total
    if n < 2 or result.counts["green"] != n:
        return None
    asked = {w.id: w for w in result.query.criteria}
    criteria = [w.criterion for w in result.query.criteria]
    criteria += [c for c in CRITERIA if c.id not in asked]
    # The median is taken over an even sample of at most MEDIAN_SAMPLE cells (France has
    # 550 000): it only places a readable threshold; the cells it keeps are counted over all.
    step = max(1, n // MEDIAN_SAMPLE)
    best = None
    for k, (c, row) in enumerate(
        zip(criteria, _rows(result.matrix, result.query, [c.id for c in criteria]), strict=True)
    ):
        sample = row[::step]
        sample = sample[np.isfinite(sample)]
        if len(sample) < 2:
            continue
        median = float(np.median(sample))
        wanted = asked.get(c.id)
        for looser in (False, True):  # the median rounded towards strictness, else away
            suggested = step_towards(c, median, looser)
            if wanted is not None and not _stricter(wanted, suggested, result):
                continue
            count = int(np.count_nonzero(_passes(row, c, suggested)))
            if not 0 < count < n:
                continue
            key = (wanted is None, abs(2 * count - n), looser, k)
            if best is None or key < best[0]:
                best = (key, c, suggested, count)
    if best is None:
        return None
    _key, c, suggested, count = best
    wanted = asked.get(c.id)
    return Tighten(
        criterion=c,
        importance=wanted.importance if wanted else None,
        threshold=result.query.threshold_of(wanted) if wanted else None,
        suggested=suggested,
        cells=count,
        total=n,
    )


def _stricter(wanted: Wanted, suggested: float, result: Result) -> bool:
    """A nice-to-have made a must-have tightens at any threshold; a must-have only below its
    own ("at most") or above it ("at least")."""
    if wanted.importance == "nice":
        return True
    current = result.query.threshold_of(wanted)
    return suggested < current if wanted.criterion.direction == "lower" else suggested > current


def advice(result: Result | None) -> Relax | Tighten | None:
    if result is None:
        return None
    return relax(result) or tighten(result)


def telling(result: Result, limit: int = 3) -> list[Wanted]:
    """The asked criteria that tell the cells apart most, at most `limit`: first those that
    split the cells most evenly between met and missed, then those whose values spread most
    (relative to the threshold), then in the order asked."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    asked = list(result.query.criteria)
    n = result.total
    if not asked or not n:
        return []
    keys = []
    for k, (w, row) in enumerate(
        zip(asked, _rows(result.matrix, result.query, [w.id for w in asked]), strict=True)
    ):
        threshold = result.query.threshold_of(w)
        met = np.count_nonzero(_passes(row, w.criterion, threshold)) / n
        # fmax/fmin skip unknown values (NaN only when every value is unknown)
        spread = float(np.fmax.reduce(row)) - float(np.fmin.reduce(row))
        spread = spread / max(abs(threshold), 1.0) if spread == spread else 0.0
        keys.append((-min(met, 1 - met), -spread, k))
    return [asked[k] for *_rest, k in sorted(keys)[:limit]]
