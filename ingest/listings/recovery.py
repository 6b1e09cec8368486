"""Imports that lost their way: the import sweep (cron, every IMPORT_SWEEP_SECONDS) queues the
imports committed while Redis was away, runs again those whose worker died (its heartbeat
stopped) up to IMPORT_MAX_ATTEMPTS interrupted runs, then marks them failed; and the console's
"run again".

A run is never doubled: job ids are deterministic per run (`run_job_id`), and a run holds the
import's advisory lock, so a second one waits for it and finds the import finished.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func, select, update

from core.db import utcnow
from core.extensions import db, redis_connection
from core.jobs import for_each_territory
from core.tenancy import TenantRef
from ingest.listings.imports import notify_uploader, queue_run, run_job_id
from ingest.listings.models import IMPORT_STARTED, INTERRUPTED, ListingImport
from tenants.entitlements import Feature, entitled

log = logging.getLogger("vivrau.ingest")


def _stale() -> timedelta:
    return timedelta(seconds=current_app.config["IMPORT_STALE_SECONDS"])


def _last_sign_of_life():
    return func.coalesce(
        ListingImport.heartbeat_at, ListingImport.started_at, ListingImport.created_at
    )


def is_interrupted(record: ListingImport) -> bool:
    """A run started and fell silent for IMPORT_STALE_SECONDS: its worker (or the request that
    ran it) is gone."""
    if record.status not in IMPORT_STARTED:
        return False
    seen = record.heartbeat_at or record.started_at or record.created_at
    return seen is None or seen < utcnow() - _stale()


def can_run_again(record: ListingImport) -> bool:
    """The console's "run again": a failed import, or one whose run was interrupted."""
    return record.status == "failed" or is_interrupted(record)


def sweep_imports() -> dict[str, dict[str, int]]:
    """Cron: in every territory, interrupted imports run again (or fail after
    IMPORT_MAX_ATTEMPTS interruptions), and queued imports with no job are queued."""
    return for_each_territory(sweep_territory, "import sweep")


def sweep_territory(ref: TenantRef) -> dict[str, int]:
    """The sweep of the bound territory: what it re-queued, gave up and queued (nothing while
    its subscription does not cover listings: its imports would only fail)."""
    if not entitled(ref, Feature.base):
        return {"rerun": 0, "failed": 0, "queued": 0}
    stale_before = func.now() - _stale()
    given_up = ListingImport.interruptions + 1 >= current_app.config["IMPORT_MAX_ATTEMPTS"]
    # One statement: rows that another sweep already moved no longer match, so each
    # interrupted run is counted and re-queued once.
    moved = db.session.execute(
        update(ListingImport)
        .where(ListingImport.status.in_(IMPORT_STARTED), _last_sign_of_life() < stale_before)
        .values(
            interruptions=ListingImport.interruptions + 1,
            status=case((given_up, "failed"), else_="queued"),
            message=case((given_up, INTERRUPTED), else_=None),
            finished_at=case((given_up, func.now()), else_=None),
            heartbeat_at=func.now(),
        )
        .returning(ListingImport.id, ListingImport.status, ListingImport.attempts)
    ).all()
    db.session.commit()
    failed = [row.id for row in moved if row.status == "failed"]
    for import_id in failed:
        log.warning("import %s of %s interrupted too often: marked failed", import_id, ref.slug)
        notify_uploader(import_id)
    requeued = {row.id for row in moved if row.status == "queued"}
    forgotten = db.session.execute(
        select(ListingImport).where(
            ListingImport.status == "queued",
            (ListingImport.id.in_(requeued)) | (_last_sign_of_life() < stale_before),
        )
    ).scalars()
    queued = 0
    for record in list(forgotten):
        if not has_live_job(run_job_id(ref.slug, record.id, record.attempts)):
            queue_run(record)
            queued += 1
    db.session.rollback()
    if moved or queued:
        log.info(
            "import sweep of %s: %s re-run, %s failed, %s queued",
            ref.slug,
            len(requeued),
            len(failed),
            queued,
        )
    return {"rerun": len(requeued), "failed": len(failed), "queued": queued}


def has_live_job(job_id: str) -> bool:
    """Whether RQ holds a job by that id that will still run (or runs): the import needs no
    other."""
    # heavy (rq): imported when a job is looked up, not at start-up
    from rq.exceptions import NoSuchJobError  # noqa: PLC0415
    from rq.job import Job, JobStatus  # noqa: PLC0415

    live = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
    try:
        return Job.fetch(job_id, connection=redis_connection()).get_status() in live
    except NoSuchJobError:
        return False


def run_again(import_id: int) -> bool:
    """The console's "run again": a failed or interrupted import queued anew, with a fresh
    allowance of interruptions. False when it cannot (unknown, running, or ended)."""
    stale_before = func.now() - _stale()
    record = db.session.execute(
        update(ListingImport)
        .where(
            ListingImport.id == import_id,
            (ListingImport.status == "failed")
            | (ListingImport.status.in_(IMPORT_STARTED) & (_last_sign_of_life() < stale_before)),
        )
        .values(
            status="queued",
            interruptions=0,
            message=None,
            finished_at=None,
            heartbeat_at=func.now(),
        )
        .returning(ListingImport)
    ).scalar_one_or_none()
    if record is None:
        return False
    # Committed before it is queued: the worker must find it (as `submit` does).
    db.session.commit()
    queue_run(record)
    return True
