"""The national reference loaders, on small files in the real published formats."""

from __future__ import annotations

import csv
import gzip
import io
import math
from datetime import date
from decimal import Decimal

import pytest
from pyproj import Transformer
from sqlalchemy import text

from core.extensions import db
from ingest.reference import loaders
from ingest.reference.loaders import LoadError, load_bpe, load_dvf, load_filosofi, load_osm


@pytest.fixture(scope="module", autouse=True)
def _close_pool(app):
    """Close the pooled connections at the end: a connection left for the garbage collector
    raises a ResourceWarning (an error here) when this file runs alone."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def session(ctx):
    """An app context whose reference rows of the loaded sources are removed afterwards."""

    def clean():
        db.session.rollback()
        db.session.execute(text("DELETE FROM pois WHERE source IN ('bpe', 'osm')"))
        db.session.execute(text("DELETE FROM property_sales WHERE source = 'dvf'"))
        db.session.execute(
            text("DELETE FROM cell_population WHERE source IN ('filosofi', 'synth')")
        )
        db.session.commit()

    clean()
    yield db.session
    clean()


def write_csv(path, header, rows, delimiter=";", encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def project(lon, lat, epsg):
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


def expected_cell(x, y, source, grid):
    """The 1 km cell of a point, computed here with pyproj alone."""
    if source != grid:
        x, y = Transformer.from_crs(source, grid, always_xy=True).transform(x, y)
    return f"CRS{grid}RES1000mN{math.floor(y / 1000) * 1000}E{math.floor(x / 1000) * 1000}"


def pois(source):
    return [
        dict(row._mapping)
        for row in db.session.execute(
            text(
                "SELECT source_id, type_code, name, cell_id, commune_insee, attributes, "
                "ST_X(geom) AS lon, ST_Y(geom) AS lat, ST_SRID(geom) AS srid "
                "FROM pois WHERE source = :s ORDER BY source_id"
            ),
            {"s": source},
        )
    ]


# --- BPE --------------------------------------------------------------------------------------

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
    import zipfile

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
    monkeypatch.setattr(loaders, "CHUNK", 2)
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
    monkeypatch.setattr(loaders, "CHUNK", 2)
    calls = []
    rows = [*bpe_rows(), ["2023", "bad", "", "75056", "75", "D307", "", "x", "y", "Bonne"]]

    report = load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, rows), calls.append)

    assert calls == [2, 2, 1]
    assert (report.read, report.loaded, report.skipped) == (5, 4, 1)


# --- OSM --------------------------------------------------------------------------------------


def write_pbf(path):
    import osmium
    from osmium.osm.mutable import Node, Way

    square = [(2.0, 48.0), (2.01, 48.0), (2.01, 48.01), (2.0, 48.01)]
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(
            Node(
                id=1,
                location=(2.3488, 48.8534),
                tags={
                    "amenity": "pharmacy",
                    "name": "Pharmacie de l'Église",
                    "opening_hours": "Mo-Sa 09:00-19:00",
                    "source": "survey",
                },
            )
        )
        writer.add_node(Node(id=2, location=(2.4446, 44.9264), tags={"shop": "bakery"}))
        writer.add_node(
            Node(id=3, location=(2.35, 48.86), tags={"shop": "bakery", "amenity": "cafe"})
        )
        writer.add_node(Node(id=4, location=(2.36, 48.87), tags={"highway": "bus_stop"}))
        writer.add_node(Node(id=6, location=(55.4481, -20.8789), tags={"healthcare": "doctor"}))
        writer.add_node(Node(id=7, location=(139.7, 35.68), tags={"tourism": "hotel"}))
        writer.add_node(
            Node(
                id=8,
                location=(2.1, 48.1),
                tags={"leisure": "swimming_pool", "access": "private"},
            )
        )
        for i, location in enumerate(square, start=10):
            writer.add_node(Node(id=i, location=location))
        writer.add_way(
            Way(id=100, nodes=[10, 11, 12, 13, 10], tags={"leisure": "park", "name": "Jardin"})
        )
        writer.add_way(Way(id=101, nodes=[10, 999], tags={"tourism": "attraction"}))
        writer.add_way(Way(id=102, nodes=[11, 12], tags={"highway": "residential"}))


def test_osm_pbf_nodes_and_ways(session, tmp_path):
    path = tmp_path / "extrait.osm.pbf"
    write_pbf(path)

    calls = []
    report = load_osm(path, calls.append)

    assert calls == [8]
    assert (report.source, report.read, report.loaded, report.skipped) == ("osm", 8, 5, 2)
    assert report.counts == {"private": 1}
    assert report.problems == [
        (0, "way 101: a node location is missing"),
        (0, "node 7: (139.70000, 35.68000) is outside France"),
    ]
    assert report.by_type == {
        "osm:amenity=pharmacy": 1,
        "osm:shop=bakery": 1,
        "osm:amenity=cafe": 1,
        "osm:healthcare=doctor": 1,
        "osm:leisure=park": 1,
    }
    rows = {r["source_id"]: r for r in pois("osm")}
    assert sorted(rows) == ["n1", "n2", "n3", "n6", "w100"]
    pharmacy = rows["n1"]
    assert pharmacy["type_code"] == "osm:amenity=pharmacy"
    assert pharmacy["name"] == "Pharmacie de l'Église"
    assert pharmacy["attributes"] == {
        "amenity": "pharmacy",
        "name": "Pharmacie de l'Église",
        "opening_hours": "Mo-Sa 09:00-19:00",
    }
    assert pharmacy["commune_insee"] is None
    assert (pharmacy["lon"], pharmacy["lat"]) == (pytest.approx(2.3488), pytest.approx(48.8534))
    assert pharmacy["cell_id"] == expected_cell(2.3488, 48.8534, 4326, 3035)
    assert rows["n2"]["type_code"] == "osm:shop=bakery"
    assert rows["n2"]["name"] is None
    assert rows["n3"]["type_code"] == "osm:amenity=cafe"
    assert rows["n3"]["attributes"] == {"amenity": "cafe", "shop": "bakery"}
    assert rows["n6"]["cell_id"] == expected_cell(55.4481, -20.8789, 4326, 2975)
    park = rows["w100"]
    assert park["type_code"] == "osm:leisure=park"
    assert park["name"] == "Jardin"
    assert park["lon"] == pytest.approx(2.005, abs=1e-7)
    assert park["lat"] == pytest.approx(48.005, abs=1e-7)
    assert park["cell_id"] == expected_cell(2.005, 48.005, 4326, 3035)

    again = load_osm(path)
    assert again.loaded == 5
    assert {r["source_id"]: r for r in pois("osm")} == rows


def test_osm_refuses_a_file_that_is_not_osm(session, tmp_path):
    path = tmp_path / "faux.osm.pbf"
    path.write_bytes(b"not a protobuf file at all")

    with pytest.raises(LoadError, match=r"^cannot read faux\.osm\.pbf as an OSM file"):
        load_osm(path)


# --- Filosofi ---------------------------------------------------------------------------------

FILOSOFI_VALUES = [
    "ind",
    "men",
    "men_pauv",
    "ind_snv",
    "log_soc",
    "ind_0_3",
    "ind_4_5",
    "ind_6_10",
    "ind_11_17",
    "ind_18_24",
    "ind_25_39",
    "ind_40_54",
    "ind_55_64",
    "ind_65_79",
    "ind_80p",
]


def populations():
    return {
        row.cell_id: dict(row._mapping)
        for row in db.session.execute(
            text(
                "SELECT cell_id, source, ind, men, men_pauv, ind_snv, log_soc, ind_0_17, "
                "ind_18_64, ind_65p FROM cell_population WHERE source IN ('filosofi', 'synth')"
            )
        )
    }


def test_filosofi_1km_files_with_comma_decimals(session, tmp_path):
    # 2017 style: capitalised names, `;` and `,` decimals; La Réunion in its own file.
    header = ["Idcar_1km", "I_est_1km", *(c.capitalize() for c in FILOSOFI_VALUES), "lcog_geo"]
    values = ["12,5", "5", "1,5", "250000,25", "2", "1", "0,5", "1", "2"]
    values += ["1", "2", "3", "1", "1", "0,25"]
    metro = write_csv(
        tmp_path / "carreaux_1km_met.csv",
        header,
        [
            ["CRS3035RES1000mN2891000E3760000", "0", *values, "15014"],
            ["CRS3035RES1000mN2891500E3760000", "0", *values, "15014"],
            ["carreau?", "0", *values, "15014"],
            ["CRS3035RES1000mN2892000E3760000", "0", "", *values[1:], "15014"],
        ],
    )
    reunion = write_csv(
        tmp_path / "carreaux_1km_reun.csv",
        [h.lower() for h in header],
        [["CRS2975RES1000mN7690000E338000", "0", *(v.replace(",", ".") for v in values), ""]],
        delimiter=",",
    )

    report = load_filosofi([metro, reunion])

    assert (report.read, report.loaded, report.skipped) == (5, 2, 3)
    assert report.by_type == {"idcar_1km": 2}
    assert report.problems == [
        (
            3,
            "carreaux_1km_met.csv: idcar_1km 'CRS3035RES1000mN2891500E3760000': "
            "corners are not multiples of 1 km",
        ),
        (4, "carreaux_1km_met.csv: idcar_1km 'carreau?' is not a 1 km cell id"),
        (5, "carreaux_1km_met.csv: ind '' is not a number"),
    ]
    expected = {
        "source": "filosofi",
        "ind": 12.5,
        "men": 5.0,
        "men_pauv": 1.5,
        "ind_snv": 250000.25,
        "log_soc": 2.0,
        "ind_0_17": 4.5,
        "ind_18_64": 7.0,
        "ind_65p": 1.25,
    }
    rows = populations()
    assert rows == {
        "CRS3035RES1000mN2891000E3760000": {
            "cell_id": "CRS3035RES1000mN2891000E3760000",
            **expected,
        },
        "CRS2975RES1000mN7690000E338000": {"cell_id": "CRS2975RES1000mN7690000E338000", **expected},
    }


def test_filosofi_200m_cells_are_summed_into_their_1km_cell(session, tmp_path):
    header = ["idcar_200m", "i_est_200", "idcar_1km", "i_est_1km", *FILOSOFI_VALUES]
    rows = []
    k = 0
    for north in range(2891000, 2892000, 200):
        for east in range(3760000, 3761000, 200):
            k += 1
            values = [k, 0.5, 0.1, 1000 * k, k % 2, 1, 0.5, 1, 2, 1, 2, 3, 1, 1, 0.25]
            rows.append(
                [f"CRS3035RES200mN{north}E{east}", "0", "CRS3035RES1000mN2891000E3760000", "0"]
                + values
            )
    neighbour = [7, 3, 1, 140000, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    rows.append(["CRS3035RES200mN2892200E3760600", "0", "", "0", *neighbour])
    rows.append(["CRS3035RES200mN2891100E3760400", "0", "", "0", *neighbour])
    rows.append(["CRS3035RES1000mN2891000E3760000", "0", "", "0", *neighbour])
    rows.append(["CRS9999RES200mN2891000E3760000", "0", "", "0", *neighbour])
    db.session.execute(
        text(
            "INSERT INTO cell_population VALUES ('CRS3035RES1000mN2891000E3760000', 'synth', "
            "1, 1, 1, 1, 1, 1, 1, 1)"
        )
    )
    db.session.commit()

    report = load_filosofi(write_csv(tmp_path / "carreaux_200m_met.csv", header, rows, ","))

    assert (report.read, report.loaded, report.skipped) == (29, 2, 3)
    assert report.by_type == {"idcar_200m": 26}
    assert report.counts == {"replaced_synth": 1}
    assert report.problems == [
        (28, "idcar_200m 'CRS3035RES200mN2891100E3760400': corners are not multiples of 200 m"),
        (29, "idcar_200m 'CRS3035RES1000mN2891000E3760000' is not a 200 m cell id"),
        (30, "idcar_200m 'CRS9999RES200mN2891000E3760000': EPSG:9999 is not a grid of France"),
    ]
    cells = populations()
    assert sorted(cells) == ["CRS3035RES1000mN2891000E3760000", "CRS3035RES1000mN2892000E3760000"]
    whole = cells["CRS3035RES1000mN2891000E3760000"]
    assert whole["source"] == "filosofi"
    assert whole["ind"] == 325.0
    assert whole["men"] == 12.5
    assert whole["men_pauv"] == pytest.approx(2.5)
    assert whole["ind_snv"] == 325000.0
    assert whole["log_soc"] == 13.0
    assert whole["ind_0_17"] == 112.5
    assert whole["ind_18_64"] == 175.0
    assert whole["ind_65p"] == 31.25
    other = cells["CRS3035RES1000mN2892000E3760000"]
    assert (other["ind"], other["men"], other["ind_0_17"], other["ind_65p"]) == (7, 3, 4, 0)


def test_filosofi_missing_columns_and_mixed_resolutions_are_refused(session, tmp_path):
    header = [c for c in FILOSOFI_VALUES if c != "men_pauv"]
    bad = write_csv(tmp_path / "carreaux.csv", header, [["1"] * len(header)])
    with pytest.raises(LoadError) as caught:
        load_filosofi(bad)
    assert str(caught.value).startswith(
        "missing columns idcar_1km or idcar_200m, men_pauv in carreaux.csv; found: ind, men, "
    )

    km = write_csv(tmp_path / "km.csv", ["idcar_1km", *FILOSOFI_VALUES], [])
    m200 = write_csv(tmp_path / "m200.csv", ["idcar_200m", *FILOSOFI_VALUES], [])
    with pytest.raises(LoadError, match="mix idcar_1km and idcar_200m"):
        load_filosofi([km, m200])
    assert populations() == {}


# --- DVF --------------------------------------------------------------------------------------

DVF_HEADER = (
    "id_mutation,date_mutation,numero_disposition,nature_mutation,valeur_fonciere,"
    "adresse_numero,adresse_suffixe,adresse_nom_voie,adresse_code_voie,code_postal,"
    "code_commune,nom_commune,code_departement,ancien_code_commune,ancien_nom_commune,"
    "id_parcelle,ancien_id_parcelle,numero_volume,lot1_numero,lot1_surface_carrez,lot2_numero,"
    "lot2_surface_carrez,lot3_numero,lot3_surface_carrez,lot4_numero,lot4_surface_carrez,"
    "lot5_numero,lot5_surface_carrez,nombre_lots,code_type_local,type_local,"
    "surface_reelle_bati,nombre_pieces_principales,code_nature_culture,nature_culture,"
    "code_nature_culture_speciale,nature_culture_speciale,surface_terrain,longitude,latitude"
).split(",")
AURILLAC = (2.4446, 44.9264)
PARIS = (2.3488, 48.8534)


def dvf_row(mutation, nature, price, type_local, surface, point, commune, **extra):
    row = dict.fromkeys(DVF_HEADER, "")
    row.update(
        id_mutation=mutation,
        date_mutation="2023-03-15",
        numero_disposition="000001",
        nature_mutation=nature,
        valeur_fonciere=price,
        code_commune=commune,
        code_departement=commune[:2],
        id_parcelle=f"{commune}000AB0012",
        type_local=type_local,
        surface_reelle_bati=surface,
        longitude=point[0] if point else "",
        latitude=point[1] if point else "",
        nombre_lots="0",
    )
    row.update(extra)
    return [row[c] for c in DVF_HEADER]


def dvf_rows():
    house = ("Maison", "100", AURILLAC, "15014")
    return [
        # line 2-5: one house on two land uses, a garage and land: one sale
        dvf_row("2023-1", "Vente", "185000.0", *house, nature_culture="sols"),
        dvf_row("2023-1", "Vente", "185000.0", *house, nature_culture="jardins"),
        dvf_row("2023-1", "Vente", "185000.0", "Dépendance", "", AURILLAC, "15014"),
        dvf_row("2023-1", "Vente", "185000.0", "", "", AURILLAC, "15014"),
        # line 6: a flat
        dvf_row(
            "2023-2",
            "Vente",
            "312000.5",
            "Appartement",
            "52.5",
            PARIS,
            "75104",
            date_mutation="2023-06-01",
            lot1_numero="12",
        ),
        # line 7-8: two flats sold together: the price cannot be split
        dvf_row("2023-3", "Vente", "400000", "Appartement", "40", PARIS, "75104", lot1_numero="3"),
        dvf_row("2023-3", "Vente", "400000", "Appartement", "45", PARIS, "75104", lot1_numero="4"),
        # line 9: an exchange
        dvf_row("2023-4", "Echange", "90000", "Maison", "80", AURILLAC, "15014"),
        # line 10: a house without coordinates
        dvf_row("2023-5", "Vente", "120000", "Maison", "90", None, "15014"),
        # line 11-12: a shop and a flat sold together
        dvf_row(
            "2023-6",
            "Vente",
            "500000",
            "Local industriel. commercial ou assimilé",
            "60",
            PARIS,
            "75104",
        ),
        dvf_row("2023-6", "Vente", "500000", "Appartement", "30", PARIS, "75104"),
        # line 13: a garage alone; line 14: off-plan; line 15: a house without surface
        dvf_row("2023-7", "Vente", "15000", "Dépendance", "", PARIS, "75104"),
        dvf_row(
            "2023-8",
            "Vente en l'état futur d'achèvement",
            "250000",
            "Appartement",
            "50",
            PARIS,
            "75104",
        ),
        dvf_row("2023-9", "Vente", "99000", "Maison", "", AURILLAC, "15014"),
    ]


def sales():
    return [
        dict(row._mapping)
        for row in db.session.execute(
            text(
                "SELECT source_id, sold_on, property_type, price_eur, built_area_m2, cell_id, "
                "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM property_sales "
                "WHERE source = 'dvf' ORDER BY source_id"
            )
        )
    ]


def test_dvf_keeps_single_house_and_flat_sales(session, tmp_path):
    path = write_csv(tmp_path / "dvf.csv.gz", DVF_HEADER, dvf_rows(), delimiter=",")

    report = load_dvf(path)

    assert (report.source, report.read, report.loaded, report.skipped) == ("dvf", 14, 2, 1)
    assert report.problems == [(10, "longitude/latitude missing or not numbers: '', ''")]
    assert report.counts == {
        "house": 1,
        "flat": 1,
        "multi_local": 1,
        "with_commercial_local": 1,
        "not_vente_rows": 2,
        "no_surface_rows": 1,
    }
    assert report.by_type == {
        "Maison": 5,
        "Appartement": 5,
        "Dépendance": 2,
        "(none)": 1,
        "Local industriel. commercial ou assimilé": 1,
    }
    assert sales() == [
        {
            "source_id": "2023-1",
            "sold_on": date(2023, 3, 15),
            "property_type": "house",
            "price_eur": Decimal("185000.00"),
            "built_area_m2": 100.0,
            "cell_id": expected_cell(*AURILLAC, 4326, 3035),
            "lon": pytest.approx(AURILLAC[0]),
            "lat": pytest.approx(AURILLAC[1]),
        },
        {
            "source_id": "2023-2",
            "sold_on": date(2023, 6, 1),
            "property_type": "flat",
            "price_eur": Decimal("312000.50"),
            "built_area_m2": 52.5,
            "cell_id": expected_cell(*PARIS, 4326, 3035),
            "lon": pytest.approx(PARIS[0]),
            "lat": pytest.approx(PARIS[1]),
        },
    ]

    assert load_dvf(path).loaded == 2
    assert [s["source_id"] for s in sales()] == ["2023-1", "2023-2"]


def test_dvf_missing_columns_are_refused(session, tmp_path):
    header = [c for c in DVF_HEADER if c not in ("longitude", "latitude")]
    path = write_csv(tmp_path / "dvf.csv", header, [], delimiter=",")

    with pytest.raises(LoadError, match=r"^missing columns longitude, latitude in dvf\.csv; "):
        load_dvf(path)
    assert sales() == []


def test_report_summary(session, tmp_path):
    rows = [*bpe_rows(), ["2023", "bad", "", "75056", "75", "D307", "", "x", "y", "Bonne"]]
    report = load_bpe(write_csv(tmp_path / "bpe.csv", BPE_HEADER, rows))
    assert report.summary() == "bpe: 5 read, 4 loaded, 1 skipped"
