"""The BPE loader (INSEE's equipment base), on small files in the real published format."""

from __future__ import annotations

import zipfile

import pytest
from pyproj import Transformer
from sqlalchemy import text

from core.extensions import db
from ingest.reference.loaders import files
from ingest.reference.loaders.bpe import load_bpe
from ingest.reference.loaders.files import LoadError
from tests.reference_loaders.helpers import expected_cell, pois, project, write_csv

BPE_HEADER = [
    "AN",
    "NOMRS",
    "CNOMRS",
    "DEPCOM",
    "DEP",
    "TYPEQU",
    "SIRET",
    "LAMBERT_X",
    "LAMBERT_Y",
    "QUALITE_XY",
]
PARIS_L93 = (652469.3, 6862035.7)
AURILLAC_L93 = tuple(round(v, 1) for v in project(2.4446, 44.9264, 2154))
AJACCIO_L93 = tuple(round(v, 1) for v in project(8.7369, 41.9192, 2154))
SAINT_DENIS_974 = tuple(round(v, 1) for v in project(55.4481, -20.8789, 2975))


def bpe_rows():
    return [
        ["2023", "Pharmacie de l'Église", "", "75056", "75", "D307", "12345678900011"]
        + [*PARIS_L93, "Bonne"],
        ["2023", "Cabinet médical", "", "15014", "15", "D265", ""] + [*AURILLAC_L93, "Bonne"],
        ["2023", "Boulangerie Ça, et là", "", "2A004", "2A", "B203", ""]
        + [*AJACCIO_L93, "Acceptable"],
        ["2023", "Pharmacie du Barachois", "", "97411", "974", "D307", ""]
        + [*SAINT_DENIS_974, "Bonne"],
    ]


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("cp1252", ";"), ("utf-8-sig", ","), ("utf-8", ";")]
)
def test_bpe_rows_in_every_encoding_and_separator(session, tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "bpe.csv", BPE_HEADER, bpe_rows(), delimiter, encoding)
    if encoding == "utf-8-sig":
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    if encoding == "cp1252":
        assert "Église".encode("cp1252") in path.read_bytes()

    report = load_bpe(path)

    assert (report.source, report.read, report.loaded, report.skipped) == ("bpe", 4, 4, 0)
    assert report.problems == []
    assert report.by_type == {"D307": 2, "D265": 1, "B203": 1}
    rows = {r["source_id"]: r for r in pois("bpe")}
    assert sorted(rows) == ["2-D307-75056", "3-D265-15014", "4-B203-2A004", "5-D307-97411"]
    paris = rows["2-D307-75056"]
    assert paris["name"] == "Pharmacie de l'Église"
    assert paris["type_code"] == "D307"
    assert paris["commune_insee"] == "75056"
    assert paris["attributes"] == {"SIRET": "12345678900011", "QUALITE_XY": "Bonne"}
    assert paris["srid"] == 4326
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(*PARIS_L93)
    assert paris["lon"] == pytest.approx(lon, abs=1e-6)
    assert paris["lat"] == pytest.approx(lat, abs=1e-6)
    assert paris["cell_id"] == expected_cell(*PARIS_L93, 2154, 3035)
    assert rows["3-D265-15014"]["cell_id"] == expected_cell(*AURILLAC_L93, 2154, 3035)
    assert rows["3-D265-15014"]["attributes"] == {"QUALITE_XY": "Bonne"}
    assert rows["4-B203-2A004"]["name"] == "Boulangerie Ça, et là"
    assert rows["4-B203-2A004"]["commune_insee"] == "2A004"
    reunion = rows["5-D307-97411"]
    assert reunion["cell_id"] == expected_cell(*SAINT_DENIS_974, 2975, 2975)
    assert reunion["cell_id"].startswith("CRS2975RES1000mN")
    assert reunion["lon"] == pytest.approx(55.4481, abs=1e-5)
    assert reunion["lat"] == pytest.approx(-20.8789, abs=1e-5)


