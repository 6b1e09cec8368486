"""A communauté's or umbrella's site reading its members' published listings (explicit fan-out,
one short read per member schema), each listing shown with the member town that holds it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.extensions import db
from core.fanout import read_in
from core.tenancy import TenantRef, require_tenant
from ingest.listings.models import Listing
from ingest.reference.territory import member_territories
from sites.listings.public import visible

#: Listings read per member for a list (the page says when a member holds more).
PER_MEMBER = 12


@dataclass
class MemberListings:
    member: TenantRef
    total: int
    rows: list[Listing]


def _detached(rows: list[Listing]) -> list[Listing]:
    """Rows kept readable after the member's session ends (its rollback expires them)."""
    db.session.expunge_all()
    return rows


def members() -> list[TenantRef]:
    return member_territories(require_tenant())


def listings_of(members_: list[TenantRef], where, order, limit: int = PER_MEMBER):
    """Each member's visible listings matching `where`, ordered, with how many match in all."""
    out = []
    for member in members_:

        def read(where=where, order=order):
            total = db.session.execute(
                select(func.count()).select_from(Listing).where(where)
            ).scalar()
            rows = list(
                db.session.execute(select(Listing).where(where).order_by(*order).limit(limit))
                .scalars()
                .all()
            )
            return total, _detached(rows)

        total, rows = read_in(member, read)
        if total:
            out.append(MemberListings(member, total, rows))
    return out


def member_listing(slug: str, kind: str, external_id: str) -> tuple[TenantRef, Listing] | None:
    """A member's published listing, read on the wider site; None for a territory that is not
    one of its members (never another's listing) or a listing it does not show."""
    member = next((m for m in members() if m.slug == slug), None)
    if member is None:
        return None

    def read():
        found = db.session.execute(
            select(Listing).where(
                visible(), Listing.kind == kind, Listing.external_id == external_id
            )
        ).scalar_one_or_none()
        return _detached([found])[0] if found is not None else None

    found = read_in(member, read)
    return (member, found) if found is not None else None
