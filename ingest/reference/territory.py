"""A territory's land: the union of its communes, and the 1 km cells that intersect it."""

from __future__ import annotations

from sqlalchemy import String, delete, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from core import grid
from core.db import TenantBase
from core.extensions import db
from core.registry import Tenant, members_of
from core.signals import announce, cells_changed, perimeter_changed
from core.tenancy import TenantRef, tenant_scope
from ingest.reference.models import Commune


class TerritoryCell(TenantBase):
    """A cell of the territory, and the commune holding most of it (national ids, no FK)."""

    __tablename__ = "territory_cells"

    cell_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))


def commune_codes(tenant: TenantRef, official_code: str | None) -> list[str]:
    """The INSEE codes of the communes that make up a territory of any kind."""
    if tenant.kind == "commune":
        return [official_code] if official_code else []
    if tenant.kind == "epci":
        query = select(Commune.insee).where(Commune.epci_siren == official_code)
    elif tenant.kind == "departement":
        query = select(Commune.insee).where(Commune.departement == official_code)
    else:  # an umbrella: its current members' communes
        codes = []
        for member in members_of(db.session, tenant.id):
            codes += commune_codes(member.ref(), member.official_code)
        return sorted(set(codes))
    return list(db.session.execute(query.order_by(Commune.insee)).scalars())


def territory_communes(tenant: TenantRef) -> list[str]:
    """The INSEE codes of a territory's communes, from its registry record (an umbrella: its
    current members'); empty for an unknown territory."""
    record = db.session.get(Tenant, tenant.id)
    return commune_codes(tenant, record.official_code) if record is not None else []


def perimeter_cells(codes: list[str]) -> dict[str, str]:
    """cell id → commune for every cell intersecting the communes' union."""
    rows = db.session.execute(
        select(Commune.insee, Commune.departement, func.ST_AsBinary(Commune.geom)).where(
            Commune.insee.in_(codes)
        )
    ).all()
    from shapely import wkb  # noqa: PLC0415 - heavy (numpy): imported when a perimeter changes

    cells: dict[str, str] = {}
    for insee, departement, geometry in rows:
        shape = wkb.loads(bytes(geometry))
        for cell in grid.covering(shape, 4326, grid.grid_for_departement(departement)):
            cells.setdefault(cell, insee)  # a cell shared by two communes keeps the first
    return cells


def refresh_cells(tenant: TenantRef, official_code: str | None) -> int:
    """Recompute the territory's cells from its communes; returns how many it has."""
    codes = commune_codes(tenant, official_code)
    cells = perimeter_cells(codes) if codes else {}
    db.session.rollback()
    with tenant_scope(tenant):
        db.session.execute(delete(TerritoryCell))
        if cells:
            db.session.execute(
                insert(TerritoryCell),
                [{"cell_id": c, "commune_insee": i} for c, i in sorted(cells.items())],
            )
        announce(cells_changed, tenant)
        db.session.commit()
    return len(cells)


@perimeter_changed.connect
def _perimeter_changed(territory: TenantRef, official_code: str | None = None, **_data) -> None:
    """A territory was created or its members changed: its cells follow, when the communes
    are loaded (else `flask geo refresh-cells` does it later)."""
    if db.session.execute(select(Commune.insee).limit(1)).first() is None:
        db.session.rollback()
        return
    refresh_cells(territory, official_code)


def member_territories(tenant: TenantRef) -> list[TenantRef]:
    """The territories whose listings a wider territory's site shows too: an umbrella's current
    members; the active communes (and, for a département, EPCIs) that have their own site within
    a communauté's or département's communes. A commune has none."""
    if tenant.kind == "umbrella":
        return [m.ref() for m in members_of(db.session, tenant.id) if m.status.value == "active"]
    if tenant.kind not in ("epci", "departement"):
        return []
    record = db.session.get(Tenant, tenant.id)
    if record is None:
        return []
    kinds = ["commune"] + (["epci"] if tenant.kind == "departement" else [])
    codes = set(commune_codes(tenant, record.official_code))
    sirens = set()
    if tenant.kind == "departement":
        sirens = set(
            db.session.execute(
                select(Commune.epci_siren).where(Commune.departement == record.official_code)
            ).scalars()
        )
    found = db.session.execute(
        select(Tenant).where(Tenant.kind.in_(kinds), Tenant.id != tenant.id).order_by(Tenant.name)
    ).scalars()
    return [
        t.ref()
        for t in found
        if t.status.value == "active"
        and (t.official_code in codes if t.kind.value == "commune" else t.official_code in sirens)
    ]
