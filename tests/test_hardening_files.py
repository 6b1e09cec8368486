"""Hostile and careless normed files: every one ends in a report (row and column where there is
one), never an exception, a 500 or a worker held for long; bounds come from the declaration and
fit the columns."""

from __future__ import annotations

import io
import time
import tracemalloc

import openpyxl
import pytest
from sqlalchemy import Integer, Numeric, String, select

from core.extensions import db
from ingest.listings.declaration import all_fields
from ingest.listings.imports import runs_inline, submit
from ingest.listings.models import LOCATION_FIELDS, Listing
from ingest.listings.normed import NormedFileError, read_normed
from ingest.listings.schemas import input_schema
from ingest.listings.wording import describe
from tests import hostile_files, listing_import_helpers
from tests.listing_api_helpers import job
from tests.listing_import_helpers import csv_file, house, issues_of

territory = listing_import_helpers.territory
INT4 = 2**31 - 1


def test_every_declared_bound_fits_its_column():
    """A value the declaration accepts is one the database stores: the bounds cannot drift from
    the column types."""
    columns = Listing.__table__.c
    for name, f in all_fields().items():
        if f.type in ("number", "integer"):
            assert f.minimum is not None and f.maximum is not None, f"{name}: unbounded"
            assert f.minimum <= f.maximum, name
        if name in LOCATION_FIELDS or name not in columns:
            continue
        column = columns[name].type
        if f.type == "number":
            assert isinstance(column, Numeric), name
            ceiling = 10 ** (column.precision - column.scale)
            assert -ceiling < f.minimum and f.maximum < ceiling, f"{name}: {column}"
        elif f.type == "integer":
            assert isinstance(column, Integer), name
            assert -INT4 - 1 <= f.minimum and f.maximum <= INT4, name
        elif f.type == "string" and isinstance(column, String) and column.length:
            assert f.max_length is not None and f.max_length <= column.length, name


def test_the_api_schemas_take_the_bounds_and_refuse_control_characters():
    schema = input_schema("real_estate")()
    item = {
        "external_id": "A-1",
        "title": "Maison",
        "commune_insee": "15187",
        "transaction": "sale",
        "property_type": "house",
        "price": 10**20,
    }
    assert set(schema.validate(item)) == {"price"}
    assert set(schema.validate(item | {"price": 1, "title": "Mai\x00son"})) == {"title"}
    assert set(schema.validate(item | {"price": 1, "address": "12\true"})) == {"address"}
    assert schema.validate(item | {"price": 1, "description": "Deux\r\nlignes\tet tab"}) == {}


def _cell(issues, code):
    return {(i["row"], i["column"]) for i in issues if i["code"] == code and i["error"]}


def test_values_the_database_would_refuse_are_reported_the_rest_imported(territory):
    """1e20, a NUL past the first 4 KB, a bell in a title: located, and with "import the valid
    rows" the good ones go in."""
    rows = [house(f"V-{i}", description="x" * 300) for i in range(20)]  # past 4 KB
    rows[14]["price"] = "1e20"
    rows[15]["title"] = "Maison\tavec jardin"
    rows[16]["description"] = "Belle\x00maison"
    rows[17]["title"] = "Maison\x07"
    rows[18]["title"] = "Deux\nlignes"
    rows[19]["description"] = "Deux\nlignes\tsont permises ici"
    data = csv_file(rows)
    assert b"\x00" not in data[:4096]
    record = submit("real_estate", data, "annonces.csv", valid_only=True)
    assert record.status == "done" and record.rows_applied == 15
    issues = issues_of(record)
    assert (16, "price") in _cell(issues, "maximum") | _cell(issues, "constraint")
    assert _cell(issues, "control_character") == {
        (17, "title"),
        (18, "description"),
        (19, "title"),
        (20, "title"),
    }
    nul = next(i for i in issues if i["row"] == 18)
    assert "\x00" not in nul["value"] and "U+0000" in nul["message"]["en"]
    stored = db.session.execute(select(Listing.external_id).where(Listing.kind == "real_estate"))
    assert {"V-0", "V-19"} <= set(stored.scalars()) and "V-14" not in stored
    db.session.rollback()


