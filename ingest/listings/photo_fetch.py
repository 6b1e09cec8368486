"""Photos given as addresses (a normed file's `photo_url` column, the API's): fetched once by a
worker (core.fetch: never from a page), checked, resized and stored; each failure is kept on the
listing's photo rows and, for a file, added to its import's report (row, column, reason).

One job per listing: at most MAX_PHOTOS fetches, each bounded by PHOTO_FETCH_TIMEOUT, so a slow
host holds a worker for one listing's photos at most, and a big import's listings take their
turn in the queue with every other territory's work instead of running as one long job. Its id
names the listing and its addresses (`photos-<territory>-<listing>-<digest>`): the sweep
(`photo_sweep`) finds the listings whose addresses were never fetched and queues the same job
again when none is live.
"""

from __future__ import annotations

import hashlib
import json
import logging

from flask import current_app
from sqlalchemy import select, text, update

from core.commit import after_commit
from core.extensions import db
from core.images import MAX_PHOTO_BYTES
from core.jobs import job
from core.storage import StorageError, get_storage
from core.tenancy import require_tenant
from ingest.listings.models import Listing, ListingImport, ListingPhoto
from ingest.listings.photos import (
    PhotoError,
    add_photo,
    refusal,
    remove_photo,
    source_urls,
    touch,
)
from tenants.entitlements import Feature, entitled

log = logging.getLogger("vivrau.ingest")
COLUMN = "photo_url"


def plan_key(import_id: int) -> str:
    return f"imports/{import_id}/photos.json"


def job_id(slug: str, listing_id: int, photo_url: str | None) -> str:
    """The same listing with the same addresses is one job: queued twice, it runs once."""
    digest = hashlib.sha256((photo_url or "").encode()).hexdigest()[:16]
    return f"photos-{slug}-{listing_id}-{digest}"


def queue(slug: str, jobs: list[tuple[int, str | None]], import_id: int | None = None) -> int:
    """Queue a fetch per (listing id, its addresses); how many were queued. While Redis is away
    it stops at the first refusal: the sweep queues the rest once Redis is back."""
    queued = 0
    for listing_id, photo_url in jobs:
        if (
            fetch_photos.try_enqueue(
                listing_id, import_id, tenant=slug, job_id=job_id(slug, listing_id, photo_url)
            )
            is None
        ):
            break
        queued += 1
    return queued


def schedule(listing_ids: list[int], import_id: int | None = None) -> None:
    """Queue the fetches once the current transaction commits (nothing queued if it rolls
    back)."""
    ids = sorted(set(listing_ids))
    if not ids:
        return
    slug = require_tenant().slug
    jobs = db.session.execute(
        select(Listing.id, Listing.photo_url).where(Listing.id.in_(ids)).order_by(Listing.id)
    ).all()
    after_commit(lambda: queue(slug, [tuple(j) for j in jobs], import_id))


def plan_import(import_id: int, kind: str, rows: list[dict], results: dict) -> None:
    """Keep which row of an applied file gave each listing its addresses, for the report, and
    schedule their fetch. `results`: external_id → (listing id, action), as the upsert says; a
    big file's upsert says counts only, and its listings with addresses but no photo fetched
    yet are looked up (an existing listing's changed addresses are left to the sweep)."""
    plan = {}
    unknown = []
    for row in rows:
        found = results.get(row.get("external_id"))
        if found is None:
            if row.get(COLUMN):
                unknown.append(row)
            continue
        listing_id, action = found
        if row.get(COLUMN) or action == "update":  # an emptied column removes fetched photos
            plan[str(listing_id)] = row["_row"]
    if unknown:
        plan.update(_never_fetched(kind, unknown))
    if not plan:
        return
    storage = get_storage().for_tenant(require_tenant().slug)
    storage.put(plan_key(import_id), json.dumps(plan).encode(), "application/json")
    schedule([int(i) for i in plan], import_id)


def _never_fetched(kind: str, rows: list[dict]) -> dict[str, int]:
    """Listing id → file row of the rows' listings that have no fetched photo yet."""
    found = db.session.execute(
        text(
            """
            SELECT l.id, b.row_number FROM unnest(CAST(:ids AS text[]), CAST(:rows AS int[]))
                AS b(external_id, row_number)
            JOIN listings l ON l.kind = :kind AND l.external_id = b.external_id
            WHERE NOT EXISTS (SELECT 1 FROM listing_photos p
                              WHERE p.listing_id = l.id AND p.source_url IS NOT NULL)
            """
        ),
        {"ids": [r["external_id"] for r in rows], "rows": [r["_row"] for r in rows], "kind": kind},
    ).all()
    return {str(listing_id): row_number for listing_id, row_number in found}


