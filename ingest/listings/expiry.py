"""The daily expiry of listings: published listings past their expiry date become `expired`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.jobs import for_each_territory
from ingest.listings.statuses import expire_past

log = logging.getLogger("vivrau.ingest")
PARIS = ZoneInfo("Europe/Paris")


def expire_here(today: date | None = None) -> int:
    """Expire the bound territory's listings whose `expires_on` is before `today` (Paris);
    each one is logged as `expire` by the system. Runs in the caller's transaction."""
    return expire_past(today or datetime.now(PARIS).date())


def expire_listings(today: date | None = None) -> dict[str, int]:
    """Cron, daily: expire listings in every territory, one transaction each; a territory that
    fails does not stop the others, and the run fails at the end naming it."""
    expired = for_each_territory(lambda _territory: expire_here(today), "listing expiry")
    if any(expired.values()):
        log.info("expired listings: %s", {k: v for k, v in expired.items() if v})
    return expired
