"""Reading and validating normed listing files: every bad input gets a located report, in words
in both languages; the templates and their examples read back."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from frictionless import Resource, Schema
from openpyxl import Workbook, load_workbook
from PIL import Image

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.declaration import KINDS, fields_of, table_schema
from ingest.listings.file_checks import cleared, uncleared
from ingest.listings.normed import Issue, NormedFileError, read_normed
from ingest.listings.rules import locate
from ingest.listings.templates_xlsx import example_rows, workbook
from ingest.listings.wording import MESSAGES, describe

HEADER = "external_id;title;commune_insee;rome_code;contract_type;siret;latitude;longitude"
GOOD = "J-1;Boulanger·ère;15187;D1102;CDI;73282932000074;45.0337;3.0928"


def job_file(*lines: str, encoding="utf-8", header=HEADER) -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode(encoding)


def codes(result) -> list[tuple]:
    return [(i.code, i.row, i.column) for i in result.errors]


def test_a_valid_file_in_windows_1252_with_accents():
    result = read_normed(
        "job",
        job_file("J-2;Aide-soignant·e à l'EHPAD;15138;J1501;CDD;;;", encoding="cp1252").replace(
            "·".encode("cp1252", "ignore"), b""
        ),
    )
    assert result.encoding == "windows-1252" and result.delimiter == ";"
    assert result.errors == []
    assert (
        result.rows[0]["title"].startswith("Aide-soignant") and "EHPAD" in result.rows[0]["title"]
    )


def test_headers_may_be_the_french_titles_and_choices_their_labels():
    header = (
        "Identifiant;TITRE;Code INSEE de la commune;Code ROME;Type de contrat;Siret de l’employeur"
    )
    data = job_file(
        "J-1;Boulanger;15187;D1102;CDI (durée indéterminée);",
        "J-2;Saisonnier;15187;A1101;travail saisonnier;",
        "J-3;Intérim;15187;H2102;Mission intérimaire;",
        "J-4;Autre;15187;H2102;contrat aidé;",
        header=header,
    )
    result = read_normed("job", data)
    contracts = [r["contract_type"] for r in result.rows]
    assert contracts == ["CDI", "SAI", "MIS"]
    # A label that is no choice is refused with the value as written, on its row.
    assert [(i.code, i.row, i.column, i.value) for i in result.errors] == [
        ("constraint", 5, "contract_type", "contrat aidé")
    ]
    assert not [i for i in result.issues if i.code == "unknown_column"]
    estate = read_normed(
        "real_estate",
        (
            "Identifiant;Titre;Code INSEE de la commune;Transaction;Type de bien;Prix (€)\n"
            "R-1;Maison de bourg;15187;Vente;maison;150 000\n"
            "R-2;Ferme;15187;location;Ferme;90000\n"
        ).encode(),
    )
    assert estate.errors == []
    assert [(r["transaction"], r["property_type"]) for r in estate.rows] == [
        ("sale", "house"),
        ("rent", "farm"),
    ]


def test_bom_and_commas_and_tabs_are_detected():
    for delimiter in (",", "\t"):
        data = "\ufeff" + job_file(GOOD).decode().replace(";", delimiter)
        result = read_normed("job", data.encode("utf-8"))
        assert result.delimiter == delimiter and result.errors == [] and len(result.rows) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_tabular"),
    ],
)
def test_unreadable_files(data, code):
    with pytest.raises(NormedFileError) as caught:
        read_normed("job", data, "offres.csv")
    assert caught.value.code == code


def test_a_png_named_csv_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG")
    with pytest.raises(NormedFileError, match="not_tabular"):
        read_normed("job", out.getvalue(), "offres.csv")


def test_header_only_and_missing_required_column():
    assert codes(read_normed("job", job_file())) == [("no_rows", None, None)]
    # ("code_rome" would be its title, "Code ROME", written otherwise: it is recognised.)
    renamed = HEADER.replace("rome_code", "metier_rome")
    result = read_normed("job", job_file(GOOD, header=renamed))
    assert ("missing_required_column", None, "rome_code") in codes(result)
    assert any(w.code == "unknown_column" and w.column == "metier_rome" for w in result.warnings)
    assert result.rows == []


def test_wrong_delimiter_is_named():
    result = read_normed("job", job_file(GOOD).replace(b";", b"|"))
    assert "wrong_delimiter" in [i.code for i in result.errors]


def test_row_level_errors_are_located():
    result = read_normed(
        "job",
        job_file(
            GOOD,
            "J-1;Doublon;15187;D1102;CDI;;;",  # duplicate external id
            "J-3;Contrat inconnu;15187;D1102;CDX;;;",  # wrong enum
            "J-4;SIRET faux;15187;D1102;CDI;73282932000075;;",  # bad checksum
            "J-5;Au large;15187;D1102;CDI;;40.0;3.0",  # the Mediterranean, south of every box
            'J-6;=HYPERLINK("http://x");15187;D1102;CDI;;;',  # a formula stays text
        ),
    )
    found = codes(result)
    assert ("duplicate_id", 3, "external_id") in found
    assert ("constraint", 4, "contract_type") in found
    assert ("bad_siret", 5, "siret") in found
    assert ("outside_france", 6, "latitude") in found
    assert [r["external_id"] for r in result.rows] == ["J-1", "J-6"]
    assert result.rows[1]["title"].startswith("=HYPERLINK")


def test_impossible_date_and_huge_cell():
    header = "external_id;title;commune_insee;transaction;property_type;price;published_on"
    data = (
        header
        + "\nR-1;Maison;15187;sale;house;150000;31/02/2026\n"
        + "R-2;"
        + "x" * 5_000_000
        + ";15187;sale;house;1;\n"
    ).encode()
    result = read_normed("real_estate", data)
    found = codes(result)
    assert ("bad_type", 2, "published_on") in found
    assert ("constraint", 3, "title") in found
    assert result.rows == []


def test_xlsx_first_sheet_and_zip_bomb():
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    sheet.append(GOOD.split(";"))
    sheet.append(["J-9", "=1+1", "15187", "D1102", "CDI", None, None, None])
    out = io.BytesIO()
    book.save(out)
    result = read_normed("job", out.getvalue(), "offres.xlsx")
    assert result.format == "xlsx" and result.errors == []
    assert result.rows[1]["title"] == "=1+1"  # a formula is never evaluated
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (500 * 1024 * 1024))
    with pytest.raises(NormedFileError, match="too_large"):
        read_normed("job", bomb.getvalue(), "bombe.xlsx")


def test_the_quick_check_never_clears_what_frictionless_refuses():
    """Rows the quick check clears skip frictionless: it must be stricter, value by value."""
    tricky = [
        "",
        "0",
        "1",
        "-1",
        "+5",
        "007",
        " 5",
        "5 ",
        "1.5",
        "1,5",
        "-0.5",
        "1e3",
        "NaN",
        "inf",
        "99999999999999",
        "2026-11-02",
        "2026-02-30",
        "2026-2-3",
        "02/11/2026",
        "true",
        "TRUE",
        "Oui",
        "oui",
        "non",
        "vrai",
        "x" * 501,
        "A",
        "H",
        "D1102",
        "d1102",
        "15187",
        "2A004",
        "1518",
        "73282932000074",
        "https://example.org/a",
        "http://x",
        "amenity=doctors",
        "CDI",
        "cdi",
        "sale",
        "\u00e9t\u00e9",
        "= 1+1",
    ]
    for kind in KINDS:
        descriptor = table_schema(kind)
        for f in fields_of(kind):
            check = cleared(f)
            values = [*tricky, f.example, *f.enum]
            if f.minimum is not None:
                values += [str(f.minimum), str(f.minimum - 1)]
            if f.maximum is not None:
                values += [str(f.maximum), str(f.maximum + 1)]
            one = {"fields": [e for e in descriptor["fields"] if e["name"] == f.name]}
            # The whole-column test agrees with the value-by-value one, whatever the column.
            for column in ({*values, ""}, {v for v in values if check(v)}, {f.example}):
                expected = {v for v in column if v and not check(v)}
                expected |= {""} if "" in column and f.required else set()
                assert uncleared(f, column) == expected, (kind, f.name)
            for value in values:
                if value and check(value):
                    rows = [[f.name], [value]]
                    report = Resource(data=rows, schema=Schema.from_descriptor(one)).validate()
                    assert report.valid, (kind, f.name, value, report.flatten(["note"]))


@pytest.mark.parametrize("kind", ["real_estate", "job", "business", "leisure", "poi"])
def test_templates_and_examples_read_back(ctx, cantal, make_tenant, kind):
    example = read_normed(kind, workbook(kind, example=True), "exemple.xlsx")
    assert example.errors == [] and len(example.rows) == 3
    with tenant_scope(make_tenant()):  # the examples lie in Saint-Flour
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