#: Seconds: MAX_PHOTOS fetches of PHOTO_FETCH_TIMEOUT (10 s by default) and their resizing.
JOB_TIMEOUT = 300


@job("low", timeout=JOB_TIMEOUT)
def fetch_photos(listing_id: int, import_id: int | None = None) -> dict:
    """Bring a listing's stored photos in line with its addresses: new addresses fetched
    (once: a failure is kept and not tried again), removed ones' photos deleted."""
    if not entitled(require_tenant(), Feature.base):  # its photos wait for the subscription
        return {"fetched": 0, "failed": 0}
    config = current_app.config
    source = "file" if import_id is not None else "api"
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        return {"fetched": 0, "failed": 0}
    # Two runs for the same listing (a sweep's and a save's) take turns: the second finds the
    # first one's rows and fetches nothing again.
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key), :id)"),
        {"key": f"photos:{require_tenant().schema}", "id": listing_id},
    )
    db.session.refresh(listing)
    wanted = source_urls(listing.photo_url)
    existing = {
        p.source_url: p
        for p in db.session.execute(
            select(ListingPhoto).where(
                ListingPhoto.listing_id == listing_id, ListingPhoto.source_url.is_not(None)
            )
        ).scalars()
    }
    from core.fetch import FetchError, fetch  # noqa: PLC0415 - http.client, ssl: in the worker

    failures: list[tuple[int, str, str, dict]] = []
    fetched = removed = 0
    for url, photo in existing.items():
        if url not in wanted:
            remove_photo(photo)
            removed += 1
    for url in wanted:
        if url in existing:
            continue
        try:
            data = fetch(
                url,
                timeout=config["PHOTO_FETCH_TIMEOUT"],
                max_bytes=MAX_PHOTO_BYTES,
                allow_loopback=config["PHOTO_FETCH_ALLOW_LOOPBACK"],
            )
            add_photo(listing, data, source=source, source_url=url)
            fetched += 1
        except (FetchError, PhotoError) as exc:
            log.info("photo %s of listing %s refused: %s", url, listing_id, exc.code)
            db.session.add(
                ListingPhoto(
                    listing_id=listing_id,
                    source=source,
                    source_url=url,
                    status="failed",
                    error=exc.code,
                )
            )
            failures.append((listing_id, url, exc.code, exc.params))
    if failures and not fetched and not removed:
        touch(listing_id)  # the API shows failures too: its ETag and updated_at move
    if import_id is not None and (fetched or failures):
        _report(import_id, fetched, failures)
    return {"fetched": fetched, "failed": len(failures)}


def _report(import_id: int, fetched: int, failures: list) -> None:
    """Add the failures to the import's report, as warnings of their row and column."""
    # Each listing's job adds to the same report: they take turns on the import's row.
    record = db.session.get(ListingImport, import_id, with_for_update=True)
    if record is None or not record.report_key:
        return
    storage = get_storage().for_tenant(require_tenant().slug)
    try:
        report = json.loads(storage.get(record.report_key))
        rows = json.loads(storage.get(plan_key(import_id)))
    except StorageError:
        log.warning("import %s: its report or photo plan is missing", import_id)
        return
    for listing_id, url, code, params in failures:
        report["issues"].append(
            {
                "row": rows.get(str(listing_id)),
                "column": COLUMN,
                "value": url,
                "code": f"photo_{code}",
                "error": False,
                "message": {
                    "fr": f"Photo non récupérée : {refusal(code, params, 'fr')}.",
                    "en": f"Photo not fetched: {refusal(code, params, 'en')}.",
                },
            }
        )
    report["issues_total"] = report.get("issues_total", 0) + len(failures)
    counts = report.get("photos") or {"fetched": 0, "failed": 0}
    report["photos"] = {
        "fetched": counts["fetched"] + fetched,
        "failed": counts["failed"] + len(failures),
    }
    storage.put(
        record.report_key, json.dumps(report, ensure_ascii=False).encode(), "application/json"
    )
    db.session.execute(
        update(ListingImport)
        .where(ListingImport.id == import_id)
        .values(warnings_count=ListingImport.warnings_count + len(failures))
    )
