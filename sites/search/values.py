"""Criterion values for people: one rounding and one wording per unit, for every search output.

Rounding
    A value is kept at the precision it is shown with (`DECIMALS`, beside the criteria in
    ingest/reference/criteria.py: km and % to one decimal, the rest whole): the matrices store
    values rounded so (`round_rows`), so that the engine compares the very number a person reads.
    A threshold is held at one decimal more than its values (`snap`), rounded towards strictness
    (down for "at most", up for "at least"): on values of the coarser grid this keeps exactly the
    same cells passing, and the threshold shown is the one compared. Hence never "1,0 km, asked
    1 km: not met".

Wording
    `text` (a value) and `threshold_text` write them in the reader's language with their unit
    ("2,4 km", "2 500 €/m²", "12,5 %"); the table, the summary, the cell panel and the API's
    cell explanation all use them.
"""

from __future__ import annotations

import math

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from ingest.reference.criteria import DECIMALS, Criterion, decimals

#: Written after a number, per unit; a count's label already says what is counted.
UNIT_WORDS = {
    "km": _l("km"),
    "€/m²": _l("€/m²"),
    "inh./km²": _l("inhabitants/km²"),
    "%": _l("%"),
    "€/year": _l("€/year"),
}
#: Readable steps a suggested threshold is rounded to, per unit.
STEPS = {"km": 1.0, "count": 1.0, "€/m²": 100.0, "inh./km²": 10.0, "%": 1.0, "€/year": 500.0}
_NBSP = "\u00a0"


def threshold_decimals(criterion: Criterion) -> int:
    """A threshold may carry one decimal more than the values when they have decimals (2,35 km
    between 2,3 and 2,4); whole-number units take whole thresholds (at least 2,5 → 3)."""
    d = decimals(criterion)
    return d + 1 if d else 0


def rounded(criterion: Criterion, value) -> float | int | None:
    """A value as shown (None when unknown): km and % to one decimal, the rest whole."""
    value = float(value)
    if not math.isfinite(value):
        return None
    d = decimals(criterion)
    return round(value, d) if d else int(round(value))


def snap(criterion: Criterion, threshold: float) -> float:
    """The threshold as compared and shown: at `threshold_decimals`, rounded towards strictness
    (a tiny tolerance first, so that 2.35 typed stays 2.35 despite its binary form)."""
    scale = 10 ** threshold_decimals(criterion)
    scaled = float(threshold) * scale
    if criterion.direction == "lower":
        return math.floor(scaled + 1e-6) / scale
    return math.ceil(scaled - 1e-6) / scale


def shown_threshold(criterion: Criterion, threshold: float) -> float | int:
    """A snapped threshold as a JSON number: whole units as integers."""
    value = snap(criterion, threshold)
    return value if threshold_decimals(criterion) else int(value)


def unit_word(criterion: Criterion) -> str:
    word = UNIT_WORDS.get(criterion.unit)
    return str(word) if word is not None else ""


def _with_unit(criterion: Criterion, number: str) -> str:
    word = unit_word(criterion)
    return f"{number}{_NBSP}{word}" if word else number


def text(criterion: Criterion, value) -> str:
    """A value in the reader's language with its unit ("2,4 km"); "" when unknown (callers say
    "unknown" in their own words)."""
    return measure(criterion.unit, value)


def measure(unit: str, value) -> str:
    """A value of `unit` rounded and worded as every output words it: the one place numbers
    with units are written ("2,4 km", "2 500 €/m²"); "" when unknown."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        return ""
    d = DECIMALS.get(unit, 0)
    pattern = "#,##0." + "0" * d if d else "#,##0"
    number = format_decimal(round(value, d) if d else int(round(value)), format=pattern)
    word = UNIT_WORDS.get(unit)
    return f"{number}{_NBSP}{word}" if word is not None else number


def km(value) -> str:
    """A distance that is no criterion's (a listing's nearest amenities, "my place")."""
    return measure("km", value)


def threshold_text(criterion: Criterion, threshold: float) -> str:
    """A threshold as compared, with as many decimals as it has ("10 km", "2,35 km")."""
    d = threshold_decimals(criterion)
    pattern = "#,##0." + "#" * d if d else "#,##0"
    return _with_unit(criterion, format_decimal(snap(criterion, threshold), format=pattern))


def step_towards(criterion: Criterion, value: float, looser: bool) -> float:
    """`value` rounded to the unit's readable step: away from strictness when `looser` (a
    relaxed threshold that keeps `value` passing), towards it otherwise."""
    step = STEPS.get(criterion.unit, 1.0)
    up = (criterion.direction == "lower") == looser
    k = math.ceil(value / step - 1e-9) if up else math.floor(value / step + 1e-9)
    return k * step
