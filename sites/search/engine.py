"""The scoring engine: a territory's cell × criterion matrix, cached per process, and the search.

The matrix
    One row per criterion of the catalogue (CRITERIA order), one column per cell of the bound
    territory (TerritoryCell, sorted by id: the layer order the map's geometry uses; an
    umbrella's territory_cells already hold its members' cells). Stored criteria come from
    `cell_profiles`; the listing criteria (`jobs_count`, `homes_count`, `businesses_count`) count
    the published listings per cell of the territory (for an umbrella: its own and its current
    members', read schema by schema). Values are float32; NaN means unknown (no profile, or no
    point of that type anywhere): an unknown value fails a must-have and earns 0 as a
    nice-to-have.

Statuses and score
    A must-have passes when value ≤ threshold (direction "lower") or value ≥ threshold
    ("higher"). A cell is green when every must-have passes, orange when exactly one fails,
    yellow when more fail. The score (0 to 1) is the mean closeness over the nice-to-haves: a
    met one counts 1, a missed one threshold/value ("lower": 10 km asked, 12.5 km found → 0.8)
    or value/threshold ("higher": 3 asked, 2 found → 0.67), an unknown one 0. With no
    nice-to-have the score is null. `precise` is true when at most 200 cells are green (with no
    must-have at all every cell is green).

Budget and household
    The budget (euros) is a purchase budget. With it, `homes_count` counts the homes for sale
    priced at most the budget, and the homes to rent whose monthly rent plus charges is at most
    budget / 240 (the rent of a home worth the budget at a 5 % gross yield, the usual order of
    magnitude in France). It also caps the asked median prices per m² (`house_price_m2`,
    `flat_price_m2`) at budget / needed area, the needed area being 20 m² + 15 m² per person of
    the household (one adult when no household is given).

Cache
    The matrix of a territory is loaded once per process and kept with the version tokens it was
    built from: a national one (bumped when `profiles_changed` is announced), and per territory
    one for its cells (`cells_changed`) and one for its listings (`listings_changed`, announced
    by every write path of listings). The signals (core.signals) are sent after the commit.
    Each search reads the tokens in one Redis round trip and reloads when any differs.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import text

from core import grid, signals
from core.extensions import db, redis_connection
from core.registry import members_of
from core.tenancy import TenantRef, engine_for, quote, schema_for
from ingest.reference.criteria import BY_ID, CRITERIA, Criterion

#: Cells beyond which a search is not precise (too many green cells to make someone a contact).
PRECISE_MAX = 200
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
#: Decimals shown per unit.
DECIMALS = {"km": 1, "%": 1}
LISTING_KINDS = {c.params["kind"]: c.id for c in CRITERIA if c.method == "listings"}
ROW = {c.id: i for i, c in enumerate(CRITERIA)}
STATUS_NAMES = ("green", "orange", "yellow")
_STATUS_CHARS = np.frombuffer(b"goy", dtype="S1")
_PRICE_CRITERIA = ("house_price_m2", "flat_price_m2")
_REDIS_PREFIX = "vivrau:search:"
#: When Redis cannot be read, a matrix is trusted this long (seconds).
_FALLBACK_SECONDS = 30


# --- the query --------------------------------------------------------------------------------


class QueryError(ValueError):
    """A refused search: `errors` maps JSON paths (`criteria[2].threshold`) to messages."""

    def __init__(self, field: str | None = None, message=None, errors=None):
        self.errors: dict[str, list] = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, []).append(message)
        first = next(iter(self.errors.items()), ("", [""]))
        super().__init__(f"{first[0]}: {first[1][0]}")

    @property
    def field(self) -> str:
        return next(iter(self.errors), "")


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
        """The threshold the cells are held to: the budget may lower an asked price per m²."""
        if self.budget is not None and wanted.id in _PRICE_CRITERIA:
            return min(wanted.threshold, self.budget / self.needed_area_m2)
        return wanted.threshold

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
    return isinstance(value, int | float) and not isinstance(value, bool)


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
            one = _parse_criterion(item, f"criteria[{i}]", refuse)
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


def _parse_criterion(item, path: str, refuse) -> Wanted | None:
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


# --- the matrix and its cache -------------------------------------------------------------------


@dataclass
class Matrix:
    """A territory's cells (sorted ids), their main commune, and every criterion's values."""

    ids: np.ndarray  # unicode, sorted
    communes: list
    values: np.ndarray  # float32, (len(CRITERIA), len(ids))
    #: Homes of the territory: cell index, for sale (else to rent), price or monthly cost.
    home_cell: np.ndarray = field(default_factory=lambda: np.empty(0, "int64"))
    home_sale: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    home_price: np.ndarray = field(default_factory=lambda: np.empty(0, "float64"))
    tokens: tuple = ()
    members: tuple = ()
    loaded_at: float = 0.0
    version: str = ""

    def __post_init__(self):
        if not self.version:
            digest = hashlib.sha1(usedforsecurity=False)
            digest.update("\n".join(self.ids.tolist()).encode())
            self.version = digest.hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, cell_id: str) -> int | None:
        i = int(np.searchsorted(self.ids, cell_id))
        return i if i < len(self.ids) and self.ids[i] == cell_id else None


_cache: dict[str, Matrix] = {}
_lock = threading.Lock()


def _keys(slug: str, members: tuple[str, ...]) -> list[str]:
    keys = [f"{_REDIS_PREFIX}profiles", f"{_REDIS_PREFIX}cells:{slug}"]
    return keys + [f"{_REDIS_PREFIX}listings:{s}" for s in (slug, *members)]


def _tokens(slug: str, members: tuple[str, ...]) -> tuple | None:
    try:
        return tuple(redis_connection().mget(_keys(slug, members)))
    except RedisError:
        return None


def _bump(*keys: str) -> None:
    """A fresh random token, not a counter: an emptied Redis never brings an old value back."""
    try:
        token = uuid.uuid4().hex[:12]
        redis_connection().mset(dict.fromkeys(keys, token))
    except RedisError:
        pass  # the matrices are trusted only _FALLBACK_SECONDS while Redis is away


@signals.profiles_changed.connect
def profiles_changed(sender=None, **_data) -> None:
    """The national profiles changed (build-profiles, loaders): every matrix reloads."""
    _bump(f"{_REDIS_PREFIX}profiles")


@signals.cells_changed.connect
def cells_changed(tenant: TenantRef, **_data) -> None:
    """A territory's cells changed (refresh_cells): its matrix and its layer order reload."""
    _bump(f"{_REDIS_PREFIX}cells:{tenant.slug}")


