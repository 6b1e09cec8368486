"""Normed-file imports run elsewhere: by a worker with progress and mail, killed halfway and run
again, the daily expiry over every territory, the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from core.auth.models import Account
from core.config import ROOT, database_url
from core.extensions import db
from core.jobs import get_queue
from core.tenancy import tenant_scope
from ingest.listings.expiry import expire_listings
from ingest.listings.imports import run_import, submit
from ingest.listings.models import ListingEvent, ListingImport
from tests import listing_import_helpers
from tests.listing_import_helpers import BASELINE, BASELINE_TERRITORY, csv_file, house, state
from tests.support import TEST_DATABASE_URL, TEST_REDIS_URL, InProcessWorker

territory = listing_import_helpers.territory


def test_a_worker_import_shows_progress_and_mails_the_uploader(
    territory, make_account, smtp, redis_conn
):
    email = make_account(locale="en", name="Alex")
    account = db.session.execute(select(Account).where(Account.email == email)).scalar_one()
    rows = [house(f"W-{i}") for i in range(30)]
    record = submit("real_estate", csv_file(rows), "big.csv", account=account, inline=False)
    assert record.status == "queued"
    import_id = record.id
    db.session.rollback()
    with tenant_scope(None):
        InProcessWorker([get_queue("low")], connection=redis_conn).work(burst=True)
    done = db.session.get(ListingImport, import_id)
    assert (done.status, done.created, done.created_by_id) == ("done", 30, account.id)
    assert done.started_at <= done.finished_at
    inbox = smtp.deliver()
    (body,) = inbox.bodies_to(email)
    assert "Listings created: 30" in body and "done" in body
    assert inbox.link_to(email, f"/console/annonces/imports/{import_id}")


def test_an_import_killed_halfway_leaves_the_listings_and_reruns_to_the_same_result(
    app, territory, make_tenant, tmp_path
):
    changed = [house("R-1", price="99000"), *(house(f"K-{i}") for i in range(200))]
    data = csv_file(changed)
    path = tmp_path / "changes.csv"
    path.write_bytes(data)
    before = state()
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    env = dict(
        os.environ,
        FLASK_APP="wsgi",
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        STORAGE_URL=app.config["STORAGE_URL"],
        SECRET_KEY="test-secret",
        LOG_LEVEL="ERROR",
    )
    schema = f"t_{territory.slug}"
    blocker = engine.connect()
    try:
        # Readers may read, writers wait: the import gets stuck at its one write to listings.
        blocker.exec_driver_sql(f'LOCK TABLE "{schema}".listings IN SHARE MODE')
        process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/flask"),
                "ingest",
                "listings",
                "--tenant",
                territory.slug,
                "--kind",
                "real_estate",
                str(path),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        import_id = _wait_for_status(engine, schema, "applying", process)
        process.send_signal(signal.SIGKILL)
        process.communicate()  # reaps it and closes its pipes
    finally:
        blocker.rollback()
        blocker.close()
    assert state() == before
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql(
                f'SELECT status FROM "{schema}".listing_imports WHERE id = {import_id}'
            ).scalar()
            == "applying"
        )
    engine.dispose()
    rerun = run_import(import_id)
    assert (rerun.status, rerun.created, rerun.updated, rerun.unchanged) == ("done", 200, 1, 0)
    result = state()
    assert run_import(import_id).status == "done" and state() == result
    other = make_tenant(**BASELINE_TERRITORY)
    with tenant_scope(other):
        submit("real_estate", csv_file(BASELINE), "base.csv")
        uninterrupted = submit("real_estate", data, "changes.csv")
        assert (uninterrupted.created, uninterrupted.updated) == (200, 1)
        assert state() == result


def _wait_for_status(engine, schema: str, status: str, process) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            found = connection.exec_driver_sql(
                f'SELECT id FROM "{schema}".listing_imports WHERE status = %s '
                "ORDER BY id DESC LIMIT 1",
                (status,),
            ).scalar()
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-2000:])
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the import never reached {status!r}")


def test_expiry_job_expires_past_listings_in_every_territory(territory, make_tenant):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    submit("real_estate", csv_file([*BASELINE, house("R-3", expires_on="2099-01-01")]), "a.csv")
    db.session.execute(
        text("UPDATE listings SET expires_on = :d WHERE external_id <> 'R-3'"), {"d": yesterday}
    )
    db.session.commit()
    other = make_tenant()
    with tenant_scope(None):
        expired = expire_listings()
    db.session.rollback()
    assert expired[territory.slug] == 2 and expired[other.slug] == 0
    final = state()
    assert final["R-1"][0] == final["R-2"][0] == "expired" and final["R-3"][0] == "published"
    events = db.session.execute(
        select(ListingEvent.action, ListingEvent.source).where(ListingEvent.action == "expire")
    ).all()
    assert events == [("expire", "system")] * 2
    db.session.rollback()
    with tenant_scope(None):
        assert expire_listings()[territory.slug] == 0
    db.session.rollback()


def test_cli_imports_and_exits_non_zero_on_rejection(ctx, cantal, make_tenant, runner, tmp_path):
    ref = make_tenant(**BASELINE_TERRITORY)
    good, bad = tmp_path / "bon.csv", tmp_path / "mauvais.csv"
    good.write_bytes(csv_file(BASELINE))
    bad.write_bytes(csv_file([house("R-1", transaction="échange")]))
    ok = runner.invoke(
        args=[
            "ingest",
            "listings",
            "--tenant",
            ref.slug,
            "--kind",
            "real_estate",
            str(good),
            "--dry-run",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "created 2" in ok.output and "dry run" in ok.output
    refused = runner.invoke(
        args=["ingest", "listings", "--tenant", ref.slug, "--kind", "real_estate", str(bad)]
    )
    assert refused.exit_code != 0
    assert "row 2" in refused.output and "sale, rent" in refused.output
    target = tmp_path / "modele.xlsx"
    made = runner.invoke(
        args=["ingest", "template", "--kind", "job", "--example", "-o", str(target)]
    )
    assert made.exit_code == 0 and target.read_bytes().startswith(b"PK")
    with tenant_scope(ref):
        assert state() == {}
