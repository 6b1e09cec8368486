"""The editor console's reads: the listings list with its filters and counts, the activity log,
and the names it shows (accounts, the territory's communes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from core.auth.models import Account
from core.extensions import db
from ingest.listings.declaration import KINDS
from ingest.listings.models import SOURCES, STATUSES, ApiKey, Listing, ListingEvent
from ingest.reference.models import Commune
from ingest.reference.territory import TerritoryCell

PAGE_SIZE = 50


@dataclass
class Filters:
    kind: str | None = None
    status: str | None = None
    commune: str | None = None
    source: str | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        def pick(name, allowed):
            value = args.get(name) or None
            return value if value in allowed else None

        try:
            page = max(1, min(int(args.get("page", 1)), 100000))
        except ValueError:
            page = 1
        commune = (args.get("commune") or "").strip().upper()[:5] or None
        return cls(
            kind=pick("kind", KINDS),
            status=pick("status", STATUSES),
            commune=commune,
            source=pick("source", SOURCES),
            q=(args.get("q") or "").strip()[:200],
            page=page,
        )

    def args(self, **over) -> dict:
        values = {
            "kind": self.kind,
            "status": self.status,
            "commune": self.commune,
            "source": self.source,
            "q": self.q or None,
            "page": self.page if self.page > 1 else None,
        } | over
        return {k: v for k, v in values.items() if v is not None}


def like_pattern(text: str) -> str:
    """`text` as a literal inside ILIKE: its own %, _ and \\ match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(filters: Filters, with_status: bool = True) -> list:
    conditions = []
    if filters.kind:
        conditions.append(Listing.kind == filters.kind)
    if with_status and filters.status:
        conditions.append(Listing.status == filters.status)
    if filters.commune:
        conditions.append(Listing.commune_insee == filters.commune)
    if filters.source:
        conditions.append(Listing.source == filters.source)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                Listing.title.ilike(pattern, escape="\\"),
                Listing.external_id.ilike(pattern, escape="\\"),
            )
        )
    return conditions


@dataclass
class Page:
    rows: list
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def search(filters: Filters) -> Page:
    """A page of listings (most recently changed first) and the count per status."""
    counts = dict(
        db.session.execute(
            select(Listing.status, func.count())
            .where(*_conditions(filters, with_status=False))
            .group_by(Listing.status)
        ).all()
    )
    total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    rows = (
        db.session.execute(
            select(Listing)
            .where(*_conditions(filters))
            .order_by(Listing.updated_at.desc(), Listing.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    return Page(rows, total, page, pages, {s: counts.get(s, 0) for s in STATUSES})


def activity(
    *, listing_id: int | None = None, kind: str | None = None, page: int = 1
) -> tuple[list[ListingEvent], int, int]:
    """A page of the activity log, newest first: (events, page, pages)."""
    conditions = []
    if listing_id is not None:
        conditions.append(ListingEvent.listing_id == listing_id)
    if kind:
        conditions.append(ListingEvent.kind == kind)
    total = db.session.execute(
        select(func.count()).select_from(ListingEvent).where(*conditions)
    ).scalar()
    pages = max(1, -(-total // PAGE_SIZE))
    page = max(1, min(page, pages))
    events = (
        db.session.execute(
            select(ListingEvent)
            .where(*conditions)
            .order_by(ListingEvent.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    return list(events), page, pages


def account_names(ids) -> dict[int, str]:
    """Display names of accounts (public schema), read apart from the territory's rows."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        db.session.execute(
            select(Account.id, Account.display_name).where(Account.id.in_(wanted))
        ).all()
    )


def key_names(ids) -> dict[int, str]:
    """Names of the territory's API keys, for the log's "by which key"."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        db.session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(wanted))).all()
    )


def listing_titles(ids) -> dict[int, str]:
    """Titles of listings, for the log's lines."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Listing.id, Listing.title).where(Listing.id.in_(wanted)))
    return dict(rows.all())


def territory_communes() -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes of the bound territory, for the commune field."""
    codes = list(
        db.session.execute(
            select(TerritoryCell.commune_insee)
            .where(TerritoryCell.commune_insee.is_not(None))
            .distinct()
        ).scalars()
    )
    if not codes:
        return []
    return list(
        db.session.execute(
            select(Commune.insee, Commune.name)
            .where(Commune.insee.in_(codes))
            .order_by(Commune.name)
        ).all()
    )
