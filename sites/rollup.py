"""A PVD coordinator's view of the umbrella's member towns: per town and rolled up — listings by
kind and status, the last import, contacts and prospects, the month's visits and searches, saved
searches, what the town may use today and its next invoice — read by a bounded, parallel fan-out
over the members' schemas (a town that cannot be read shows its own error, the others still
show)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.csvexport import neutralise
from core.extensions import db
from core.fanout import Read, read_many
from core.i18n import pick
from core.registry import Tenant, members_of
from core.storage import StorageError
from ingest.listings.declaration import KINDS
from ingest.listings.models import Listing, ListingImport
from ingest.listings.reports import load_report
from sites.audience import month_figures
from sites.leads.models import Lead
from sites.search.models import SavedSearch
from tenants.entitlements import Feature, features_of, subscription_words, today
from tenants.invoices_ahead import InvoiceAhead, invoices_ahead


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
    #: This month's visits and searches of the town's site (anonymous audience).
    visits_this_month: int = 0
    searches_this_month: int = 0
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
        self.visits_this_month += other.visits_this_month
        self.searches_this_month += other.searches_this_month


@dataclass(frozen=True)
class Row:
    town: Tenant
    read: Read[Figures]
    features: frozenset[Feature]
    ahead: InvoiceAhead | None = None


def town_figures(_ref) -> Figures:
    """The bound town's figures, in five grouped queries."""
    figures = Figures()
    this_month = today().replace(day=1)
    following = (this_month + timedelta(days=32)).replace(day=1)
    audience = month_figures(this_month, following)
    figures.visits_this_month = audience["visits"]
    figures.searches_this_month = audience["searches"]
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


#: Imports shown on a member town's page (the newest first).
MEMBER_IMPORTS = 10


def latest_imports() -> list[ListingImport]:
    """The bound town's newest imports (detached: read after its session closes)."""
    found = list(
        db.session.execute(
            select(ListingImport)
            .order_by(ListingImport.created_at.desc(), ListingImport.id.desc())
            .limit(MEMBER_IMPORTS)
        ).scalars()
    )
    db.session.expunge_all()
    return found


def import_report(import_id: int) -> dict | None:
    """One import's report in the bound town (None: no such import, or no report kept)."""
    record = db.session.get(ListingImport, import_id)
    if record is None:
        return None
    try:
        return load_report(record)
    except StorageError:
        return None


def rollup(umbrella_id: int) -> tuple[list[Row], Figures]:
    """Each member town's row (by name), and the totals of those that could be read."""
    towns = members_of(db.session, umbrella_id)
    ahead = invoices_ahead([t.id for t in towns], today())
    reads = read_many([t.ref() for t in towns], town_figures)
    rows = [Row(t, reads[t.id], features_of(t.id), ahead.get(t.id)) for t in towns]
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
        "Visites du mois",
        "Recherches du mois",
        "Recherches enregistrées",
        "Dernier import",
        "Abonnement",
        "Prochaine facture",
        "Montant TTC (€)",
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
        "Visits this month",
        "Searches this month",
        "Saved searches",
        "Last import",
        "Subscription",
        "Next invoice",
        "Amount incl. VAT (EUR)",
        "Read",
    ),
}


def _invoice_cells(ahead: InvoiceAhead | None, locale: str) -> list[str]:
    """The next invoice's date and amount (a spreadsheet's decimal comma in French)."""
    if ahead is None:
        return ["", ""]
    if ahead.through_umbrella:  # the town's share is not invoiced apart
        return ["facturé avec le groupement" if locale == "fr" else "billed with the umbrella", ""]
    when = ahead.due_on.isoformat() if ahead.due_on else pick("mise en service", "go-live", locale)
    euros = f"{ahead.total_ttc_cents // 100}.{ahead.total_ttc_cents % 100:02d}"
    return [when, euros.replace(".", ",") if locale == "fr" else euros]


def rollup_csv(rows: list[Row], locale: str = "fr") -> bytes:
    """The comparison table for a spreadsheet: UTF-8 with BOM, `;`, formula-safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS[locale])
    for row in rows:
        f = row.read.value
        site = subscription_words(row.features)
        invoice = _invoice_cells(row.ahead, locale)
        if f is None:
            failed = "illisible" if locale == "fr" else "unreadable"
            blanks = [""] * (len(COLUMNS[locale]) - 7)
            writer.writerow(
                [
                    neutralise(row.town.name),
                    row.town.official_code or "",
                    *blanks,
                    site,
                    *invoice,
                    failed,
                ]
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
                f.visits_this_month,
                f.searches_this_month,
                f.searches,
                f.last_import_at.date().isoformat() if f.last_import_at else "",
                site,
                *invoice,
                "ok",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
