"""A territory's cell × criterion matrix, loaded once per process and reloaded when it changes.

The matrix
    One row per criterion of the catalogue (CRITERIA order), one column per cell of the bound
    territory (TerritoryCell, sorted by id: the layer order the map's geometry uses; an
    umbrella's territory_cells already hold its members' cells). Stored criteria come from
    `cell_profiles`, rounded as they are shown (km and % to one decimal, the rest whole: see
    sites/search/values.py); the listing criteria (`jobs_count`, `homes_count`,
    `businesses_count`) count the published listings per cell of the territory: its own and,
    for a communauté, département or umbrella, those of its member sites (the same members its
    listing pages show: ingest.reference.territory.member_territories), read schema by schema.
    Values are float32; NaN means unknown (no profile, or no point of that type anywhere): an
    unknown value fails a must-have and earns 0 as a nice-to-have.

Cache
    The matrix of a territory is loaded once per process and kept with the version tokens it was
    built from (sites.search.freshness: national profiles, the territory's cells, its listings
    and its members'). It is reloaded when a token differs; while the process's subscription
    hears no change, it is served without asking Redis. While Redis is away, a matrix is trusted
    _FALLBACK_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import text

from core.extensions import db
from core.fanout import read_in
from core.tenancy import TenantRef
from ingest.reference.criteria import CRITERIA, round_rows
from ingest.reference.territory import member_territories
from sites.search import freshness

if TYPE_CHECKING:
    import numpy as np

LISTING_KINDS = {c.params["kind"]: c.id for c in CRITERIA if c.method == "listings"}
ROW = {c.id: i for i, c in enumerate(CRITERIA)}
#: When Redis cannot be read, a matrix is trusted this long (seconds).
_FALLBACK_SECONDS = 30
_STORED = [c for c in CRITERIA if c.stored]
_LISTINGS_SQL = text(
    """
    SELECT kind, cell_id, transaction, price, charges FROM listings
    WHERE status = 'published' AND cell_id IS NOT NULL AND kind = ANY(:kinds)
    """
)


def _empty(dtype) -> np.ndarray:
    """An empty array of `dtype` (a matrix without homes)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    return np.empty(0, dtype)