@signals.listings_changed.connect
def listings_changed(tenant: TenantRef, **_data) -> None:
    """A territory's listings changed (announced after the commit: bumped before it, a
    concurrent search could cache the old rows under the new token): its matrix and its
    umbrellas', which read its tokens, reload."""
    _bump(f"{_REDIS_PREFIX}listings:{tenant.slug}")


def matrix(tenant: TenantRef) -> Matrix:
    """The bound territory's matrix, reloaded when its tokens changed."""
    entry = _cache.get(tenant.slug)
    members = entry.members if entry is not None else ()
    tokens = _tokens(tenant.slug, members)
    if entry is not None and _fresh(entry, tokens):
        return entry
    with _lock:  # one load at a time per process; others wait and reuse it
        entry = _cache.get(tenant.slug)
        if entry is not None and _fresh(entry, _tokens(tenant.slug, entry.members)):
            return entry
        members = _member_refs(tenant)
        member_slugs = tuple(m.slug for m in members)
        tokens = _tokens(tenant.slug, member_slugs)  # read before the rows: never stale-cached
        entry = _load(members)
        entry.tokens, entry.members, entry.loaded_at = tokens, member_slugs, time.monotonic()
        _cache[tenant.slug] = entry
        return entry


def _fresh(entry: Matrix, tokens: tuple | None) -> bool:
    if tokens is None or entry.tokens is None:
        return time.monotonic() - entry.loaded_at < _FALLBACK_SECONDS
    return entry.tokens == tokens


def clear_cache() -> None:
    _cache.clear()


def cell_order(tenant: TenantRef) -> tuple[str, list[str]]:
    """(version, cell ids): the order of the geometry layer and of compact statuses. The
    version is a digest of the ids, so it changes exactly when the cells do."""
    m = matrix(tenant)
    return m.version, m.ids.tolist()


def _member_refs(tenant: TenantRef) -> list[TenantRef]:
    if tenant.kind != "umbrella":
        return []
    return [m.ref() for m in members_of(db.session, tenant.id)]


_STORED = [c for c in CRITERIA if c.stored]
_LISTINGS_SQL = text(
    """
    SELECT kind, cell_id, transaction, price, charges FROM listings
    WHERE status = 'published' AND cell_id IS NOT NULL AND kind = ANY(:kinds)
    """
)


