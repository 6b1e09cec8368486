"""Hand-made search territories for the page and browser tests: a grid of cells with profiles
of their own, each test module in a corner and a département code no other uses."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import insert, text

from core.extensions import db
from core.tenancy import tenant_scope
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
