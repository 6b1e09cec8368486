"""Listings (system columns plus one typed column per declared field), their activity log,
normed-file imports and API keys: all in the territory's schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase
from core.spatial import Geometry
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


class ListingEvent(TenantBase):
    """The activity log: who (account, API key or the system) changed which listing, and how."""

    __tablename__ = "listing_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=text("now()"), index=True)
    # The listing and the import as ids, without foreign keys: an append-only log keeps what it
    # was written with (listings and imports are never deleted; its writers take the ids from
    # the rows they have just written), and a foreign key would check and lock each listing
    # again, row by row: a third of a 100 000-row import's time.
    listing_id: Mapped[int | None] = mapped_column(index=True)
    import_id: Mapped[int | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(100))
    #: create | update | publish | unpublish | expire | import
    action: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))  # manual | file | api | system
    account_id: Mapped[int | None] = mapped_column()
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    #: {field: [before, after]} for edits; counts for an import.
    changes: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")


IMPORT_STATUSES = ("queued", "reading", "applying", "done", "rejected", "failed")
#: Statuses of an import still under way (the console polls them).
IMPORT_RUNNING = ("queued", "reading", "applying")
#: Statuses of a run that has started (a worker, or the uploader's request, holds it).
IMPORT_STARTED = ("reading", "applying")
#: The message of an import the sweep gave up after IMPORT_MAX_ATTEMPTS interrupted runs.
INTERRUPTED = "interrupted"
#: An import's progress and outcome figures.
IMPORT_COUNTERS = (
    "rows_read",
    "rows_valid",
    "rows_applied",
    "errors_count",
    "warnings_count",
    "created",
    "updated",
    "unchanged",
    "unpublished",
)


class ListingImport(TenantBase):
    """One uploaded normed file: where it is kept, its report, and how far its import went."""

    __tablename__ = "listing_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(default=0)
    file_key: Mapped[str] = mapped_column(String(300))
    report_key: Mapped[str | None] = mapped_column(String(300))
    snapshot: Mapped[bool] = mapped_column(default=False)
    dry_run: Mapped[bool] = mapped_column(default=False)
    #: Import the valid rows of a file that has errors (the editor's explicit choice).
    valid_only: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_valid: Mapped[int] = mapped_column(default=0)
    rows_applied: Mapped[int] = mapped_column(default=0)
    errors_count: Mapped[int] = mapped_column(default=0)
    warnings_count: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    unpublished: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"), index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    #: Runs started, in all (shown in the history).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Runs whose worker stopped before their end since the last "run again" (the import sweep
    #: gives up at IMPORT_MAX_ATTEMPTS).
    interruptions: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The last sign of life of the run under way (or of its queueing): a run writes it every
    #: IMPORT_HEARTBEAT_SECONDS; silent for IMPORT_STALE_SECONDS, its worker is gone.
    heartbeat_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (CheckConstraint(f"status IN {IMPORT_STATUSES}", name="import_status_known"),)


PHOTO_SOURCES = ("manual", "file", "api", "demo")
PHOTO_STATUSES = ("ready", "failed")


class ListingPhoto(TenantBase):
    """A listing's photo, stored by the platform in a thumbnail and a large size; or, for a URL
    that could not be fetched, the failure (a URL is fetched once)."""

    __tablename__ = "listing_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    source: Mapped[str] = mapped_column(String(10))
    #: The address it was fetched from (file or API), None for an upload.
    source_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="ready", server_default="ready")
    #: Why the fetch or check failed (a FetchError or ImageError code).
    error: Mapped[str | None] = mapped_column(String(30))
    #: sha256 of the bytes received; the stored files are named after it.
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    #: The editor's description; the page falls back to the listing's title.
    alt: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    created_by_id: Mapped[int | None] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"source IN {PHOTO_SOURCES}", name="photo_source_known"),
        CheckConstraint(f"status IN {PHOTO_STATUSES}", name="photo_status_known"),
        Index("uq_listing_photos_listing_id_source_url", "listing_id", "source_url", unique=True),
    )


SCOPES = ("listings:read", "listings:write")


class ApiKey(TenantBase):
    """A territory's key to its API: only a SHA-256 of the secret is kept, with its scopes."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The public part of the key (`vvk_<prefix>_…`), shown in the console to tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    created_by_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column()


holds_people(ListingEvent, "account_id")
holds_people(ListingImport, "created_by_id")
holds_people(ApiKey, "created_by_id")
holds_people(ApiKey, "revoked_by_id")
holds_people(ListingPhoto, "created_by_id")