@dataclass
class Matrix:
    """A territory's cells (sorted ids), their main commune, and every criterion's values."""

    ids: np.ndarray  # unicode, sorted
    communes: list
    values: np.ndarray  # float32, (len(CRITERIA), len(ids))
    #: Homes of the territory: cell index, for sale (else to rent), price or monthly cost.
    home_cell: np.ndarray = field(default_factory=lambda: _empty("int64"))
    home_sale: np.ndarray = field(default_factory=lambda: _empty(bool))
    home_price: np.ndarray = field(default_factory=lambda: _empty("float64"))
    tokens: tuple = ()
    members: tuple = ()
    loaded_at: float = 0.0
    #: (listener, its generation when the tokens were read, until when): see matrix_of.
    trust: tuple = (None, None, 0.0)
    version: str = ""

    def __post_init__(self):
        if not self.version:
            digest = hashlib.sha1(usedforsecurity=False)
            digest.update("\n".join(self.ids.tolist()).encode())
            self.version = digest.hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def ids_json(self) -> np.ndarray:
        """Each cell id as a JSON string (objects), written once per matrix for full answers."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        return np.array([json.dumps(i, ensure_ascii=False) for i in self.ids.tolist()], object)

    def cell_ids(self, where) -> list[str]:
        """The ids of the cells `where` selects (a mask or positions)."""
        return self.ids[where].tolist()

    def index_of(self, cell_id: str) -> int | None:
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        i = int(np.searchsorted(self.ids, cell_id))
        return i if i < len(self.ids) and self.ids[i] == cell_id else None

    def indices(self, cells: list[str]) -> np.ndarray:
        """Column of each cell id in the matrix, -1 for a cell outside the territory."""
        import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

        if not cells:
            return np.empty(0, "int64")
        wanted = np.array(cells, dtype="U40")
        index = np.searchsorted(self.ids, wanted).clip(0, len(self) - 1)
        return np.where(self.ids[index] == wanted, index, -1)


_cache: dict[str, Matrix] = {}
_lock = threading.Lock()


def matrix_of(tenant: TenantRef) -> Matrix:
    """The bound territory's matrix, reloaded when its tokens changed (see sites.search.freshness:
    no Redis round trip while the process hears every change)."""
    listener = freshness.listener()
    entry = _cache.get(tenant.slug)
    if entry is not None and _trusted(entry, listener):
        return entry
    stamp = listener.stamp()  # before the tokens: a bump heard after them voids the check
    members = entry.members if entry is not None else ()
    tokens = freshness.tokens(tenant.slug, members)
    if entry is not None and _fresh(entry, tokens):
        _trust(entry, listener, stamp, tokens)
        return entry
    with _lock:  # one load at a time per process; others wait and reuse it
        entry = _cache.get(tenant.slug)
        if entry is not None and _fresh(entry, freshness.tokens(tenant.slug, entry.members)):
            return entry
        members = _member_refs(tenant)
        member_slugs = tuple(m.slug for m in members)
        stamp = listener.stamp()
        tokens = freshness.tokens(tenant.slug, member_slugs)  # before the rows: never stale
        entry = _load(members)
        entry.tokens, entry.members, entry.loaded_at = tokens, member_slugs, time.monotonic()
        _trust(entry, listener, stamp, tokens)
        _cache[tenant.slug] = entry
        return entry


def _trusted(entry: Matrix, listener: freshness.Listener) -> bool:
    return (
        entry.trust[0] is listener
        and listener.current(entry.trust[1])
        and time.monotonic() < entry.trust[2]
    )


def _trust(entry: Matrix, listener: freshness.Listener, stamp: int | None, tokens) -> None:
    """Trusted without asking Redis until the listener hears anything after `stamp`; never when
    the tokens could not be read."""
    until = time.monotonic() + freshness.VERIFY_SECONDS
    entry.trust = (listener, stamp if tokens is not None else None, until)


def _fresh(entry: Matrix, tokens: tuple | None) -> bool:
    if tokens is None or entry.tokens is None:
        return time.monotonic() - entry.loaded_at < _FALLBACK_SECONDS
    return entry.tokens == tokens


def cell_order(tenant: TenantRef) -> tuple[str, list[str]]:
    """(version, cell ids): the order of the geometry layer and of compact statuses. The
    version is a digest of the ids, so it changes exactly when the cells do."""
    m = matrix_of(tenant)
    return m.version, m.ids.tolist()


def _member_refs(tenant: TenantRef) -> list[TenantRef]:
    """The territories whose listings this one's matrix counts too: the members its listing
    pages show (one definition; the commune sites within a communauté included)."""
    return member_territories(tenant)


def _published_listings() -> list:
    return list(db.session.execute(_LISTINGS_SQL, {"kinds": list(LISTING_KINDS)}).all())


def _load(members: list[TenantRef]) -> Matrix:
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

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
        round_rows(stored, _STORED)  # compared as shown: see sites/search/values.py
        values[[ROW[c.id] for c in _STORED]] = stored
    m = Matrix(ids, [r[1] for r in rows], values)
    listings = _published_listings()
    for member in members:  # member sites: explicit fan-out, one schema at a time
        listings += read_in(member, _published_listings)
    _count_listings(m, listings)
    return m


def _count_listings(m: Matrix, listings: list) -> None:
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    if not len(m):
        return
    homes = []
    for kind, cid in LISTING_KINDS.items():
        cells = [r[1] for r in listings if r[0] == kind]
        index = m.indices(cells)
        m.values[ROW[cid]] = np.bincount(index[index >= 0], minlength=len(m))
        if kind == "real_estate":
            homes = [r for r in listings if r[0] == kind]
            m.home_cell = index
    m.home_sale = np.array([r[2] != "rent" for r in homes], dtype=bool)
    m.home_price = np.array(
        [float(r[3]) + (float(r[4] or 0) if r[2] == "rent" else 0.0) for r in homes],
        dtype="float64",
    )
