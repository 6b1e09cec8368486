"""Hand-made search territories for the page and browser tests: a grid of cells with profiles
of their own, each test module in a corner and a département code no other uses."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import insert, text

from core import grid
from core.extensions import db
from core.signals import announce, listings_changed
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.reference.models import CellProfile
from ingest.reference.territory import TerritoryCell
from sites.search import freshness, layer


@contextmanager
def searched_land(app, ref, profiles: dict[str, dict], departement: str):
    """Give `ref` exactly the cells of `profiles`, with those profiles (filed under
    `departement`), and tell the searches; the profiles are removed at the end."""
    with app.app_context():
        with tenant_scope(ref):
            db.session.execute(TerritoryCell.__table__.delete())
            db.session.execute(
                insert(TerritoryCell), [{"cell_id": c, "commune_insee": None} for c in profiles]
            )
            db.session.commit()
        db.session.execute(
            text("DELETE FROM cell_profiles WHERE departement = :d"), {"d": departement}
        )
        db.session.execute(
            insert(CellProfile),
            [{"cell_id": c, "departement": departement, **v} for c, v in profiles.items()],
        )
        db.session.commit()
        freshness.cells_changed(ref)
        freshness.profiles_changed()
        layer.clear_cache()
        db.session.remove()
    try:
        yield ref
    finally:
        with app.app_context():
            db.session.execute(
                text("DELETE FROM cell_profiles WHERE departement = :d"), {"d": departement}
            )
            db.session.commit()


def cell_at(e0: int, n0: int, c: int, r: int) -> str:
    """The id of the cell `c` columns east and `r` rows north of the one at (e0, n0)."""
    return grid.format_ids([n0 + 1000 * r], [e0 + 1000 * c]).tolist()[0]


def graded_profiles(e0: int, n0: int) -> dict[str, dict]:
    """Twelve cells in 4 columns and 3 rows from (e0, n0): the GP 1.04 km away in the first,
    a km further each column east and each row north; the pharmacy 2 km further each column."""
    return {
        cell_at(e0, n0, c, r): {"gp_km": 1.04 + c + r, "pharmacy_km": 2.0 * c}
        for c in range(4)
        for r in range(3)
    }


def listing_in(
    ref, kind: str, n: int, cell_id: str, status="published", *, announced=False, **values
):
    """A listing `<kind>-<n>` of `ref`'s territory on a cell, committed; announced as every
    writer does when `announced` (the caches that read listings hear of it)."""
    db.session.rollback()
    with tenant_scope(ref):
        db.session.add(
            Listing(
                kind=kind,
                external_id=f"{kind}-{n}",
                title=f"{kind} {n}",
                commune_insee="15187",
                status=status,
                cell_id=cell_id,
                **values,
            )
        )
        if announced:
            announce(listings_changed, ref)
        db.session.commit()
