"""Imports that lost their way, on a Redis of the test's own: sent while Redis was away (queued by
the import sweep once it is back, once), a worker killed with `kill -9` in the middle of an import
(run again by the sweep within its staleness threshold, to the same result), an import
interrupted too often (marked failed, the uploader told), and the console's "run again"."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.pool import NullPool

from core.config import ROOT, database_url
from core.db import utcnow
from core.extensions import db
from core.mail import OutboxMail
from core.tenancy import tenant_scope
from ingest.listings.imports import INLINE_ROWS, submit
from ingest.listings.models import INTERRUPTED, Listing, ListingImport
from ingest.listings.recovery import sweep_imports
from tests import private_redis as private_redis_fixtures
from tests.listing_import_helpers import csv_file, house
from tests.private_redis import app_on, queued_ids, run_queued_jobs
from tests.support import TEST_DATABASE_URL, Visitor, host

#: Seconds: the longest a worker process may take to start, run or stop here.
PROCESS_BOUND = 90


server = private_redis_fixtures.server
town = private_redis_fixtures.town


@pytest.fixture
def editor(town, make_account):
    return make_account(roles=[("editor", town)])


def record_of(app, town, import_id: int) -> ListingImport:
    with app.app_context(), tenant_scope(town):
        record = db.session.get(ListingImport, import_id)
        db.session.expunge(record)
        db.session.rollback()
    return record


def sweep(app) -> dict[str, int]:
    with app.app_context(), tenant_scope(None):
        return sweep_imports()


def test_an_import_sent_while_redis_is_away_is_queued_by_the_sweep_once_it_is_back(
    app, server, town, editor, tmp_path_factory
):
    # Over INLINE_ROWS: a worker's import, not one run while the editor waits (and under the
    # test client's 500 KB, above which it leaves its request body in a temporary file open).
    header = ["external_id", "title", "commune_insee", "transaction", "property_type", "price"]
    rows = [house(f"Q-{i}", title="Maison") for i in range(INLINE_ROWS + 1)]
    big = csv_file(rows, header=header)
    settings = {"REDIS_RETRY_SECONDS": 0, "IMPORT_STALE_SECONDS": 0}
    with app_on(server, app, tmp_path_factory, **settings) as running:
        site = Visitor(running, host(town))
        site.login(editor)
        server.stop()
        sent = site.post(
            "/console/annonces/imports",
            {"kind": "real_estate", "file": (io.BytesIO(big), "grand.csv")},
            content_type="multipart/form-data",
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
        import_id = int(sent.location.rsplit("/", 1)[1])
        assert record_of(running, town, import_id).status == "queued"
        page = site.get(sent.location)
        assert page.status_code == 200 and "En attente" in page.get_data(as_text=True)

        server.start()  # empty: the job was never there
        assert sweep(running)[town.slug] == {"rerun": 0, "failed": 0, "queued": 1}
        assert sweep(running)[town.slug]["queued"] == 0, "a queued job is not queued twice"
        assert queued_ids(server) == [f"import-{town.slug}-{import_id}"]
        run_queued_jobs(running)
    done = record_of(app, town, import_id)
    assert (done.status, done.created, done.attempts) == ("done", INLINE_ROWS + 1, 1)


def start_worker(server, app, *extra: str, heartbeat: float) -> subprocess.Popen:
    """A real `rq worker` on the private Redis and the test database, in a process group of its
    own (the worker and the work-horse it forks for each job)."""
    env = dict(
        os.environ,
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=server.url,
        STORAGE_URL=app.config["STORAGE_URL"],
        SECRET_KEY="test-secret",
        IMPORT_HEARTBEAT_SECONDS=str(heartbeat),
        LOG_LEVEL="ERROR",
        LOG_FORMAT="text",
    )
    command = [str(ROOT / ".venv/bin/rq"), "worker", "--url", server.url]
    command += ["--worker-class", "workers.process.AppWorker", *extra, "low"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def poll(check, what: str, process: subprocess.Popen | None = None, seconds=PROCESS_BOUND):
    """`check()` until it is true, for `seconds` at most (and while `process` lives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the worker ended: {process.stderr.read()[-3000:]!r}")
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


def test_a_worker_killed_during_an_import_is_run_again_by_the_sweep(
    app, server, town, tmp_path_factory
):
    stale, heartbeat = 2.0, 0.2
    settings = {"REDIS_RETRY_SECONDS": 0, "IMPORT_STALE_SECONDS": stale}
    rows = [house(f"K-{i}") for i in range(200)]
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with app_on(server, app, tmp_path_factory, **settings) as running:
        with running.app_context(), tenant_scope(town):
            import_id = submit("real_estate", csv_file(rows), "gros.csv", inline=False).id
        blocker = engine.connect()
        worker = None
        try:
            # Readers may read, writers wait: the import gets stuck at its one write to listings.
            blocker.exec_driver_sql(f'LOCK TABLE "{town.schema}".listings IN SHARE MODE')
            worker = start_worker(server, running, heartbeat=heartbeat)

            def beating():
                record = record_of(running, town, import_id)
                return record.status == "applying" and record.heartbeat_at > (
                    record.started_at + timedelta(seconds=2 * heartbeat)
                )

            # Stuck in its upsert, the run still says it lives.
            poll(beating, "the import's heartbeat while it works", worker)
            # The machine dies: the worker, and the work-horse it forked for the job (a
            # process group of its own).
            horses = children(worker.pid)
            assert horses, "the job runs in a forked work-horse"
            os.killpg(worker.pid, signal.SIGKILL)
            for horse in horses:
                os.killpg(horse, signal.SIGKILL)
            worker.wait(PROCESS_BOUND)
        finally:
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(PROCESS_BOUND)
            if worker is not None:
                worker.stderr.close()
            blocker.rollback()
            blocker.close()
            engine.dispose()
        assert record_of(running, town, import_id).status == "applying"

        # The cron's sweep, as often as the test likes: it acts once the heartbeat is stale.
        began = time.monotonic()
        poll(lambda: sweep(running)[town.slug]["rerun"], "the sweep's re-run")
        assert time.monotonic() - began < stale + 2
        requeued = record_of(running, town, import_id)
        assert (requeued.status, requeued.attempts, requeued.interruptions) == ("queued", 1, 1)
        assert queued_ids(server) == [f"import-{town.slug}-{import_id}-2"]

        finisher = start_worker(server, running, "--burst", heartbeat=heartbeat)
        try:
            assert finisher.wait(PROCESS_BOUND) == 0, finisher.stderr.read()[-3000:]
        finally:
            finisher.stderr.close()
    done = record_of(app, town, import_id)
    assert (done.status, done.created, done.attempts, done.interruptions) == ("done", 200, 2, 1)
    with app.app_context(), tenant_scope(town):
        assert db.session.query(Listing).count() == 200
        db.session.rollback()


def interrupt(app, town, import_id: int) -> None:
    """What a worker killed mid-run leaves: a started run, silent for an hour."""
    with app.app_context(), tenant_scope(town):
        db.session.execute(
            update(ListingImport)
            .where(ListingImport.id == import_id)
            .values(
                status="reading",
                attempts=ListingImport.attempts + 1,
                started_at=utcnow() - timedelta(hours=1),
                heartbeat_at=utcnow() - timedelta(hours=1),
            )
        )
        db.session.commit()


def test_an_import_interrupted_too_often_fails_and_the_console_runs_it_again(
    app, server, town, editor, make_account, tmp_path_factory
):
    resident = make_account()
    settings = {"REDIS_RETRY_SECONDS": 0, "IMPORT_MAX_ATTEMPTS": 2}
    with app_on(server, app, tmp_path_factory, **settings) as running:
        site = Visitor(running, host(town))
        site.login(editor)
        sent = site.post(
            "/console/annonces/imports",
            {"kind": "real_estate", "file": (io.BytesIO(csv_file([house("A-1")])), "a.csv")},
            content_type="multipart/form-data",
        )
        import_id = int(sent.location.rsplit("/", 1)[1])
        detail = f"/console/annonces/imports/{import_id}"
        again = f"{detail}/relancer"
        assert "Relancer l" not in site.get(detail).get_data(as_text=True), "done: no button"

        interrupt(running, town, import_id)
        page = site.get(detail).get_data(as_text=True)
        assert "interrompu" in page and "Relancer l" in page  # before any sweep
        assert sweep(running)[town.slug] == {"rerun": 1, "failed": 0, "queued": 1}
        interrupt(running, town, import_id)
        assert sweep(running)[town.slug] == {"rerun": 0, "failed": 1, "queued": 0}
        failed = record_of(running, town, import_id)
        assert (failed.status, failed.message, failed.interruptions) == ("failed", INTERRUPTED, 2)
        page = site.get(detail).get_data(as_text=True)
        assert "abandonné" in page and "Relancer l" in page
        assert "(2 interrompues)" in site.get("/console/annonces/imports").get_data(as_text=True)
        with running.app_context():  # the uploader is told, as at the end of any import
            mails = db.session.execute(
                select(OutboxMail.body_text).where(OutboxMail.to_addr == editor)
            ).scalars()
            told = [body for body in mails if "échec" in body and detail in body]
            db.session.rollback()
        assert len(told) == 1

        # Refused: without the form's token, or by someone who is not an editor here.
        refused = site.client.post(again, base_url=site.base)
        assert refused.status_code == 400
        stranger = Visitor(running, host(town))
        stranger.login(resident)
        assert stranger.post(again, csrf_from="/compte/connexion").status_code in (403, 404)
        assert record_of(running, town, import_id).status == "failed"

        ran = site.post(again, csrf_from=detail)
        assert ran.status_code == 302 and ran.location.endswith(detail)
        page = site.get(detail).get_data(as_text=True)
        assert "va être relancé" in page
        requeued = record_of(running, town, import_id)
        assert (requeued.status, requeued.interruptions, requeued.message) == ("queued", 0, None)
        assert queued_ids(server)[-1] == f"import-{town.slug}-{import_id}-4"
        run_queued_jobs(running)
        done = record_of(running, town, import_id)
        assert (done.status, done.attempts) == ("done", 4)
        site.post(again, csrf_from=detail)
        assert "ne peut pas être relancé" in site.get(detail).get_data(as_text=True)


def test_the_rerun_command_runs_an_interrupted_import_and_names_a_missing_one(ctx, town, runner):
    with tenant_scope(town):
        import_id = submit("real_estate", csv_file([house("C-1")]), "c.csv").id
        db.session.rollback()
    interrupt(ctx, town, import_id)
    rerun = runner.invoke(args=["ingest", "rerun", "--tenant", town.slug, str(import_id)])
    assert rerun.exit_code == 0, rerun.output
    assert f"import {import_id} done" in rerun.output
    assert record_of(ctx, town, import_id).attempts == 3
    missing = runner.invoke(args=["ingest", "rerun", "--tenant", town.slug, "999999"])
    assert missing.exit_code == 1 and isinstance(missing.exception, SystemExit)
    assert "no import 999999" in missing.output
