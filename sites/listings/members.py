"""A communauté's or umbrella's site reading its members' published listings (explicit fan-out,
one short read per member schema), each listing shown with the member town that holds it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select

from core.extensions import db
from core.fanout import read_in
from core.tenancy import TenantRef, require_tenant
from ingest.listings.models import Listing
from ingest.listings.photos import main_photos
from ingest.reference.territory import member_territories
from sites.listings.public import visible

#: Listings read per member for a list (the page says when a member holds more).
PER_MEMBER = 12


@dataclass
class MemberListings:
    member: TenantRef
    total: int
    rows: list[Listing]
    #: listing id → its main photo's thumbnail, served by this site (`photo_url`)
    photos: dict[int, str]


def photo_url(member: TenantRef):
    """How this site addresses a member's photo files: through itself, since its pages load
    images from their own host only (sites.views.member_photo)."""
    return lambda name: url_for("site.member_photo", slug=member.slug, name=name)


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

        def read(where=where, order=order, member=member):
            total = db.session.execute(
                select(func.count()).select_from(Listing).where(where)
            ).scalar()
            rows = list(
                db.session.execute(select(Listing).where(where).order_by(*order).limit(limit))
                .scalars()
                .all()
            )
            photos = {i: p.thumb for i, p in main_photos(rows, photo_url(member)).items()}
            return total, _detached(rows), photos

        total, rows, photos = read_in(member, read)
        if total:
            out.append(MemberListings(member, total, rows, photos))
    return out


def member(slug: str) -> TenantRef | None:
    """One of this site's members by its slug; None for any other territory."""
    return next((m for m in members() if m.slug == slug), None)


def member_listing(slug: str, kind: str, external_id: str) -> tuple[TenantRef, Listing] | None:
    """A member's published listing, read on the wider site; None for a territory that is not
    one of its members (never another's listing) or a listing it does not show."""
    member_ = member(slug)
    if member_ is None:
        return None

    def read():
        found = db.session.execute(
            select(Listing).where(
                visible(), Listing.kind == kind, Listing.external_id == external_id
            )
        ).scalar_one_or_none()
        return _detached([found])[0] if found is not None else None

    found = read_in(member_, read)
    return (member_, found) if found is not None else None
