"""A PVD coordinator's view of the umbrella's member towns: per town and rolled up — listings by
kind and status, the last import, contacts and prospects, saved searches, what the town may use
today — read by a bounded, parallel fan-out over the members' schemas (a town that cannot be read
shows its own error, the others still show)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from core.csvexport import neutralise
from core.extensions import db
from core.fanout import Read, read_many
from core.registry import Tenant, members_of
from ingest.listings.declaration import KINDS
from ingest.listings.models import Listing, ListingImport
from sites.leads.models import Lead
from sites.search.models import SavedSearch
from tenants.entitlements import Feature, features_of, subscription_words


@dataclass
class Figures:
    """One town's figures (or the umbrella's totals)."""

    #: {kind: published count}
    published: dict[str, int] = field(default_factory=dict)
    drafts: int = 0
    unpublished: int = 0
    contacts: int = 0
    prospects: int = 0
    searches: int = 0
    last_import_status: str | None = None
    last_import_at: datetime | None = None
    last_import_id: int | None = None

    @property
    def published_total(self) -> int:
        return sum(self.published.values())

    def add(self, other: Figures) -> None:
        for kind, count in other.published.items():
            self.published[kind] = self.published.get(kind, 0) + count
        self.drafts += other.drafts
        self.unpublished += other.unpublished
        self.contacts += other.contacts
        self.prospects += other.prospects
        self.searches += other.searches


@dataclass(frozen=True)
class Row:
    town: Tenant
    read: Read[Figures]
    features: frozenset[Feature]


def town_figures(_ref) -> Figures:
    """The bound town's figures, in four grouped queries."""
    figures = Figures()
    for kind, status, count in db.session.execute(
        select(Listing.kind, Listing.status, func.count()).group_by(Listing.kind, Listing.status)
    ):
        if status == "published":
            figures.published[kind] = count
        elif status == "draft":
            figures.drafts += count
        else:
            figures.unpublished += count
    figures.contacts, figures.prospects = db.session.execute(
        select(
            func.count().filter(Lead.stage == "contact"),
            func.count().filter(Lead.stage == "prospect"),
        )
    ).one()
    figures.searches = db.session.scalar(select(func.count(SavedSearch.id)))
    last = db.session.execute(
        select(ListingImport.id, ListingImport.status, ListingImport.created_at)
        .order_by(ListingImport.created_at.desc())
        .limit(1)
    ).first()
    if last is not None:
        figures.last_import_id, figures.last_import_status, figures.last_import_at = last
    return figures


#: Listings shown on a member town's page of the coordinator console (the newest first).
MEMBER_LISTINGS = 50


def latest_listings() -> list:
    """The bound town's newest listings, read only: kind, identifier, title, status, date."""
    return list(
        db.session.execute(
            select(
                Listing.kind, Listing.external_id, Listing.title, Listing.status, Listing.updated_at
            )
            .order_by(Listing.updated_at.desc(), Listing.id.desc())
            .limit(MEMBER_LISTINGS)
        )
    )


def rollup(umbrella_id: int) -> tuple[list[Row], Figures]:
    """Each member town's row (by name), and the totals of those that could be read."""
    towns = members_of(db.session, umbrella_id)
    reads = read_many([t.ref() for t in towns], town_figures)
    rows = [Row(t, reads[t.id], features_of(t.id)) for t in towns]
    totals = Figures()
    for row in rows:
        if row.read.value is not None:
            totals.add(row.read.value)
    return rows, totals


COLUMNS = {
    "fr": (
        "Commune",
        "Code officiel",
        *(f"Annonces publiées : {k}" for k in KINDS),
        "Brouillons",
        "Dépubliées ou expirées",
        "Contacts",
        "Prospects",
        "Recherches enregistrées",
        "Dernier import",
        "Abonnement",
        "Lecture",
    ),
    "en": (
        "Town",
        "Official code",
        *(f"Published listings: {k}" for k in KINDS),
        "Drafts",
        "Unpublished or expired",
        "Contacts",
        "Prospects",
        "Saved searches",
        "Last import",
        "Subscription",
        "Read",
    ),
}


def rollup_csv(rows: list[Row], locale: str = "fr") -> bytes:
    """The comparison table for a spreadsheet: UTF-8 with BOM, `;`, formula-safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS[locale])
    for row in rows:
        f = row.read.value
        site = subscription_words(row.features)
        if f is None:
            failed = "illisible" if locale == "fr" else "unreadable"
            blanks = [""] * (len(COLUMNS[locale]) - 5)
            writer.writerow(
                [neutralise(row.town.name), row.town.official_code or "", *blanks, site, failed]
            )
            continue
        writer.writerow(
            [
                neutralise(row.town.name),
                row.town.official_code or "",
                *(f.published.get(k, 0) for k in KINDS),
                f.drafts,
                f.unpublished,
                f.contacts,
                f.prospects,
                f.searches,
                f.last_import_at.date().isoformat() if f.last_import_at else "",
                site,
                "ok",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
