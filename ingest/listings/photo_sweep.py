"""The photo sweep (cron, every IMPORT_SWEEP_SECONDS): listings whose photo addresses were never
fetched, because Redis was away when they were saved or their job was lost, are queued again."""

from __future__ import annotations

import logging

from sqlalchemy import select, text

from core.extensions import db
from core.jobs import for_each_territory
from core.tenancy import TenantRef
from ingest.listings.models import Listing, ListingPhoto
from ingest.listings.photo_fetch import job_id, queue
from ingest.listings.photos import source_urls
from ingest.listings.recovery import has_live_job
from tenants.entitlements import Feature, entitled

log = logging.getLogger("vivrau.ingest")

#: Listings that may have work left: an address with no photo row, or a fetched photo whose
#: address is gone. A superset (PostgreSQL splits as Python does, or less): `pending` decides.
_CANDIDATES = text(
    r"""
    SELECT l.id FROM listings l
    WHERE l.photo_url IS NOT NULL AND EXISTS (
        SELECT 1 FROM regexp_split_to_table(l.photo_url, '[\s|]+') AS u(url)
        WHERE u.url <> '' AND NOT EXISTS (
            SELECT 1 FROM listing_photos p WHERE p.listing_id = l.id AND p.source_url = u.url))
    UNION
    SELECT p.listing_id FROM listing_photos p JOIN listings l ON l.id = p.listing_id
    WHERE p.source_url IS NOT NULL AND (l.photo_url IS NULL
        OR NOT p.source_url = ANY(regexp_split_to_array(l.photo_url, '[\s|]+')))
    ORDER BY 1
    """
)


def pending() -> list[tuple[int, str | None]]:
    """(listing id, its addresses) of the bound territory's listings whose photos are not in
    line with their addresses, as the fetch job sees them."""
    ids = db.session.execute(_CANDIDATES).scalars().all()
    if not ids:
        return []
    fetched: dict[int, set[str]] = {}
    for listing_id, url in db.session.execute(
        select(ListingPhoto.listing_id, ListingPhoto.source_url).where(
            ListingPhoto.listing_id.in_(ids), ListingPhoto.source_url.is_not(None)
        )
    ):
        fetched.setdefault(listing_id, set()).add(url)
    out = []
    for listing_id, photo_url in db.session.execute(
        select(Listing.id, Listing.photo_url).where(Listing.id.in_(ids)).order_by(Listing.id)
    ):
        if set(source_urls(photo_url)) != fetched.get(listing_id, set()):
            out.append((listing_id, photo_url))
    return out


def sweep_photos() -> dict[str, dict[str, int]]:
    """Cron: in every territory, the listings with photos left to fetch and no live job."""
    return for_each_territory(sweep_territory, "photo sweep")


def sweep_territory(ref: TenantRef) -> dict[str, int]:
    """The bound territory's sweep: how many listings had work left, how many were queued
    (none while its subscription does not cover listings)."""
    if not entitled(ref, Feature.base):
        return {"pending": 0, "queued": 0}
    left = pending()
    db.session.rollback()  # nothing written: no transaction held while Redis is asked
    forgotten = [(i, url) for i, url in left if not has_live_job(job_id(ref.slug, i, url))]
    queued = queue(ref.slug, forgotten)
    if queued:
        log.info("photo sweep of %s: %s listings queued again", ref.slug, queued)
    return {"pending": len(left), "queued": queued}
