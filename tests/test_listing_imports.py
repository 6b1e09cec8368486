"""Normed-file imports: kept file and report, atomic, idempotent, every bad input reported with
nothing changed, limits, valid rows only, dry runs and snapshots."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select

from core.csvexport import neutralise
from core.extensions import db
from core.storage import get_storage
from ingest.listings import imports
from ingest.listings.imports import submit
from ingest.listings.models import Listing, ListingEvent, ListingImport
from ingest.listings.normed import NormedFileError
from ingest.listings.reports import report_csv
from tests import listing_import_helpers
from tests.listing_api_helpers import job
from tests.listing_import_helpers import (
    BASELINE,
    HEADER,
    csv_file,
    house,
    issues_of,
    report_of,
    state,
)

territory = listing_import_helpers.territory


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
        csv_file([house("R-9")], header=[h if h != "price" else "pryce" for h in HEADER]),
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
        csv_file([house("R-1", transaction="échange")]),
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
    "xlsx zip bomb": (_bomb, "too_large_unzipped", None, None),
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
            job(siret="73282932000075"),
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


def test_every_error_of_a_row_is_reported_in_one_pass(territory):
    """A row refused for its price is also told its commune does not exist, and a row whose
    only fault is its commune is told so: the editor corrects the file once."""
    data = csv_file(
        [
            house("R-1", price="cher", commune_insee="99999"),
            house("R-2", commune_insee="99998"),
            house("R-3", price="cher"),
        ]
    )
    record = submit("real_estate", data, "annonces.csv", inline=True)
    assert record.status == "rejected"
    found = {(i["row"], i["column"], i["code"]) for i in issues_of(record) if i["error"]}
    assert any(r == 2 and c == "price" for r, c, _ in found), found
    assert any(r == 2 and c == "commune_insee" for r, c, _ in found), found
    assert any(r == 3 and c == "commune_insee" for r, c, _ in found), found
    assert not any(r == 4 and c == "commune_insee" for r, c, _ in found), found
