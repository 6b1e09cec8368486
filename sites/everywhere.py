"""A person's favourites and saved searches on every territory, for their account page.

Accounts are platform-wide, favourites and searches live in each territory's schema: the page
reads them through the explicit fan-out (one short transaction per territory, apart from the
request's), and only the signed-in person's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import format_date
from sqlalchemy import func, select

from core.auth.service import site_path, site_root
from core.extensions import db
from core.fanout import read_each
from core.registry import Tenant, TenantStatus
from core.tenancy import TenantRef
from ingest.listings.labels import kind_title
from ingest.listings.models import Listing
from ingest.reference.communes import names_of
from sites.listings.models import Favourite
from sites.listings.public import visible
from sites.search.form import criterion_labels, search_url
from sites.search.models import SavedSearch

#: Shown per territory and list at most (the newest); the territory's own page lists them all.
SHOWN = 10


@dataclass
class SavedHere:
    name: str
    path: str
    criteria: list[str]
    saved_on: str  # in the reader's language


@dataclass
class FavouriteHere:
    title: str
    kind: str
    commune: str
    path: str | None  # None: no longer published


@dataclass
class Territory:
    """What the person keeps on one territory, with absolute links to its site."""

    ref: TenantRef
    root: str = ""
    here: bool = False
    searches: list[SavedHere] = field(default_factory=list)
    favourites: list[FavouriteHere] = field(default_factory=list)
    search_count: int = 0
    favourite_count: int = 0

    def link(self, path: str) -> str:
        return self.root + path

    def page(self, endpoint: str, **values) -> str:
        """A page of its site by endpoint (from any host, the portal's included)."""
        return self.root + site_path(endpoint, **values)


def _counts(account_id: int) -> tuple[int, int]:
    """(saved searches, favourites) of the person here, in one statement: most territories
    hold nothing of theirs and cost only this."""
    searches = select(func.count()).where(SavedSearch.account_id == account_id)
    favourites = select(func.count()).where(Favourite.account_id == account_id)
    return tuple(
        db.session.execute(select(searches.scalar_subquery(), favourites.scalar_subquery())).one()
    )


def _searches(account_id: int) -> list[SavedHere]:
    labels = criterion_labels()
    rows = db.session.execute(
        select(SavedSearch)
        .where(SavedSearch.account_id == account_id)
        .order_by(SavedSearch.updated_at.desc(), SavedSearch.id.desc())
        .limit(SHOWN)
    ).scalars()
    return [
        SavedHere(
            s.name,
            search_url(s.query),
            [labels.get(c.get("id"), "") for c in s.query.get("criteria", []) if c.get("id")],
            format_date(s.updated_at, "long"),
        )
        for s in rows
    ]


def _favourites(account_id: int) -> list[FavouriteHere]:
    rows = db.session.execute(
        select(Listing, visible())
        .join(Favourite, Favourite.listing_id == Listing.id)
        .where(Favourite.account_id == account_id)
        .order_by(Favourite.created_at.desc(), Favourite.id.desc())
        .limit(SHOWN)
    ).all()
    names = names_of(listing.commune_insee for listing, _ in rows)
    return [
        FavouriteHere(
            listing.title,
            kind_title(listing.kind),
            names.get(listing.commune_insee, ""),
            url_for("listings_site.listing", kind=listing.kind, external_id=listing.external_id)
            if shown
            else None,
        )
        for listing, shown in rows
    ]


def kept_everywhere(account_id: int, here: TenantRef | None) -> list[Territory]:
    """The territories where the person keeps something, this site's first, then by name."""
    refs = [
        t.ref()
        for t in db.session.execute(
            select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.name)
        ).scalars()
    ]

    def read(ref: TenantRef) -> Territory | None:
        search_count, favourite_count = _counts(account_id)
        if not search_count and not favourite_count:
            return None
        searches = _searches(account_id) if search_count else []
        favourites = _favourites(account_id) if favourite_count else []
        return Territory(ref, "", False, searches, favourites, search_count, favourite_count)

    found = [kept for kept in read_each(refs, read).values() if kept is not None]
    for kept in found:
        kept.here = here is not None and kept.ref.id == here.id
        kept.root = "" if kept.here else site_root(kept.ref)
    found.sort(key=lambda kept: (not kept.here, kept.ref.name))
    return found