def test_a_salary_of_1e30_is_a_located_error(territory):
    header = ["external_id", "title", "commune_insee", "rome_code", "contract_type", "salary_max"]
    data = csv_file(
        [
            job(salary_max="1e30"),
        ],
        header=header,
    )
    record = submit("job", data, "offres.csv", valid_only=True)
    assert record.status == "rejected"
    assert (2, "salary_max") in _cell(issues_of(record), "constraint")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("ÉTÉ".encode("cp1252") + b"\x81\x8d;x\r\n", "bad_encoding"),  # neither encoding
        (hostile_files.doctype(), "doctype"),
        (hostile_files.huge_dimension(), "too_many_rows"),
        (b"PK\x03\x04" + b"\x00" * 64, "not_tabular"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not_tabular"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 100, "not_tabular"),  # an old .xls
    ],
)
def test_unreadable_files_are_reports_not_500s(territory, data, code):
    name = "annonces.xlsx" if data[:2] == b"PK" else "annonces.csv"
    record = submit("real_estate", data, name, valid_only=True)
    assert record.status == "rejected"
    assert [i["code"] for i in issues_of(record)] == [code]
    assert issues_of(record)[0]["message"]["fr"] and issues_of(record)[0]["message"]["en"]


def test_utf16_with_its_mark_is_read():
    text = csv_file([house("U-1", title="Été à Saint-Flour")]).decode("utf-8")
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        data = text.encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        result = read_normed("real_estate", data)
        assert result.errors == [] and result.rows[0]["title"] == "Été à Saint-Flour"
    with pytest.raises(NormedFileError, match="not_tabular"):
        read_normed("real_estate", text.encode("utf-16-le"))  # no mark: refused, not guessed


@pytest.mark.parametrize("name", list(hostile_files.HOSTILE))
def test_hostile_workbooks_are_refused_fast(ctx, name):
    """Each is refused before it holds the reader: 2 s (on a loaded 2-CPU machine)."""
    make = hostile_files.HOSTILE[name]
    data = make(300) if make is hostile_files.zip_bomb else make()
    assert len(data) < 400 * 1024
    started = time.perf_counter()
    with pytest.raises(NormedFileError) as refused:
        read_normed("real_estate", data, "annonces.xlsx")
    assert time.perf_counter() - started < 2
    assert refused.value.code in {
        "too_many_rows",
        "too_many_columns",
        "too_many_strings",
        "doctype",
        "too_large_unzipped",
    }


def test_the_web_request_never_walks_a_spreadsheet_that_unzips_big(territory):
    """Inline (while the uploader waits) only when the zip's directory promises little work."""
    assert runs_inline(hostile_files.huge_dimension())  # refused at its first element
    assert not runs_inline(hostile_files.blank_rows())  # 6 MB once unzipped: a worker's job
    assert runs_inline(b"PK\x03\x04 not a zip")  # refused on its zip directory alone


