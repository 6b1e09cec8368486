"""Values and thresholds as people read them: one rounding and wording per unit, and a
comparison that always agrees with what is written ("1,0 km, asked 1 km" is met)."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.reference.criteria import BY_ID, CRITERIA, round_rows
from sites.search.engine import _passes, score_matrix
from sites.search.matrix import ROW, Matrix
from sites.search.query import Query, Wanted
from sites.search.values import rounded, snap, text, threshold_text

NNBSP, NBSP = "\u202f", "\u00a0"


def number(written: str) -> float:
    """A number as the French text writes it, read back."""
    figure = written.split(NBSP)[0] if NBSP in written else written
    return float(figure.replace(NNBSP, "").replace(",", "."))


@pytest.fixture
def french(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def test_one_wording_per_unit_in_french(french):
    c = BY_ID
    assert text(c["gp_km"], 2.44) == f"2,4{NBSP}km"
    assert text(c["gp_km"], 12) == f"12,0{NBSP}km"  # km always with their one decimal
    assert threshold_text(c["gp_km"], 10) == f"10{NBSP}km"
    assert threshold_text(c["gp_km"], 2.35) == f"2,35{NBSP}km"
    assert text(c["house_price_m2"], 2499.6) == f"2{NNBSP}500{NBSP}€/m²"
    assert text(c["poverty_share"], 12.46) == f"12,5{NBSP}%"
    assert text(c["living_standard"], 20000) == f"20{NNBSP}000{NBSP}€/an"
    assert text(c["density"], 151.2) == f"151{NBSP}habitants/km²"
    assert text(c["sport_count"], 3) == "3"  # its label says what is counted
    assert text(c["gp_km"], float("nan")) == ""  # callers say "unknown" themselves


def test_one_wording_per_unit_in_english(english):
    assert text(BY_ID["gp_km"], 2.44) == f"2.4{NBSP}km"
    assert text(BY_ID["living_standard"], 20000) == f"20,000{NBSP}€/year"


def test_thresholds_are_snapped_towards_strictness_keeping_the_same_cells():
    assert snap(BY_ID["gp_km"], 2.35) == 2.35  # despite 2.35's binary form
    assert snap(BY_ID["gp_km"], 2.349) == 2.34  # at most: down
    assert snap(BY_ID["sport_count"], 2.5) == 3  # at least: up (2 facilities do not do)
    assert snap(BY_ID["house_price_m2"], 180_000 / 65) == 2769  # the budget's cap, whole €
    assert snap(BY_ID["under_18_share"], 20.001) == 20.01
    assert rounded(BY_ID["gp_km"], np.float32(1.04)) == 1.0
    assert rounded(BY_ID["house_price_m2"], 2769.5) == 2770


def test_one_km_asked_one_km_found_is_met(french):
    """The issue's case: a GP at 1.04 km, shown "1,0 km", asked "1 km"."""
    values = np.full((len(CRITERIA), 1), np.nan)
    values[ROW["gp_km"]] = 1.04
    round_rows(values)  # as the matrix is loaded
    m = Matrix(np.array(["CRS3035RES1000mN2000000E3000000"], "U40"), [None], values.astype("f4"))
    result = score_matrix(m, Query((Wanted("gp_km", 1, "must"),)))
    assert result.counts["green"] == 1
    shown = m.values[ROW["gp_km"], 0]
    assert (text(BY_ID["gp_km"], shown), threshold_text(BY_ID["gp_km"], 1)) == (
        f"1,0{NBSP}km",
        f"1{NBSP}km",
    )


@pytest.mark.parametrize("cid", ["gp_km", "poverty_share", "sport_count", "house_price_m2"])
def test_what_is_written_always_agrees_with_the_comparison(french, cid):
    """Random values and thresholds (many on or next to each other): a cell meets the
    criterion exactly when the number written for its value meets the number written for the
    threshold."""
    rng = np.random.default_rng(7)
    criterion = BY_ID[cid]
    scale = {"house_price_m2": 5000, "sport_count": 12}.get(cid, 20)
    raw = rng.uniform(0, scale, 400)
    raw[:100] = np.round(raw[:100], 1) + rng.choice([-0.05, -0.04, 0, 0.04, 0.05], 100)
    values = np.full((len(CRITERIA), len(raw)), np.nan)
    values[ROW[cid]] = raw
    round_rows(values)
    row = values[ROW[cid]].astype("float32")
    thresholds = np.concatenate([rng.uniform(0, scale, 40), np.round(raw[:40], 2)])
    for t in thresholds.tolist():
        limit = snap(criterion, max(t, 0.0))
        met = _passes(row, criterion, limit)
        asked = number(threshold_text(criterion, limit))
        for value, ok in zip(row.tolist(), met.tolist(), strict=True):
            shown = number(text(criterion, value))
            agrees = shown <= asked if criterion.direction == "lower" else shown >= asked
            assert ok == agrees, (cid, value, t, text(criterion, value), asked)