def test_bpe_epsg_column_gives_the_projection_overseas(session, tmp_path):
    fort_de_france = tuple(round(v, 1) for v in project(-61.0714, 14.6097, 5490))
    header = ["TYPEQU", "DEPCOM", "LAMBERT_X", "LAMBERT_Y", "QUALITE_XY", "EPSG", "ID"]
    rows = [
        ["D307", "97209", *fort_de_france, "Bonne", "5490", "eq-1"],
        ["D307", "97411", *SAINT_DENIS_974, "Bonne", "", "eq-2"],
        ["D265", "75056", *PARIS_L93, "Bonne", "EPSG:2154", "eq-3"],
        ["D265", "75056", *PARIS_L93, "Bonne", "2154", "eq-3"],
    ]
    report = load_bpe(write_csv(tmp_path / "bpe.csv", header, rows))

    assert (report.read, report.loaded, report.skipped) == (4, 3, 1)
    assert report.problems == [(5, "duplicate ID 'eq-3'")]
    cells = {r["source_id"]: r["cell_id"] for r in pois("bpe")}
    assert cells == {
        "eq-1": expected_cell(*fort_de_france, 5490, 5490),
        "eq-2": expected_cell(*SAINT_DENIS_974, 2975, 2975),
        "eq-3": expected_cell(*PARIS_L93, 2154, 3035),
    }


def test_bpe_bad_rows_are_reported_with_their_line_and_skipped(session, tmp_path):
    rows = bpe_rows()[:2]
    rows += [
        ["2023", "Sans X", "", "75056", "75", "D307", "", "", PARIS_L93[1], "Bonne"],
        ["2023", "X texte", "", "75056", "75", "D307", "", "abc", PARIS_L93[1], "Bonne"],
        ["2023", "Origine", "", "75056", "75", "D307", "", "0", "0", "Bonne"],
        ["2023", "Inconnue", "", "75056", "75", "D307", "", *PARIS_L93, "Non géolocalisé"],
        ["2023", "Réunion en métropole", "", "97411", "974", "D307", "", *PARIS_L93, "Bonne"],
        ["2023", "Saint-Pierre", "", "97502", "975", "D307", "", "1", "2", "Bonne"],
        ["2023", "tronquée", "", "75056"],
        ["2023", "Sans type", "", "75056", "75", "", "", *PARIS_L93, "Bonne"],
    ]
    path = write_csv(tmp_path / "bpe.csv", BPE_HEADER, rows, ";", "cp1252")

    report = load_bpe(path)

    assert (report.read, report.loaded, report.skipped) == (10, 2, 8)
    lines = [line for line, _ in report.problems]
    assert lines == [4, 5, 6, 7, 8, 9, 10, 11]
    reasons = dict(report.problems)
    assert reasons[4] == f"LAMBERT_X/LAMBERT_Y are not numbers: '', '{PARIS_L93[1]}'"
    assert reasons[5] == f"LAMBERT_X/LAMBERT_Y are not numbers: 'abc', '{PARIS_L93[1]}'"
    assert reasons[6] == "LAMBERT_X/LAMBERT_Y (0, 0) in EPSG:2154 fall outside metropolitan France"
    assert reasons[7] == "QUALITE_XY is 'Non géolocalisé'"
    assert reasons[8] == (
        f"LAMBERT_X/LAMBERT_Y ({PARIS_L93[0]}, {PARIS_L93[1]}) in EPSG:2975 "
        "fall outside La Réunion (974)"
    )
    assert reasons[9] == "no 1 km grid for département 975 (DEPCOM 97502)"
    assert reasons[10] == "4 fields where the header has 10"
    assert reasons[11] == "empty TYPEQU"
    assert [r["source_id"] for r in pois("bpe")] == ["2-D307-75056", "3-D265-15014"]


