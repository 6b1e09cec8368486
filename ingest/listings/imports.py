"""Normed-file imports: keep the upload, validate it, report in French and English, apply it
in one transaction.

Progress (status, rows read/valid) is written through a second, short-lived connection so the
console sees it while the import's own transaction, which holds the listings, stays open until
the single commit: a run killed half-way leaves the listings as they were, and running the same
import again reaches the same result. A thread of the run writes its heartbeat the same way:
silent, the run has lost its worker, and the import sweep (ingest.listings.recovery) runs it
again.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import re
import threading
import unicodedata
import zipfile

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.auth.models import Account
from core.db import utcnow
from core.extensions import db
from core.i18n import pick
from core.jobs import job
from core.mail import queue_mail
from core.registry import primary_host
from core.storage import get_storage
from core.tenancy import engine_for, require_tenant
from ingest.listings.declaration import KIND_TITLES, fields_of
from ingest.listings.models import IMPORT_COUNTERS, ListingEvent, ListingImport
from ingest.listings.normed import MAX_BYTES, Issue, NormedFileError, limits, read_normed
from ingest.listings.photo_fetch import plan_import
from ingest.listings.reports import build_report
from ingest.listings.rules import locate
from ingest.listings.store import upsert
from ingest.listings.wording import MAIL, quoted
from ingest.listings.xlsx import DAMAGED
from tenants.entitlements import Feature, entitled

log = logging.getLogger("vivrau.ingest")

#: Files up to this size and row count are imported while the uploader waits; larger ones go
#: to a worker and the console shows their progress.
INLINE_BYTES = 1 << 20
INLINE_ROWS = 5_000
#: An XLSX's row count cannot be guessed from its size without unzipping: smaller bound, and
#: its parts once unzipped (as its zip directory declares them) bound the work done inline.
INLINE_XLSX_BYTES = 200 << 10
INLINE_XLSX_UNZIPPED = 2 << 20
FINAL = ("done", "rejected")
JOB_TIMEOUT = 3600
#: Seconds a run waits for another run of the same import to end.
BUSY_WAIT = 120
PAGE = "/console/annonces/imports/{id}"


class ImportBusy(RuntimeError):
    """The same import is already running elsewhere."""


def safe_filename(filename: str) -> str:
    """A storage-safe name that still reads like the upload: `annonces été 2026.csv` →
    `annonces_ete_2026.csv`."""

    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")[-100:]
    if not cleaned or cleaned == "report.json":
        cleaned = "fichier" + (("." + cleaned.rsplit(".", 1)[-1]) if "." in cleaned else "")
    return cleaned


def _estimated_rows(data: bytes) -> int:
    return data.count(b"\n")


def _unzipped_size(data: bytes) -> int | None:
    """What a zip's directory says its members inflate to (None: not a readable zip)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except DAMAGED:
        return None


def runs_inline(data: bytes) -> bool:
    """Whether the uploader may wait for the import: only files whose reading is small by
    construction (the web request never walks a large or hostile file; a worker does)."""
    if data[:4] == b"PK\x03\x04":
        if len(data) > INLINE_XLSX_BYTES:
            return False
        unzipped = _unzipped_size(data)
        return unzipped is None or unzipped <= INLINE_XLSX_UNZIPPED  # None: refused unread
    return len(data) <= INLINE_BYTES and _estimated_rows(data) <= INLINE_ROWS


