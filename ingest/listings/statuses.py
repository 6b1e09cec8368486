"""Status changes of listings: publishing, unpublishing and the daily expiry, each logged with
who did it and announced once committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text

from core.extensions import db
from ingest.listings.models import Listing
from ingest.listings.store import WRITABLE_STATUSES, announce_written, log


def change_status(
    listings: list[tuple[int, str, str, str]],
    status: str,
    *,
    source: str,
    account_id: int | None = None,
    api_key_id: int | None = None,
    connection=None,
) -> None:
    """Give (id, external id, kind, current status) listings `status`, each change logged as
    `publish`, `unpublish` or `expire` with who did it. Runs in the caller's transaction."""
    if status not in (*WRITABLE_STATUSES, "expired"):
        raise ValueError(f"status {status!r}: one of {', '.join(WRITABLE_STATUSES)} or expired")
    changing = [row for row in listings if row[3] != status]
    if not changing:
        return
    connection = connection if connection is not None else db.session.connection()
    # A person or a client changing the status becomes the listing's last editor; the daily
    # expiry (source "system") leaves who edited it last alone.
    who = "" if source == "system" else ", source = :source, updated_by_id = :account"
    connection.execute(
        text(f"UPDATE listings SET status = :status, updated_at = now(){who} WHERE id = ANY(:ids)"),  # noqa: S608 - fixed text
        {
            "status": status,
            "source": source,
            "account": account_id,
            "ids": [r[0] for r in changing],
        },
    )
    action = {"published": "publish", "expired": "expire"}.get(status, "unpublish")
    by_kind: dict[str, list] = {}
    for listing_id, external_id, kind, before in changing:
        by_kind.setdefault(kind, []).append(
            (listing_id, external_id, action, {"status": [before, status]})
        )
    for kind, events in by_kind.items():
        log(connection, kind, events, source=source, account_id=account_id, api_key_id=api_key_id)
    announce_written([r[0] for r in changing] if status == "published" else [])


@dataclass
class StatusChange:
    changed: list[Listing] = field(default_factory=list)
    expired: list[Listing] = field(default_factory=list)


def publish_or_unpublish(
    listings: list[Listing], status: str, account_id: int | None
) -> StatusChange:
    """Publish or unpublish, logged as such with who did it; a listing past its expiry date
    cannot be published (it would be expired at once) and is reported instead."""
    if status not in ("published", "unpublished"):
        raise ValueError(f"status {status!r}: published or unpublished")
    result = StatusChange()
    today = date.today()
    for listing in listings:
        if listing.status == status:
            continue
        if status == "published" and listing.expires_on is not None and listing.expires_on < today:
            result.expired.append(listing)
            continue
        result.changed.append(listing)
    if not result.changed:
        return result
    db.session.flush()
    change_status(
        [(x.id, x.external_id, x.kind, x.status) for x in result.changed],
        status,
        source="manual",
        account_id=account_id,
    )
    for x in result.changed:
        db.session.expire(x)  # changed in SQL: read again when next used
    return result


def expire_past(today: date) -> int:
    """Expire the bound territory's published listings whose `expires_on` is before `today`,
    each logged as `expire` by the system; returns how many. Runs in the caller's transaction."""
    connection = db.session.connection()
    rows = connection.execute(
        text(
            "SELECT id, external_id, kind, status FROM listings "
            "WHERE status = 'published' AND expires_on < :today FOR UPDATE"
        ),
        {"today": today},
    ).all()
    change_status([tuple(r) for r in rows], "expired", source="system", connection=connection)
    return len(rows)
