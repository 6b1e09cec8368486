"""Cell profiles: every stored criterion of every cell (`flask geo build-profiles`).

One wide `cell_profiles` row per cell, written with delete + COPY in one transaction, so that a
reader sees the old rows or the new ones, never a mix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.extensions import db
from core.signals import announce, profiles_changed
from ingest.reference.bulk import Progress, copy_binary, session_cursor, tick, vacuum
from ingest.reference.computations import (
    CellsToProfile,
    cells_to_profile,
    point_criteria,
    price_criteria,
    ratio_criteria,
)
from ingest.reference.criteria import Criterion, stored_criteria
from ingest.reference.models import POPULATION_VALUES


def build_profiles(departement: str | None = None, progress: Progress = None) -> int:
    """Compute every stored criterion of the cells of one département (or all of them) and
    replace their `cell_profiles` rows (delete + COPY, one transaction); returns rows written."""
    criteria = stored_criteria()
    for criterion in criteria:
        if criterion.method == "ratio":
            for name in (criterion.params["numerator"], criterion.params.get("denominator")):
                if name is not None and name not in POPULATION_VALUES:
                    raise ValueError(f"{criterion.id}: unknown population column {name!r}")
    try:
        cells = cells_to_profile(departement)
        tick(progress)
        values = {c.id: np.full(len(cells), np.nan) for c in criteria}
        synthetic = np.zeros(len(cells), dtype=bool)
        by_method: dict[str, list[Criterion]] = {}
        for criterion in criteria:
            by_method.setdefault(criterion.method, []).append(criterion)
        if len(cells):
            points = by_method.get("nearest", []) + by_method.get("count_within", [])
            point_criteria(cells, points, departement, values, synthetic, progress)
            prices = by_method.get("median_price", [])
            price_criteria(cells, prices, departement, values, synthetic, progress)
            ratio_criteria(cells, by_method.get("ratio", []), values, synthetic, progress)
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


def _write_profiles(
    cells: CellsToProfile, criteria: Sequence[Criterion], values, synthetic, dep
) -> int:
    """Replace the profiles of these cells (and of the département's others): delete + COPY."""
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