def submit(
    kind: str,
    data: bytes,
    filename: str,
    *,
    account=None,
    snapshot: bool = False,
    dry_run: bool = False,
    valid_only: bool = False,
    inline: bool | None = None,
    locale: str | None = None,
) -> ListingImport:
    """Keep the file and record the import (committed, `queued`); then run it now (`inline`,
    default: small files) or on a worker. Raises NormedFileError for a file over the limits,
    which is refused before anything is stored. While Redis is away the import stays queued
    and the import sweep (ingest.listings.recovery) queues it later."""
    fields_of(kind)  # an unknown kind is a programming error, not a report
    ref = require_tenant()
    if len(data) > MAX_BYTES:
        raise NormedFileError("too_large", limit_mb=MAX_BYTES // 2**20)
    most = limits().rows
    if data[:4] != b"PK\x03\x04" and _estimated_rows(data) > most + 1:
        raise NormedFileError("too_many_rows", limit=most)

    record = ListingImport(
        kind=kind,
        filename=(filename or "fichier")[:255],
        size_bytes=len(data),
        file_key="",
        snapshot=snapshot,
        dry_run=dry_run,
        valid_only=valid_only,
        status="queued",
        created_by_id=getattr(account, "id", account),
    )
    db.session.add(record)
    db.session.flush()
    record.file_key = f"imports/{record.id}/{safe_filename(filename)}"
    get_storage().for_tenant(ref.slug).put(record.file_key, data)
    db.session.commit()
    if inline is None:
        inline = runs_inline(data)
    if inline:
        return run_import(record.id)
    queue_run(record, locale=locale or getattr(account, "locale", None))
    return record


#: The import's message when its territory may no longer import (the console shows it).
NOT_SUBSCRIBED = "not run: this territory's subscription does not cover listings today"


def run_job_id(slug: str, import_id: int, attempts: int) -> str:
    """The job id of an import's next run, deterministic so that a run is queued once however
    many sweeps find it: `import-<territory>-<id>`, then `…-2`, `…-3` for the runs after an
    interrupted or failed one (a dead worker's job keeps its id in RQ's registries)."""
    base = f"import-{slug}-{import_id}"
    return base if attempts == 0 else f"{base}-{attempts + 1}"


def queue_run(record: ListingImport, locale: str | None = None):
    """Queue the next run of a committed import; None (and a warning) while Redis is away,
    the import sweep queues it then."""
    slug = require_tenant().slug
    return import_job.try_enqueue(
        record.id,
        tenant=slug,
        locale=locale,
        job_id=run_job_id(slug, record.id, record.attempts),
    )


@job(queue="low", timeout=JOB_TIMEOUT)
def import_job(import_id: int) -> str:
    """Worker: run the import, then mail the person who uploaded it. A territory whose
    subscription has ended gets its import failed with the reason, never run (its file is kept:
    it can run again once the subscription is back)."""
    if not entitled(require_tenant(), Feature.base):
        _progress(import_id, status="failed", finished_at=utcnow(), message=NOT_SUBSCRIBED)
        return "failed"
    return run_import(import_id, notify=True).status


def _progress(import_id: int, **values) -> None:
    """Write progress in its own short transaction, visible to the console at once."""
    engine = engine_for(db.engine, require_tenant().schema)
    with engine.begin() as connection:
        connection.execute(
            update(ListingImport).where(ListingImport.id == import_id).values(**values)
        )


class Heartbeat:
    """Writes an import's `heartbeat_at` every `period` seconds from a thread of its own while
    the run works (a long read, the COPY, the upsert): it stops with the run, or with its
    process, which is how the import sweep knows a worker is gone."""

    def __init__(self, import_id: int, period: float):
        self.import_id, self.period = import_id, period
        self.engine = engine_for(db.engine, require_tenant().schema)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"import-{import_id}-heartbeat", daemon=True
        )

    def _beat(self) -> None:
        while not self._stop.wait(self.period):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        update(ListingImport)
                        .where(ListingImport.id == self.import_id)
                        .values(heartbeat_at=func.now())
                    )
            except SQLAlchemyError as error:  # a blip: the next beat tries again
                log.warning("heartbeat of import %s not written: %s", self.import_id, error)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def _bulk():
    """No cyclic garbage collection while a file's rows are read and written: its records are
    hundreds of thousands of lists and dicts, no cycles, which the collector would walk again
    and again (a fifth of a 100 000-row read). It runs again, as it was, afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(import_id: int, *, notify: bool = False) -> ListingImport:
    """Read, validate, report and (when the file allows it) apply one import.

    A `done` or `rejected` import is returned as it is; any other (queued, interrupted, failed)
    runs from the start again. Unexpected errors mark it `failed` and are re-raised.
    """
    ref = require_tenant()
    db.session.rollback()
    record = db.session.get(ListingImport, import_id)
    if record is None:
        raise LookupError(f"no import {import_id} in territory {ref.slug}")
    if record.status in FINAL:
        return record
    # One run at a time: a lock held by this transaction, released when it ends or its process
    # dies. A re-run waits for an interrupted run's connection to be gone, then starts afresh.
    db.session.execute(text(f"SET LOCAL lock_timeout = '{BUSY_WAIT}s'"))
    try:
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:schema), :id)"),
            {"schema": ref.schema, "id": import_id},
        )
    except OperationalError:
        db.session.rollback()
        raise ImportBusy(f"import {import_id} is already running") from None
    db.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    db.session.refresh(record)
    if record.status in FINAL:  # another run finished it while this one waited
        db.session.rollback()
        return record
    kind = record.kind
    _progress(
        import_id,
        status="reading",
        started_at=utcnow(),
        finished_at=None,
        message=None,
        attempts=ListingImport.attempts + 1,
        heartbeat_at=func.now(),
        **dict.fromkeys(IMPORT_COUNTERS, 0),
    )
    try:
        with Heartbeat(import_id, current_app.config["IMPORT_HEARTBEAT_SECONDS"]), _bulk():
            values = _run(record, ref)
            db.session.execute(
                update(ListingImport).where(ListingImport.id == import_id).values(**values)
            )
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("import %s of territory %s failed", import_id, ref.slug)
        _progress(
            import_id,
            status="failed",
            finished_at=utcnow(),
            message=f"{type(exc).__name__}: {exc}"[:2000],
        )
        if notify:
            notify_uploader(import_id)
        raise
    log.info("import %s (%s) of territory %s: %s", import_id, kind, ref.slug, values["status"])
    if notify:
        notify_uploader(import_id)
    db.session.expire_all()
    return db.session.get(ListingImport, import_id)


def _run(record: ListingImport, ref) -> dict:
    """The import's work in the open transaction; returns the final values of its row."""

    storage = get_storage().for_tenant(ref.slug)
    import_id, kind = record.id, record.kind
    data = storage.get(record.file_key)
    try:
        normed = read_normed(kind, data, record.filename)
    except NormedFileError as exc:
        issues, rows, rows_read, meta = [Issue(exc.code, params=exc.params)], [], 0, {}
        refused: list[dict] = []
    else:
        issues, rows, rows_read = list(normed.issues), normed.rows, normed.rows_read
        refused = normed.communes_to_check
        meta = {"format": normed.format, "encoding": normed.encoding}
        meta["delimiter"] = normed.delimiter
    _progress(import_id, rows_read=rows_read)
    issues += [
        Issue(p.code, row=rows[p.index]["_row"], column=p.column, value=p.value, params=p.params)
        for p in locate(db.session, rows)
    ]
    # The rows refused already are checked for their commune too: every error in one pass.
    issues += [
        Issue(p.code, row=refused[p.index]["_row"], column=p.column, value=p.value,
              params=p.params)
        for p in locate(db.session, refused)
    ]  # fmt: skip
    bad = {i.row for i in issues if i.error and i.row is not None}
    valid = [r for r in rows if r["_row"] not in bad]
    errors = sum(1 for i in issues if i.error)
    counts = {
        "rows_read": rows_read,
        "rows_valid": len(valid),
        "errors_count": errors,
        "warnings_count": len(issues) - errors,
    }
    if errors and (not record.valid_only or not valid or not rows):
        status = "rejected"
    else:
        status = "done"
    _progress(import_id, status="applying" if status == "done" else "reading", **counts)
    outcome = None
    if status == "done":
        apply = {
            "source": "file",
            "account_id": record.created_by_id,
            "import_id": import_id,
            "snapshot": record.snapshot,
        }
        if record.dry_run:
            # The real statements in a savepoint rolled back: exact counts, nothing kept.
            savepoint = db.session.begin_nested()
            try:
                outcome = upsert(db.session, kind, valid, **apply)
            finally:
                savepoint.rollback()
        else:
            outcome = upsert(db.session, kind, valid, **apply)
            plan_import(import_id, kind, valid, outcome.results)
    report_key = f"imports/{import_id}/report.json"
    summary = counts | _outcome_counts(outcome, record.dry_run)
    report = build_report(record, issues, status, summary, meta)
    storage.put(report_key, json.dumps(report, ensure_ascii=False).encode(), "application/json")
    if outcome is not None and not record.dry_run:
        db.session.add(
            ListingEvent(
                kind=kind,
                action="import",
                source="file",
                account_id=record.created_by_id,
                import_id=import_id,
                changes={k: summary[k] for k in ("created", "updated", "unchanged", "unpublished")},
            )
        )
    return summary | {
        "status": status,
        "report_key": report_key,
        "finished_at": utcnow(),
        "message": None,
    }


