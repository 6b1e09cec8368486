"""The listings table (tenant schema): system columns plus one typed column per declared field."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, CheckConstraint, Date, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase
from ingest.listings.declaration import KINDS, all_fields

STATUSES = ("draft", "published", "unpublished", "expired")
SOURCES = ("manual", "file", "api")
#: Location inputs: turned into `geom` (+ `cell_id`) at import, not stored as such.
LOCATION_FIELDS = {"latitude", "longitude", "lambert_x", "lambert_y"}
_SQL_TYPES = {
    "integer": Integer,
    "number": lambda: Numeric(16, 2),
    "boolean": Boolean,
    "date": Date,
}


def _column(field):
    if field.type == "string":
        kind = String(field.max_length) if field.max_length and field.max_length <= 500 else Text
        return mapped_column(kind, nullable=True, comment=field.title_en)
    return mapped_column(_SQL_TYPES[field.type](), nullable=True, comment=field.title_en)


_DECLARED = {
    name: _column(f)
    for name, f in all_fields().items()
    if name not in LOCATION_FIELDS | {"external_id", "title", "commune_insee"}
}

Listing = type(
    "Listing",
    (TenantBase,),
    {
        "__tablename__": "listings",
        "__doc__": "A territory's listing of one kind, keyed by the territory's own external id.",
        "__table_args__": (
            CheckConstraint(f"kind IN {KINDS}", name="kind_known"),
            CheckConstraint(f"status IN {STATUSES}", name="status_known"),
            CheckConstraint(f"source IN {SOURCES}", name="source_known"),
            Index("uq_listings_kind_external_id", "kind", "external_id", unique=True),
            Index("ix_listings_kind_status", "kind", "status"),
            Index("ix_listings_updated_at_id", "updated_at", "id"),
        ),
        "__annotations__": {
            "id": Mapped[int],
            "kind": Mapped[str],
            "external_id": Mapped[str],
            "title": Mapped[str],
            "commune_insee": Mapped[str],
            "status": Mapped[str],
            "source": Mapped[str],
            "cell_id": Mapped[str | None],
            "location_approximate": Mapped[bool],
            "created_at": Mapped[datetime],
            "updated_at": Mapped[datetime],
            "created_by_id": Mapped[int | None],
            "updated_by_id": Mapped[int | None],
        },
        "id": mapped_column(primary_key=True),
        "kind": mapped_column(String(20)),
        "external_id": mapped_column(String(100)),
        "title": mapped_column(String(200)),
        "commune_insee": mapped_column(String(5), index=True),
        "status": mapped_column(String(12), default="draft", server_default="draft"),
        "source": mapped_column(String(10), default="manual", server_default="manual"),
        "geom": mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True),
        "cell_id": mapped_column(String(40), index=True),
        # True when the point is the commune's centre (no coordinates were given).
        "location_approximate": mapped_column(default=False, server_default="false"),
        "created_at": mapped_column(server_default=text("now()")),
        "updated_at": mapped_column(server_default=text("now()")),
        # Account ids (public schema), without foreign keys; erased with the person.
        "created_by_id": mapped_column(nullable=True),
        "updated_by_id": mapped_column(nullable=True),
        **_DECLARED,
    },
)

holds_people(Listing, "created_by_id")
holds_people(Listing, "updated_by_id")
