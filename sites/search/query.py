"""A search as asked: the criteria wanted, the budget and household, and the checks on its body.

Budget and household
    The budget (euros) is a purchase budget. With it, `homes_count` counts the homes for sale
    priced at most the budget, and the homes to rent whose monthly rent plus charges is at most
    budget / 240 (the rent of a home worth the budget at a 5 % gross yield, the usual order of
    magnitude in France). It also caps the asked median prices per m² (`house_price_m2`,
    `flat_price_m2`) at budget / needed area, the needed area being 20 m² + 15 m² per person of
    the household (one adult when no household is given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ingest.reference.criteria import BY_ID, CRITERIA, Criterion
from sites.search.values import snap

#: Needed living area: BASE_AREA m² + PER_PERSON_AREA m² per person of the household.
BASE_AREA, PER_PERSON_AREA = 20.0, 15.0
#: A monthly rent fits a purchase budget when ≤ budget / RENT_DIVISOR (5 % gross yield).
RENT_DIVISOR = 240.0
MAX_CRITERIA = len(CRITERIA)
MAX_BUDGET = 100_000_000
MAX_PEOPLE = 20
#: The largest sensible threshold per unit (a larger one is surely a typing error).
MAX_THRESHOLD = {
    "km": 500.0,
    "count": 10_000.0,
    "€/m²": 100_000.0,
    "inh./km²": 100_000.0,
    "%": 100.0,
    "€/year": 1_000_000.0,
}
_PRICE_CRITERIA = ("house_price_m2", "flat_price_m2")
_NUMBERS = (int, float)
_CRITERION_KEYS = frozenset(("id", "threshold", "importance"))
#: Each criterion's largest threshold (MAX_THRESHOLD of its unit).
_CEILING = {c.id: MAX_THRESHOLD.get(c.unit, 1e9) for c in CRITERIA}


class QueryError(ValueError):
    """A refused search: `errors` maps JSON paths (`criteria[2].threshold`) to messages."""

    def __init__(self, field: str | None = None, message=None, errors=None):
        self.errors: dict[str, list] = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, []).append(message)
        first = next(iter(self.errors.items()), ("", [""]))
        super().__init__(f"{first[0]}: {first[1][0]}")


@dataclass(frozen=True)
class Wanted:
    """One criterion of a search."""

    id: str
    threshold: float
    importance: str  # must | nice

    @property
    def criterion(self) -> Criterion:
        return BY_ID[self.id]


@dataclass(frozen=True)
class Query:
    criteria: tuple[Wanted, ...] = ()
    budget: float | None = None
    adults: int | None = None
    children: int | None = None

    @property
    def must(self) -> list[Wanted]:
        return [w for w in self.criteria if w.importance == "must"]

    @property
    def nice(self) -> list[Wanted]:
        return [w for w in self.criteria if w.importance == "nice"]

    @property
    def needed_area_m2(self) -> float:
        return BASE_AREA + PER_PERSON_AREA * ((self.adults or 1) + (self.children or 0))

    def threshold_of(self, wanted: Wanted) -> float:
        """The threshold the cells are held to, as it is shown (`values.snap`): the budget may
        lower an asked price per m²."""
        threshold = wanted.threshold
        if self.budget is not None and wanted.id in _PRICE_CRITERIA:
            threshold = min(threshold, self.budget / self.needed_area_m2)
        return snap(wanted.criterion, threshold)

    def as_json(self) -> dict:
        """The query as a request body (saved searches, lead snapshots)."""
        out: dict = {
            "criteria": [
                {"id": w.id, "threshold": w.threshold, "importance": w.importance}
                for w in self.criteria
            ]
        }
        if self.budget is not None:
            out["budget"] = self.budget
        if self.adults is not None:
            out["household"] = {"adults": self.adults, "children": self.children or 0}
        return out


def _number(value) -> bool:
    return type(value) in _NUMBERS  # exactly what json.loads makes: a bool is neither


def parse_query(data, extra: tuple[str, ...] = ()) -> Query:
    """Check a search body; every problem is reported under its JSON path (QueryError).

    `extra` names top-level keys a caller handles itself (`cell` for the panel).
    """
    errors: dict[str, list] = {}

    def refuse(path: str, message) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(data, dict):
        raise QueryError("body", _l("The body must be a JSON object."))
    for key in data:
        if key not in ("criteria", "budget", "household", *extra):
            refuse(str(key), _l("Unknown field."))
    criteria = data.get("criteria", [])
    wanted: list[Wanted] = []
    if not isinstance(criteria, list):
        refuse("criteria", _l("Must be a list of criteria."))
    elif len(criteria) > MAX_CRITERIA:
        refuse("criteria", _l("At most %(n)s criteria.", n=MAX_CRITERIA))
    else:
        seen: dict[str, int] = {}
        for i, item in enumerate(criteria):
            one = _parse_criterion(item, i, refuse)
            if one is None:
                continue
            if one.id in seen:
                refuse(
                    f"criteria[{i}].id",
                    _l(
                        "Criterion %(id)s is already at criteria[%(i)s].", id=one.id, i=seen[one.id]
                    ),
                )
                continue
            seen[one.id] = i
            wanted.append(one)
    budget = data.get("budget")
    if budget is not None:
        if not _number(budget) or not math.isfinite(budget):
            refuse("budget", _l("Must be a number of euros."))
            budget = None
        elif not 0 < budget <= MAX_BUDGET:
            refuse("budget", _l("Must be between 1 and %(max)s euros.", max=MAX_BUDGET))
            budget = None
    adults = children = None
    household = data.get("household")
    if household is not None:
        if not isinstance(household, dict):
            refuse("household", _l("Must be an object with adults and children."))
        else:
            for key in household:
                if key not in ("adults", "children"):
                    refuse(f"household.{key}", _l("Unknown field."))
            adults = _people(household, "adults", 1, 1, refuse)
            children = _people(household, "children", 0, 0, refuse)
    if errors:
        raise QueryError(errors=errors)
    return Query(tuple(wanted), float(budget) if budget is not None else None, adults, children)


def _people(household: dict, key: str, default: int, least: int, refuse) -> int | None:
    value = household.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        refuse(f"household.{key}", _l("Must be a whole number."))
        return None
    if not least <= value <= MAX_PEOPLE:
        refuse(
            f"household.{key}",
            _l("Must be between %(min)s and %(max)s.", min=least, max=MAX_PEOPLE),
        )
        return None
    return value


def _parse_criterion(item, i: int, refuse) -> Wanted | None:
    """A well-formed criterion at once (a search body holds thirty); any other is checked field
    by field, every problem reported."""
    if type(item) is dict and item.keys() <= _CRITERION_KEYS:
        cid = item.get("id")
        criterion = BY_ID.get(cid) if type(cid) is str else None
        if criterion is not None:
            threshold = item.get("threshold", criterion.threshold)
            importance = item.get("importance", "must")
            if (
                type(threshold) in _NUMBERS
                and 0 <= threshold <= _CEILING[cid]  # NaN fails both, infinity the second
                and importance in ("must", "nice")
            ):
                return Wanted(cid, float(threshold), importance)
    return _check_criterion(item, f"criteria[{i}]", refuse)


def _check_criterion(item, path: str, refuse) -> Wanted | None:
    if not isinstance(item, dict):
        refuse(path, _l("Must be an object with id, threshold and importance."))
        return None
    ok = True
    for key in item:
        if key not in ("id", "threshold", "importance"):
            refuse(f"{path}.{key}", _l("Unknown field."))
            ok = False
    cid = item.get("id")
    if not isinstance(cid, str):
        refuse(f"{path}.id", _l("Missing or not a text: a criterion id is needed."))
        return None
    criterion = BY_ID.get(cid)
    if criterion is None:
        refuse(f"{path}.id", _l("Unknown criterion %(id)s.", id=cid[:60]))
        return None
    threshold = item.get("threshold", criterion.threshold)
    if not _number(threshold) or not math.isfinite(threshold):
        refuse(f"{path}.threshold", _l("Must be a number."))
        ok = False
    else:
        ceiling = MAX_THRESHOLD.get(criterion.unit, 1e9)
        if threshold < 0:
            refuse(f"{path}.threshold", _l("Must not be negative."))
            ok = False
        elif threshold > ceiling:
            refuse(
                f"{path}.threshold",
                _l("At most %(max)s %(unit)s.", max=f"{ceiling:g}", unit=criterion.unit),
            )
            ok = False
    importance = item.get("importance", "must")
    if importance not in ("must", "nice"):
        refuse(f"{path}.importance", _l("Must be “must” or “nice”."))
        ok = False
    return Wanted(cid, float(threshold), importance) if ok else None
