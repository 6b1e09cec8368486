"""Normed-file imports end to end: kept file and report, atomic, idempotent, every bad input
reported with nothing changed, worker runs with progress and mail, a killed import re-run."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import time
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from core.config import ROOT, database_url
from core.extensions import db
from core.storage import get_storage
from core.tenancy import tenant_scope
from ingest.listings.imports import neutralise, report_csv, run_import, submit
from ingest.listings.models import Listing, ListingEvent, ListingImport
from ingest.listings.normed import NormedFileError, read_normed
from ingest.listings.rules import locate
from ingest.listings.wording import MESSAGES, describe
from tests.support import TEST_DATABASE_URL, TEST_REDIS_URL

HEADER = [
    "external_id",
    "title",
    "commune_insee",
    "postcode",
    "latitude",
    "longitude",
    "transaction",
    "property_type",
    "price",
    "living_area_m2",
    "rooms",
    "energy_class",
    "published_on",
    "expires_on",
    "description",
]


def house(external_id: str, **over) -> dict:
    return {
        "external_id": external_id,
        "title": "Maison de bourg avec jardin",
        "commune_insee": "15187",
        "postcode": "15100",
        "latitude": "45.0337",
        "longitude": "3.0928",
        "transaction": "sale",
        "property_type": "house",
        "price": "149 000",
        "living_area_m2": "110",
        "rooms": "5",
        "energy_class": "D",
        "published_on": "02/11/2026",
        "expires_on": "2027-02-28",
        "description": "",
    } | over


def csv_file(rows, header=HEADER, delimiter=";", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(name, "") for name in header])
    return out.getvalue().encode(encoding)


BASELINE = [house("R-1"), house("R-2", commune_insee="15014", latitude="", longitude="")]


def state() -> dict[str, tuple]:
    """What a reader sees of the territory's listings."""
    rows = db.session.execute(
        select(Listing.external_id, Listing.status, Listing.price, Listing.title, Listing.cell_id)
    ).all()
    db.session.rollback()
    return {r[0]: tuple(r[1:]) for r in rows}


def report_of(record: ListingImport) -> dict:
    from core.tenancy import require_tenant

    return json.loads(get_storage().for_tenant(require_tenant().slug).get(record.report_key))


def issues_of(record: ListingImport) -> list[dict]:
    return report_of(record)["issues"]


@pytest.fixture
def territory(ctx, cantal, make_tenant):
    ref = make_tenant()
    with tenant_scope(ref):
        baseline = submit("real_estate", csv_file(BASELINE), "base.csv")
        assert baseline.status == "done" and baseline.created == 2
        yield ref


def test_a_valid_file_is_kept_reported_applied_and_the_same_file_again_changes_nothing(territory):
    rows = [*BASELINE, house("R-3", title='=HYPERLINK("http://x")', price="1 234,50")]
    first = submit("real_estate", csv_file(rows), "annonces été.csv")
    assert (first.status, first.created, first.unchanged, first.rows_read) == ("done", 1, 2, 3)
    assert first.rows_valid == first.rows_applied == 3 and first.errors_count == 0
    assert first.file_key == f"imports/{first.id}/annonces_ete.csv"
    storage = get_storage().for_tenant(territory.slug)
    assert storage.get(first.file_key) == csv_file(rows)
    report = json.loads(storage.get(first.report_key))
    assert report["status"] == "done" and report["counts"]["created"] == 1
    listing = db.session.execute(select(Listing).where(Listing.external_id == "R-3")).scalar_one()
    assert listing.title == '=HYPERLINK("http://x")'  # stored as the text typed, never evaluated
    assert listing.price == Decimal("1234.50") and listing.source == "file"
    db.session.rollback()
    before = state()
    again = submit("real_estate", csv_file(rows), "annonces été.csv")
    assert (again.status, again.created, again.updated, again.unchanged) == ("done", 0, 0, 3)
    assert state() == before
    summary = db.session.execute(
        select(ListingEvent).where(ListingEvent.import_id == again.id)
    ).scalar_one()
    assert summary.action == "import" and summary.changes["unchanged"] == 3


def _bomb() -> bytes:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (500 * 1024 * 1024))
    return bomb.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG")
    return out.getvalue()


