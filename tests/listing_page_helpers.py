"""What the public listing pages' tests share: listings published around Saint-Flour, and a
territory with listings of every kind to filter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.service import save

BASE = {
    "title": "Maison de bourg",
    "commune_insee": "15187",
    "transaction": "sale",
    "property_type": "house",
    "price": Decimal("149000"),
    "furnished": True,
    "description": "Belle maison.\nGrand jardin.\n\nProche école.",
    "photo_url": "https://photos.example.org/maison.jpg",
    "contact_email": "immo@saint-flour.fr",
}


LON, LAT = 3.0928, 45.0337  # Saint-Flour
KM_LAT, KM_LON = 1 / 111.2, 1 / 78.6  # degrees per km at this latitude


def at(north_km: float = 0, east_km: float = 0) -> dict:
    return {
        "latitude": round(LAT + north_km * KM_LAT, 6),
        "longitude": round(LON + east_km * KM_LON, 6),
    }


def commune_at(item: dict) -> dict:
    """The commune holding the item's point (a point must lie in its commune)."""
    if "latitude" not in item or "commune_insee" in item:
        return item
    code = db.session.execute(
        text(
            "SELECT insee FROM communes "
            "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        {"lon": item["longitude"], "lat": item["latitude"]},
    ).scalar()
    return item | {"commune_insee": code}


def publish(app, ref, kind, items):
    with app.app_context():
        items = [{"status": "published"} | commune_at(i) for i in items]
        db.session.rollback()  # a transaction belongs to one territory (or none)
        with tenant_scope(ref):
            saved = save(kind, [{"commune_insee": "15187"} | i for i in items], source="api")
            assert saved.errors == {}, saved.errors
            db.session.commit()


HOME = {k: v for k, v in BASE.items() if k not in ("photo_url", "description")}


@pytest.fixture
def catalogue(app, cantal, make_tenant):
    """One territory with listings of every kind to filter."""
    ref = make_tenant(name="Saint-Flour")
    with app.app_context():
        publish(
            app,
            ref,
            "real_estate",
            [
                HOME
                | {
                    "external_id": "H1",
                    "price": Decimal(90000),
                    "living_area_m2": Decimal(60),
                    "rooms": 3,
                },
                HOME
                | {
                    "external_id": "H2",
                    "price": Decimal(150000),
                    "living_area_m2": Decimal(110),
                    "rooms": 5,
                },
                HOME
                | {
                    "external_id": "H3",
                    "price": Decimal(250000),
                    "living_area_m2": Decimal(180),
                    "rooms": 7,
                },
                HOME
                | {
                    "external_id": "R1",
                    "transaction": "rent",
                    "property_type": "flat",
                    "price": Decimal(550),
                    "rooms": 2,
                },
            ],
        )
        publish(
            app,
            ref,
            "job",
            [
                {
                    "external_id": "J1",
                    "title": "Développeur",
                    "rome_code": "M1805",
                    "contract_type": "CDI",
                    "full_time": True,
                },
                {
                    "external_id": "J2",
                    "title": "Infirmier",
                    "rome_code": "J1506",
                    "contract_type": "CDD",
                    "full_time": False,
                },
                {
                    "external_id": "J3",
                    "title": "Aide-soignant",
                    "rome_code": "J1501",
                    "contract_type": "CDI",
                    "full_time": True,
                },
            ],
        )
        publish(
            app,
            ref,
            "business",
            [
                {
                    "external_id": "B1",
                    "title": "Boulangerie",
                    "activity": "Boulangerie",
                    "transfer_type": "fonds_de_commerce",
                    "price": Decimal(80000),
                },
                {
                    "external_id": "B2",
                    "title": "Local",
                    "activity": "Commerce",
                    "transfer_type": "local_vacant",
                    "price": Decimal(20000),
                },
            ],
        )
        publish(
            app,
            ref,
            "leisure",
            [
                {
                    "external_id": "L1",
                    "title": "Festival d'été",
                    "category": "Festival",
                    "start_on": "2030-07-01",
                    "end_on": "2030-07-10",
                },
                {
                    "external_id": "L2",
                    "title": "Marché de Noël",
                    "category": "Market",
                    "start_on": "2030-12-10",
                    "end_on": "2030-12-20",
                },
                {"external_id": "L3", "title": "Piscine", "category": "SportsAndLeisurePlace"},
            ],
        )
        publish(
            app,
            ref,
            "poi",
            [
                {"external_id": "P1", "title": "Maison de santé", "theme": "Santé"},
                {"external_id": "P2", "title": "Médiathèque", "theme": "Culture"},
            ],
        )
    return ref


def published_home() -> Listing:
    """A published property `HOME` in Saint-Flour, flushed in the bound territory's session."""
    listing = Listing(
        kind="real_estate",
        external_id="HOME",
        title="Maison de bourg",
        commune_insee="15187",
        status="published",
    )
    db.session.add(listing)
    db.session.flush()
    return listing
