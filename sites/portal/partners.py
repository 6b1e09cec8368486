"""The portal's partner territories: the active territories whose subscription covers the base
offer today, and where each one's cells lie in the national matrix (read from their own
schemas by a bounded fan-out, kept a minute per process), so that a national search names the
partners where the criteria hold, best first."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.extensions import db
from core.fanout import read_many
from core.registry import primary_hosts, territories
from core.signals import entitlements_changed
from core.tenancy import TenantRef
from ingest.reference.territory import TerritoryCell
from sites.search.engine import Result
from sites.search.national import NationalMatrix
from tenants.entitlements import Feature, entitled

if TYPE_CHECKING:
    import numpy as np

#: How long a process keeps the partners and their cells (seconds).
KEEP_SECONDS = 60


@dataclass(frozen=True)
class Partner:
    territory: TenantRef
    #: Its cells' positions in the national matrix (those the matrix holds).
    cells: np.ndarray
    #: The host of its own site (links are built on it without asking the registry again).
    host: str


@dataclass(frozen=True)
class Holding:
    """A partner where a national search holds: its green cells among its cells."""

    partner: Partner
    green: int

    @property
    def cells(self) -> int:
        return len(self.partner.cells)

    @property
    def share(self) -> float:
        return self.green / self.cells if self.cells else 0.0


def partner_territories() -> list[TenantRef]:
    """Active territories whose subscription covers the base offer today, by name."""
    refs = [r for r in territories(db.session) if r.active and entitled(r, Feature.base)]
    db.session.rollback()
    return sorted(refs, key=lambda r: r.name)


def _cell_ids(_ref: TenantRef) -> list[str]:
    return list(db.session.execute(select(TerritoryCell.cell_id)).scalars())


_lock = threading.Lock()
_kept: dict[str, object] = {"version": None, "until": 0.0, "partners": []}


def partners(matrix: NationalMatrix) -> list[Partner]:
    """The partners and their cells in `matrix` (a partner that cannot be read is left out of
    this minute's list, and logged)."""
    now = time.monotonic()
    if _kept["version"] == matrix.version and now < _kept["until"]:
        return _kept["partners"]
    with _lock:
        if _kept["version"] == matrix.version and now < _kept["until"]:
            return _kept["partners"]
        refs = partner_territories()
        hosts = primary_hosts(db.session, [r.id for r in refs])
        db.session.rollback()
        reads = read_many(refs, _cell_ids)
        found = []
        for ref in refs:
            ids = reads[ref.id].value
            if ids is None:
                continue
            index = matrix.indices(ids)
            found.append(Partner(ref, index[index >= 0], hosts[ref.id]))
        _kept.update(version=matrix.version, until=now + KEEP_SECONDS, partners=found)
        return found


def forget(_sender=None, **_data) -> None:
    """Read the partners again at the next search (a territory's subscription changed here;
    other processes see it within KEEP_SECONDS)."""
    _kept.update(version=None, until=0.0, partners=[])


entitlements_changed.connect(forget)


def partner_mask(matrix: NationalMatrix) -> np.ndarray:
    """True for each national cell that lies in a partner territory (the map marks them)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    found = partners(matrix)
    mask = _kept.get("mask")
    if mask is None or _kept.get("mask_of") is not found:
        mask = np.zeros(len(matrix), dtype=bool)
        for partner in found:
            mask[partner.cells] = True
        _kept.update(mask=mask, mask_of=found)
    return mask


def holding_cell(matrix: NationalMatrix, position: int) -> list[Partner]:
    """The partners whose land holds the square at `position` (a commune, its communauté…)."""
    return [p for p in partners(matrix) if (p.cells == position).any()]


def holding(result: Result, limit: int | None = None) -> list[Holding]:
    """The partners holding green cells for this national search: most green cells first, then
    the highest share of their land, then by name."""
    out = []
    for partner in partners(result.matrix):
        if not len(partner.cells):
            continue
        green = int((result.fails[partner.cells] == 0).sum())
        if green:
            out.append(Holding(partner, green))
    out.sort(key=lambda h: (-h.green, -h.share, h.partner.territory.name))
    return out[:limit] if limit else out