def _load(members: list[TenantRef]) -> Matrix:
    columns = ", ".join(f"COALESCE(p.{c.id}, 'NaN')" for c in _STORED)
    rows = db.session.execute(
        text(
            f"""
            SELECT t.cell_id, t.commune_insee, {columns}
            FROM territory_cells t LEFT JOIN cell_profiles p ON p.cell_id = t.cell_id
            ORDER BY t.cell_id
            """  # noqa: S608 - column names are the catalogue's ids
        )
    ).all()
    ids = np.array([r[0] for r in rows], dtype="U40")
    values = np.full((len(CRITERIA), len(rows)), np.nan, dtype="float32")
    if rows:
        stored = np.array([r[2:] for r in rows], dtype="float64").T
        values[[ROW[c.id] for c in _STORED]] = stored
    m = Matrix(ids, [r[1] for r in rows], values)
    listings = list(db.session.execute(_LISTINGS_SQL, {"kinds": list(LISTING_KINDS)}).all())
    for member in members:  # an umbrella's members: explicit fan-out, one schema at a time
        schema = schema_for(member.slug)
        with engine_for(db.engine, schema).begin() as connection:
            connection.exec_driver_sql(f"SET LOCAL search_path TO {quote(schema)}, public")
            listings += connection.execute(_LISTINGS_SQL, {"kinds": list(LISTING_KINDS)}).all()
    _count_listings(m, listings)
    return m


def _count_listings(m: Matrix, listings: list) -> None:
    if not len(m):
        return
    homes = []
    for kind, cid in LISTING_KINDS.items():
        cells = [r[1] for r in listings if r[0] == kind]
        index = _indices(m, cells)
        m.values[ROW[cid]] = np.bincount(index[index >= 0], minlength=len(m))
        if kind == "real_estate":
            homes = [r for r in listings if r[0] == kind]
            m.home_cell = index
    m.home_sale = np.array([r[2] != "rent" for r in homes], dtype=bool)
    m.home_price = np.array(
        [float(r[3]) + (float(r[4] or 0) if r[2] == "rent" else 0.0) for r in homes],
        dtype="float64",
    )


def _indices(m: Matrix, cells: list[str]) -> np.ndarray:
    """Column of each cell id in the matrix, -1 for a cell outside the territory."""
    if not cells:
        return np.empty(0, "int64")
    wanted = np.array(cells, dtype="U40")
    index = np.searchsorted(m.ids, wanted).clip(0, len(m) - 1)
    return np.where(m.ids[index] == wanted, index, -1)


# --- scoring ----------------------------------------------------------------------------------


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

    def communes_of(self, cells: list[str]) -> list[str]:
        """The main communes of these cells (sorted, distinct)."""
        index = _indices(self.matrix, cells)
        return sorted({self.matrix.communes[i] for i in index if i >= 0} - {None})

    def statuses(self) -> str:
        return _STATUS_CHARS[self.fails].tobytes().decode()

    def compact(self, with_scores: bool = False) -> dict:
        """Statuses as one character per cell in layer order; scores (whole percents) on
        demand: the map recolours from the statuses alone."""
        out = self._head()
        out["statuses"] = self.statuses()
        if with_scores and self.scores is not None:
            out["scores"] = np.rint(self.scores * 100).astype("int64").tolist()
        return out

    def full(self) -> dict:
        """Every cell, best first (status, then score, then id), with its failed must-haves."""
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
    limit = np.float32(threshold)  # compared in the matrix's precision: 2.3 ≤ 2.3 holds
    return row <= limit if criterion.direction == "lower" else row >= limit


def _closeness(row: np.ndarray, criterion: Criterion, threshold: float) -> np.ndarray:
    """1 when the criterion holds, else the ratio of threshold to value; 0 when unknown."""
    limit = np.float32(threshold)
    if limit == 0:  # no ratio to speak of: met or not
        return np.where(_passes(row, criterion, threshold), np.float32(1), np.float32(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = limit / row if criterion.direction == "lower" else row / limit
    # minimum keeps NaN (unknown) and caps a met criterion (ratio ≥ 1, or ∞) at 1; fmax then
    # turns NaN into 0.
    return np.fmax(np.minimum(ratio, np.float32(1)), np.float32(0))


def _compute(m: Matrix, query: Query, columns=slice(None)) -> tuple[np.ndarray, np.ndarray | None]:
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
    fails, scores = _compute(m, query)
    counts = np.bincount(fails, minlength=3)
    return Result(m, query, fails, scores, dict(zip(STATUS_NAMES, counts.tolist(), strict=True)))


def score(tenant: TenantRef, query: Query) -> Result:
    """Score every cell of the territory for a parsed query."""
    return score_matrix(matrix(tenant), query)


# --- one cell, for the panel --------------------------------------------------------------------


def label_of(criterion: Criterion) -> str:
    try:
        english = str(get_locale()) == "en"
    except (RuntimeError, AttributeError):  # no request: the default locale
        english = False
    return criterion.label_en if english else criterion.label_fr


def evaluate_cell(tenant: TenantRef, query: Query, cell_id: str) -> dict:
    """One cell explained: its communes, status, score and each asked criterion's value.
    Raises LookupError when the cell is not the territory's."""
    m = matrix(tenant)
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
