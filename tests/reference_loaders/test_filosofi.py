"""The Filosofi loader (INSEE's gridded data), on small files in the real published formats."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db
from ingest.reference.loaders.files import LoadError
from ingest.reference.loaders.filosofi import load_filosofi
from tests.reference_loaders.helpers import write_csv

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