def test_bpe_from_insee_zip_with_its_variables_file(session, tmp_path):
    data = write_csv(tmp_path / "bpe23_ensemble_xy.csv", BPE_HEADER, bpe_rows(), ";", "cp1252")
    varmod = write_csv(tmp_path / "varmod_ensemble_xy_2023.csv", ["COD_VAR", "LIB_VAR"], [])
    archive = tmp_path / "bpe23_ensemble_xy_csv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(data, data.name)
        zf.write(varmod, varmod.name)

    report = load_bpe(archive)

    assert (report.read, report.loaded) == (4, 4)
    names = {r["source_id"]: r["name"] for r in pois("bpe")}
    assert names["2-D307-75056"] == "Pharmacie de l'Église"


def test_bpe_missing_column_refuses_the_file_and_changes_nothing(session, tmp_path):
    load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, bpe_rows()))
    before = pois("bpe")
    header = [h for h in BPE_HEADER if h != "LAMBERT_Y"]
    rows = [r[:8] + r[9:] for r in bpe_rows()]
    bad = write_csv(tmp_path / "bpe_sans_y.csv", header, rows)

    with pytest.raises(LoadError) as caught:
        load_bpe(bad)

    assert str(caught.value) == (
        "missing column LAMBERT_Y in bpe_sans_y.csv; found: AN, NOMRS, CNOMRS, DEPCOM, DEP, "
        "TYPEQU, SIRET, LAMBERT_X, QUALITE_XY"
    )
    assert pois("bpe") == before
    assert len(before) == 4


def test_bpe_without_a_usable_row_or_file_is_refused(session, tmp_path):
    load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, bpe_rows()))
    rows = [["2023", "Origine", "", "75056", "75", "D307", "", "0", "0", "Bonne"]]

    with pytest.raises(LoadError) as caught:
        load_bpe(write_csv(tmp_path / "bad.csv", BPE_HEADER, rows))
    assert str(caught.value) == (
        "no usable row in bad.csv (1 read, 1 refused); first problems: line 2: "
        "LAMBERT_X/LAMBERT_Y (0, 0) in EPSG:2154 fall outside metropolitan France; "
        "nothing changed"
    )
    with pytest.raises(LoadError, match=r"^no such file: .*absent\.csv$"):
        load_bpe(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(LoadError, match=r"^empty\.csv is empty: no header line$"):
        load_bpe(tmp_path / "empty.csv")
    assert len(pois("bpe")) == 4


def test_bpe_reload_is_idempotent(session, tmp_path):
    path = write_csv(tmp_path / "bpe.csv", BPE_HEADER, bpe_rows(), ";", "cp1252")
    first = load_bpe(path)
    rows_first = pois("bpe")
    second = load_bpe(path)

    assert (first.loaded, second.loaded) == (4, 4)
    assert pois("bpe") == rows_first
    assert db.session.execute(text("SELECT count(*) FROM pois WHERE source = 'bpe'")).scalar() == 4


def test_bpe_failure_mid_load_rolls_everything_back(session, tmp_path, monkeypatch):
    load_bpe(write_csv(tmp_path / "old.csv", BPE_HEADER, bpe_rows()[:1]))
    before = pois("bpe")
    monkeypatch.setattr(files, "CHUNK", 2)
    calls = []

    def progress(n):
        calls.append(n)
        if len(calls) == 2:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        load_bpe(write_csv(tmp_path / "new.csv", BPE_HEADER, bpe_rows() * 2), progress)

    assert calls == [2, 2]
    assert pois("bpe") == before
    assert [r["source_id"] for r in before] == ["2-D307-75056"]


def test_bpe_progress_counts_every_row_read(session, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 2)
    calls = []
    rows = [*bpe_rows(), ["2023", "bad", "", "75056", "75", "D307", "", "x", "y", "Bonne"]]

    report = load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, rows), calls.append)

    assert calls == [2, 2, 1]
    assert (report.read, report.loaded, report.skipped) == (5, 4, 1)


def test_report_summary(session, tmp_path):
    rows = [*bpe_rows(), ["2023", "bad", "", "75056", "75", "D307", "", "x", "y", "Bonne"]]
    report = load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, rows))
    assert report.summary() == "bpe: 5 read, 4 loaded, 1 skipped"