def test_an_xlsx_cell_past_the_columns_limit_is_located(ctx):
    ctx.config["NORMED_MAX_COLUMNS"] = 5
    try:
        row = '<row r="3"><c r="F3"><v>1</v></c></row>'
        with pytest.raises(NormedFileError) as refused:
            read_normed("job", hostile_files.workbook(hostile_files.HEADER_ROW + row), "x.xlsx")
    finally:
        ctx.config["NORMED_MAX_COLUMNS"] = 100
    assert refused.value.params == {"limit": 5, "row": 3, "column": "F"}


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("annonces.xlsx", hostile_files.doctype(), "DOCTYPE"),
        ("annonces.xlsx", hostile_files.sparse_rows(), "200000"),
        ("annonces.csv", b"external_id;title\r\n\x81\x8d;x\r\n", "UTF-8"),
    ],
)
def test_a_hostile_upload_in_the_console_is_a_report(
    app, cantal, make_tenant, make_account, visitor, name, data, words
):
    ref = make_tenant()
    site = visitor(ref)
    site.login(make_account(roles=[("editor", ref)]))
    form = {"kind": "real_estate", "file": (io.BytesIO(data), name)}
    response = site.post("/console/annonces/imports", form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = site.get(response.location)
    assert page.status_code == 200 and words in page.get_data(as_text=True)


def test_the_cli_words_a_refused_file_and_never_reads_an_oversized_one(
    ctx, cantal, make_tenant, runner, tmp_path
):
    ref = make_tenant()
    hostile, huge = tmp_path / "annonces.xlsx", tmp_path / "enorme.csv"
    hostile.write_bytes(hostile_files.doctype())
    with huge.open("wb") as out:  # sparse: 30 MB that take no disk
        out.truncate(30 * 2**20)
    command = ["ingest", "listings", "--tenant", ref.slug, "--kind", "real_estate"]
    refused = runner.invoke(args=[*command, str(hostile)])
    assert refused.exit_code == 1 and "DOCTYPE" in refused.output, refused.output
    too_big = runner.invoke(args=[*command, str(huge)])
    assert too_big.exit_code == 1 and "20 MB at most" in too_big.output, too_big.output
    assert "Traceback" not in refused.output + too_big.output


@pytest.mark.parametrize("cell", [b"", b'"ab"', b'"\n"'])
def test_a_csv_of_millions_of_cells_is_refused_before_it_is_built(cell):
    """One record of millions of fields (even quoted, even across lines) would be built whole by
    the csv module: refused on its delimiters first, with its row."""
    data = b"external_id;title\r\n" + (cell + b";") * (18 * 2**20 // (len(cell) + 1))
    tracemalloc.start()
    try:
        with pytest.raises(NormedFileError) as refused:
            read_normed("real_estate", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.code == "too_many_columns" and refused.value.params["row"] == 2
    assert peak < 200 * 2**20


def test_a_date_frictionless_accepts_is_converted_too():
    """Single-digit months and days pass the Table Schema: the row must not fail afterwards."""
    result = read_normed("real_estate", csv_file([house("D-1", published_on="2026-1-5")]))
    assert result.errors == [] and str(result.rows[0]["published_on"]) == "2026-01-05"


def _with_blank_rows(kind_format: str) -> bytes:
    """A header, a good house, two blank rows, then a house priced past its column."""
    rows = [house("B-1"), {}, {}, house("B-2", price="1e20")]
    if kind_format == "csv":
        return csv_file(rows)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(listing_import_helpers.HEADER)
    for number, row in enumerate(rows, start=2):
        for column, name in enumerate(listing_import_helpers.HEADER, start=1):
            if row.get(name):
                sheet.cell(row=number, column=column, value=row[name])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind_format", ["csv", "xlsx"])
def test_a_report_names_the_row_the_spreadsheet_shows_blank_rows_counted(kind_format):
    data = _with_blank_rows(kind_format)
    normed = read_normed("real_estate", data, f"annonces.{kind_format}")
    assert [(i.row, i.column) for i in normed.errors] == [(5, "price")]
    assert [r["_row"] for r in normed.rows] == [2]
    assert normed.rows_read == 2
    # The bound is written as the reader writes numbers.
    assert "au plus 1\u202f000\u202f000\u202f000." in describe(normed.errors[0], "fr")
    assert "at most 1,000,000,000." in describe(normed.errors[0], "en")


def test_a_report_lists_errors_before_warnings(territory):
    header = ["external_id", "title", "commune_insee", "transaction", "property_type", "price"]
    data = csv_file([house("W-1"), house("W-2", price="1e20")], header=header)
    listed = issues_of(submit("real_estate", data, "annonces.csv"))
    severities = [issue["error"] for issue in listed]
    assert severities[0] is True and severities == sorted(severities, reverse=True)
    assert len(severities) > 10  # the optional columns' warnings, after the error
