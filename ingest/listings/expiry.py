"""The daily expiry of listings: published listings past their expiry date become `expired`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.store import log as log_events
from sites.search.engine import listings_changed

log = logging.getLogger("vivrau.ingest")
PARIS = ZoneInfo("Europe/Paris")


def expire_here(today: date | None = None) -> int:
    """Expire the bound territory's listings whose `expires_on` is before `today` (Paris);
    each one is logged as `expire` by the system. Runs in the caller's transaction."""
    today = today or datetime.now(PARIS).date()
    rows = db.session.execute(
        text(
            """
            UPDATE listings SET status = 'expired', updated_at = now()
            WHERE status = 'published' AND expires_on < :today
            RETURNING id, external_id, kind
            """
        ),
        {"today": today},
    ).all()
    by_kind: dict[str, list] = {}
    for listing_id, external_id, kind in rows:
        by_kind.setdefault(kind, []).append(
            (listing_id, external_id, "expire", {"status": ["published", "expired"]})
        )
    connection = db.session.connection()
    for kind, events in by_kind.items():
        log_events(connection, kind, events, source="system")
    if rows:
        listings_changed()
    return len(rows)


def expire_listings(today: date | None = None) -> dict[str, int]:
    """Cron, daily: expire listings in every territory, one transaction each; a territory that
    fails does not stop the others, and the run fails at the end naming it."""
    from tenants.registry import Tenant

    territories = [
        t.ref() for t in db.session.execute(select(Tenant).order_by(Tenant.id)).scalars()
    ]
    db.session.rollback()
    expired, failed = {}, []
    for ref in territories:
        with tenant_scope(ref):
            try:
                expired[ref.slug] = expire_here(today)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("expiring the listings of %s failed", ref.slug)
                failed.append(ref.slug)
    if any(expired.values()):
        log.info("expired listings: %s", {k: v for k, v in expired.items() if v})
    if failed:
        raise RuntimeError(f"listing expiry failed for {', '.join(failed)}")
    return expired
