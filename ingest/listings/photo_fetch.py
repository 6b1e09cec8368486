"""Photos given as addresses (a normed file's `photo_url` column, the API's): fetched once by a
worker (core.fetch: never from a page), checked, resized and stored; each failure is kept on the
listing's photo rows and, for a file, added to its import's report (row, column, reason)."""

from __future__ import annotations

import json
import logging

from flask import current_app
from sqlalchemy import select, update

from core.commit import after_commit
from core.extensions import db
from core.fetch import FetchError, fetch
from core.images import MAX_PHOTO_BYTES
from core.jobs import job
from core.storage import StorageError, get_storage
from core.tenancy import require_tenant
from ingest.listings.models import Listing, ListingImport, ListingPhoto
from ingest.listings.photos import PhotoError, add_photo, refusal, remove_photo, source_urls

log = logging.getLogger("vivrau.ingest")
COLUMN = "photo_url"


def plan_key(import_id: int) -> str:
    return f"imports/{import_id}/photos.json"


def schedule(listing_ids: list[int], import_id: int | None = None) -> None:
    """Queue the fetch once the current transaction commits (nothing queued if it rolls back)."""
    ids = sorted(set(listing_ids))
    if not ids:
        return
    slug = require_tenant().slug
    after_commit(lambda: fetch_photos.try_enqueue(ids, import_id, tenant=slug))


def plan_import(import_id: int, rows: list[dict], results: dict) -> None:
    """Keep which row of an applied file gave each listing its addresses, for the report, and
    schedule their fetch. `results`: external_id → (listing id, action), as the upsert says."""
    plan = {}
    for row in rows:
        found = results.get(row.get("external_id"))
        if found is None:
            continue
        listing_id, action = found
        if row.get(COLUMN) or action == "update":  # an emptied column removes fetched photos
            plan[str(listing_id)] = row["_row"]
    if not plan:
        return
    storage = get_storage().for_tenant(require_tenant().slug)
    storage.put(plan_key(import_id), json.dumps(plan).encode(), "application/json")
    schedule([int(i) for i in plan], import_id)


@job("low", timeout=3600)
def fetch_photos(listing_ids: list[int], import_id: int | None = None) -> dict:
    """Bring each listing's stored photos in line with its addresses: new addresses fetched
    (once: a failure is kept and not tried again), removed ones' photos deleted."""
    config = current_app.config
    source = "file" if import_id is not None else "api"
    failures: list[tuple[int, str, str, dict]] = []
    fetched = 0
    for listing_id in listing_ids:
        listing = db.session.get(Listing, listing_id)
        if listing is None:
            continue
        wanted = source_urls(listing.photo_url)
        existing = {
            p.source_url: p
            for p in db.session.execute(
                select(ListingPhoto).where(
                    ListingPhoto.listing_id == listing_id, ListingPhoto.source_url.is_not(None)
                )
            ).scalars()
        }
        for url, photo in existing.items():
            if url not in wanted:
                remove_photo(photo)
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
        db.session.commit()  # each listing's photos kept as they come
    if import_id is not None:
        _report(import_id, fetched, failures)
    return {"fetched": fetched, "failed": len(failures)}


def _report(import_id: int, fetched: int, failures: list) -> None:
    """Add the failures to the import's report, as warnings of their row and column."""
    record = db.session.get(ListingImport, import_id)
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
    report["photos"] = {"fetched": fetched, "failed": len(failures)}
    storage.put(
        record.report_key, json.dumps(report, ensure_ascii=False).encode(), "application/json"
    )
    db.session.execute(
        update(ListingImport)
        .where(ListingImport.id == import_id)
        .values(warnings_count=ListingImport.warnings_count + len(failures))
    )