JOB_HEADER = ["external_id", "title", "commune_insee", "rome_code", "contract_type", "siret"]
BAD_FILES = {
    "empty": (b"", "empty", None, None),
    "header only": (csv_file([]), "no_rows", None, None),
    "wrong delimiter": (
        csv_file([house("R-9")], delimiter="|"),
        "wrong_delimiter",
        None,
        None,
    ),
    "renamed column": (
        csv_file([house("R-9")], header=[h if h != "price" else "prix" for h in HEADER]),
        "missing_required_column",
        None,
        "price",
    ),
    "required column missing": (
        csv_file([house("R-9")], header=[h for h in HEADER if h != "transaction"]),
        "missing_required_column",
        None,
        "transaction",
    ),
    "duplicate external_id": (
        csv_file([house("R-9"), house("R-8"), house("R-9", title="Autre")]),
        "duplicate_id",
        4,
        "external_id",
    ),
    "wrong enum": (
        csv_file([house("R-1", transaction="vente")]),
        "constraint",
        2,
        "transaction",
    ),
    "date 31/02": (
        csv_file([house("R-1", published_on="31/02/2026")]),
        "bad_type",
        2,
        "published_on",
    ),
    "point in the sea": (
        csv_file([house("R-1", latitude="45.5", longitude="-3.0")]),
        "far_from_commune",
        2,
        "latitude",
    ),
    "point outside France": (
        csv_file([house("R-1", latitude="40.4168", longitude="-3.7038")]),
        "outside_france",
        2,
        "latitude",
    ),
    "unknown commune": (
        csv_file([house("R-1", commune_insee="15999")]),
        "unknown_commune",
        2,
        "commune_insee",
    ),
    "5 MB in one cell": (
        csv_file([house("R-1", description="é" * (5 * 1024 * 1024 // 2))]),
        "constraint",
        2,
        "description",
    ),
    "formula in an enum": (
        csv_file([house("R-1", energy_class="=1+1")]),
        "constraint",
        2,
        "energy_class",
    ),
    "xlsx zip bomb": (_bomb, "too_large", None, None),
    "png named csv": (_png, "not_tabular", None, None),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_every_bad_file_gets_a_located_report_and_changes_nothing(territory, case):
    data, code, row, column = BAD_FILES[case]
    data = data() if callable(data) else data
    before = state()
    name = "bombe.xlsx" if case == "xlsx zip bomb" else "annonces.csv"
    record = submit("real_estate", data, name, inline=True)
    assert record.status == "rejected" and record.rows_applied == 0
    assert state() == before
    issues = issues_of(record)
    found = [i for i in issues if i["code"] == code and i["error"]]
    assert found, issues
    issue = found[0]
    assert (issue["row"], issue["column"]) == (row, column)
    for locale in ("fr", "en"):
        message = issue["message"][locale]
        assert message and "{" not in message
        if row:
            assert str(row) in message
        if column:
            assert column in message
    assert get_storage().for_tenant(territory.slug).exists(record.file_key)
    if case == "5 MB in one cell":
        assert len(issue["value"]) <= 500 and "20000" in issue["message"]["fr"]
    if case == "wrong enum":
        assert "sale, rent" in issue["message"]["fr"]
    if case == "renamed column":
        hint = [i for i in issues if i["code"] == "unknown_column"][0]
        assert not hint["error"] and "« price »" in hint["message"]["fr"]
    if case == "formula in an enum":
        exported = report_csv(report_of(record))
        assert exported.startswith("\ufeff".encode())
        lines = list(csv.reader(io.StringIO(exported.decode("utf-8-sig")), delimiter=";"))
        assert lines[0][0] == "Ligne"
        assert ["2", "energy_class", "'=1+1"] in [line[:3] for line in lines]


def test_a_bad_siret_in_a_job_file(territory):
    data = csv_file(
        [
            {
                "external_id": "J-1",
                "title": "Boulanger",
                "commune_insee": "15187",
                "rome_code": "D1102",
                "contract_type": "CDI",
                "siret": "73282932000075",
            }
        ],
        header=JOB_HEADER,
    )
    record = submit("job", data, "offres.csv")
    assert record.status == "rejected"
    (issue,) = [i for i in issues_of(record) if i["error"]]
    assert (issue["code"], issue["row"], issue["column"]) == ("bad_siret", 2, "siret")
    assert "SIRET" in issue["message"]["fr"] and "SIRET" in issue["message"]["en"]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_windows_1252_and_bom_files_keep_their_accents(territory, encoding):
    title = "Maison à rénover, beau séjour"
    record = submit(
        "real_estate", csv_file([house("R-5", title=title)], encoding=encoding), "a.csv"
    )
    assert record.status == "done" and record.created == 1
    assert state()["R-5"][2] == title


def test_formula_values_are_neutralised_on_export():
    assert [neutralise(v) for v in ("=1+1", "+33 4", "-2", "@SUM(A1)", "Murat", None)] == [
        "'=1+1",
        "'+33 4",
        "'-2",
        "'@SUM(A1)",
        "Murat",
        "",
    ]


def test_files_over_the_limits_are_refused_before_anything_is_kept(territory, monkeypatch):
    from ingest.listings import imports

    monkeypatch.setattr(imports, "MAX_BYTES", 1000)
    with pytest.raises(NormedFileError) as caught:
        submit("real_estate", csv_file([house(f"R-{i}") for i in range(20)]), "gros.csv")
    assert caught.value.code == "too_large"
    assert (
        db.session.execute(
            select(ListingImport).where(ListingImport.filename == "gros.csv")
        ).first()
        is None
    )


def test_valid_rows_only_dry_run_and_snapshot(territory):
    mixed = csv_file([house("R-1", price="139000"), house("R-6", rooms="deux"), house("R-7")])
    rejected = submit("real_estate", mixed, "mixed.csv")
    assert rejected.status == "rejected" and rejected.errors_count == 1
    before = state()
    trial = submit("real_estate", mixed, "mixed.csv", valid_only=True, dry_run=True)
    assert (trial.status, trial.created, trial.updated, trial.rows_applied) == ("done", 1, 1, 0)
    assert state() == before
    assert (
        db.session.execute(select(ListingEvent).where(ListingEvent.import_id == trial.id)).first()
        is None
    )
    applied = submit("real_estate", mixed, "mixed.csv", valid_only=True)
    assert (applied.status, applied.created, applied.updated, applied.rows_applied) == (
        "done",
        1,
        1,
        2,
    )
    after = state()
    assert after["R-1"][1] == Decimal("139000") and "R-7" in after and "R-6" not in after
    snap = submit("real_estate", csv_file([house("R-1", price="139000")]), "s.csv", snapshot=True)
    assert (snap.unchanged, snap.unpublished) == (1, 2)
    final = state()
    assert final["R-2"][0] == final["R-7"][0] == "unpublished" and final["R-1"][0] == "published"
    assert len(final) == 3  # unpublished, never deleted


def test_a_worker_import_shows_progress_and_mails_the_uploader(
    territory, make_account, smtp, redis_conn
):
    from rq import SimpleWorker

    from core.auth.models import Account
    from core.jobs import get_queue

    email = make_account(locale="en", name="Alex")
    account = db.session.execute(select(Account).where(Account.email == email)).scalar_one()
    rows = [house(f"W-{i}") for i in range(30)]
    record = submit("real_estate", csv_file(rows), "big.csv", account=account, inline=False)
    assert record.status == "queued"
    import_id = record.id
    db.session.rollback()
    with tenant_scope(None):
        SimpleWorker([get_queue("low")], connection=redis_conn).work(burst=True)
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
    other = make_tenant()
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
    from ingest.listings.expiry import expire_listings

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


@pytest.mark.parametrize("kind", ["real_estate", "job", "business", "leisure", "poi"])
def test_templates_and_examples_read_back(ctx, cantal, kind):
    from openpyxl import load_workbook

    from ingest.listings.declaration import fields_of
    from ingest.listings.templates_xlsx import example_rows, workbook

    example = read_normed(kind, workbook(kind, example=True), "exemple.xlsx")
    assert example.errors == [] and len(example.rows) == 3
    assert locate(db.session, example.rows) == []
    assert example.rows[2]["location_approximate"]  # no coordinates: the commune's centre
    db.session.rollback()
    book = load_workbook(io.BytesIO(workbook(kind)))
    assert book.sheetnames == ["Annonces", "Aide"]
    sheet = book["Annonces"]
    names = [c.value for c in sheet[1]]
    required = {f.name for f in fields_of(kind) if f.required}
    typed = {k: v for k, v in example_rows(kind)[0].items() if k in required}
    typed |= {"postcode": "05000", "published_on": date(2026, 12, 1)}
    for name, value in typed.items():
        sheet.cell(row=2, column=names.index(name) + 1).value = value
    out = io.BytesIO()
    book.save(out)
    filled = read_normed(kind, out.getvalue(), "modele.xlsx")
    assert filled.errors == [] and len(filled.rows) == 1
    assert filled.rows[0]["postcode"] == "05000"  # a text cell keeps its leading zero
    assert filled.rows[0]["published_on"] == date(2026, 12, 1)


def test_every_issue_code_has_a_sentence_in_both_languages():
    from ingest.listings.normed import Issue

    for code in MESSAGES:
        issue = Issue(code, row=7, column="price", value="-3", params={"note": ""})
        for locale in ("fr", "en"):
            sentence = describe(issue, locale)
            assert sentence and "{" not in sentence and "}" not in sentence, (code, locale)
    enum = Issue("constraint", 3, "transaction", "vente", {"note": 'constraint "enum" is "x"'})
    assert describe(enum, "fr") == (
        "Ligne 3, colonne « transaction » (Transaction) : « vente » n'est pas une valeur permise ;"
        " valeurs possibles : sale, rent."
    )
    pattern = Issue("constraint", 4, "rome_code", "K21", {"note": 'constraint "pattern" is "x"'})
    assert "K2112" in describe(pattern, "en") and "ROME" in describe(pattern, "en")


def test_cli_imports_and_exits_non_zero_on_rejection(ctx, cantal, make_tenant, runner, tmp_path):
    ref = make_tenant()
    good, bad = tmp_path / "bon.csv", tmp_path / "mauvais.csv"
    good.write_bytes(csv_file(BASELINE))
    bad.write_bytes(csv_file([house("R-1", transaction="vente")]))
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