def _outcome_counts(outcome, dry_run: bool) -> dict:
    if outcome is None:
        return dict.fromkeys(("rows_applied", "created", "updated", "unchanged", "unpublished"), 0)
    return {
        "rows_applied": 0 if dry_run else outcome.created + outcome.updated + outcome.unchanged,
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "unpublished": outcome.unpublished,
    }


def notify_uploader(import_id: int) -> None:
    """Mail the uploader the outcome, in their language, with a link to the import's page."""

    ref = require_tenant()
    db.session.rollback()
    record = db.session.get(ListingImport, import_id)
    account = db.session.get(Account, record.created_by_id) if record.created_by_id else None
    if account is None or account.deletion_requested_at is not None:
        db.session.rollback()
        return
    locale = account.locale if account.locale in ("fr", "en") else "fr"
    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "https"
    link = f"{scheme}://{primary_host(db.session, ref.id)}{PAGE.format(id=record.id)}"
    outcome_key = "dry_run" if record.status == "done" and record.dry_run else record.status
    outcome = pick(*MAIL.get(outcome_key, MAIL["failed"]), locale)
    values = {
        "name": account.display_name,
        "filename": quoted(record.filename),
        "kind": pick(*KIND_TITLES[record.kind], locale).lower(),
        "outcome": outcome,
        "link": link,
        "errors": record.errors_count,
        "warnings": record.warnings_count,
        **{name: getattr(record, name) for name in IMPORT_COUNTERS},
    }
    queue_mail(
        account.email,
        pick(*MAIL["subject"], locale).format(**values).replace("\n", " "),
        pick(*MAIL["body"], locale).format(**values),
    )
    db.session.commit()


def recent(limit: int = 50) -> list[ListingImport]:
    """The territory's latest imports, newest first (the console's history)."""
    return list(
        db.session.execute(
            select(ListingImport).order_by(ListingImport.id.desc()).limit(limit)
        ).scalars()
    )
