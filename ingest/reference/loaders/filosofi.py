"""INSEE's Filosofi gridded data, 1 km or 200 m (CSV) → `cell_population`, source "filosofi"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from sqlalchemy import text

from core import grid
from ingest.reference.bulk import Progress, copy_rows
from ingest.reference.loaders.dataset import finish, replacing
from ingest.reference.loaders.files import (
    LoadError,
    LoadReport,
    PathArg,
    chunks,
    floats,
    open_csvs,
    report_problems,
)

FILOSOFI_AGES = {
    "ind_0_17": ("ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17"),
    "ind_18_64": ("ind_18_24", "ind_25_39", "ind_40_54", "ind_55_64"),
    "ind_65p": ("ind_65_79", "ind_80p"),
}
FILOSOFI_VALUES = (
    "ind",
    "men",
    "men_pauv",
    "ind_snv",
    "log_soc",
    *(c for group in FILOSOFI_AGES.values() for c in group),
)
_FILOSOFI_OUT = ("ind", "men", "men_pauv", "ind_snv", "log_soc", *FILOSOFI_AGES)
_FILOSOFI_ID_RE = re.compile(r"^CRS(\d{4,5})RES(1000|200)mN(-?\d+)E(-?\d+)$")
_FILOSOFI_SQL = {
    "stage": "CREATE TEMP TABLE _stage_filosofi (cell_id text, ind float8, men float8, "
    "men_pauv float8, ind_snv float8, log_soc float8, ind_0_17 float8, ind_18_64 float8, "
    "ind_65p float8) ON COMMIT DROP",
    # Cells of other sources (e.g. synthetic) that the file covers give way to it.
    "replace": "WITH gone AS (DELETE FROM cell_population c "
    "USING (SELECT DISTINCT cell_id FROM _stage_filosofi) s WHERE c.cell_id = s.cell_id "
    "RETURNING c.source) SELECT source, count(*) FROM gone GROUP BY source ORDER BY source",
    "insert": "INSERT INTO cell_population (cell_id, source, ind, men, men_pauv, ind_snv, "
    "log_soc, ind_0_17, ind_18_64, ind_65p) SELECT cell_id, 'filosofi', sum(ind), sum(men), "
    "sum(men_pauv), sum(ind_snv), sum(log_soc), sum(ind_0_17), sum(ind_18_64), sum(ind_65p) "
    "FROM _stage_filosofi GROUP BY cell_id",
}


def load_filosofi(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load INSEE's Filosofi gridded data into `cell_population`, source "filosofi".

    The id column `idcar_200m` (200 m cells, summed into their 1 km cell: the corner floored
    to 1000 m) or else `idcar_1km` decides the resolution; column names are matched without
    regard to case (the 2017 files say `Idcar_1km`, `Ind`…). Values may use `.` or `,`
    decimals. Several files (metropolitan France, Martinique, La Réunion) may be given
    together, all at one resolution. Cells of another source (e.g. synthetic rows) that the
    file covers are replaced: counted as "replaced_<source>". Refused rows: a malformed id
    (not CRS<epsg>RES<res>mN…E… of a French grid, corners not multiples of the resolution), a
    value that is empty or not a number.
    """
    paths, files = open_csvs(path)
    resolutions = set()
    for f in files:
        id_column = "idcar_200m" if f.has("idcar_200m") else "idcar_1km"
        if not f.has(id_column):
            f.require(["idcar_1km or idcar_200m", *(c for c in FILOSOFI_VALUES if not f.has(c))])
        f.require(FILOSOFI_VALUES)
        resolutions.add(id_column)
    if len(resolutions) > 1:
        raise LoadError(
            "the files mix idcar_1km and idcar_200m files: load one resolution "
            "(200 m cells would be counted again in their 1 km cell)"
        )
    id_column = resolutions.pop()
    resolution = 200 if id_column == "idcar_200m" else 1000
    report = LoadReport("filosofi")
    with replacing("filosofi") as session:
        session.execute(text(_FILOSOFI_SQL["stage"]))
        rows = _rows(files, id_column, resolution, report, progress)
        copy_rows("_stage_filosofi", ["cell_id", *_FILOSOFI_OUT], rows)
        session.execute(text("DELETE FROM cell_population WHERE source = 'filosofi'"))
        for source, n in session.execute(text(_FILOSOFI_SQL["replace"])).all():
            report.count(f"replaced_{source}", n)
        report.loaded = session.execute(text(_FILOSOFI_SQL["insert"])).rowcount
        finish(report, paths, "cell_population")
    return report


def _rows(files, id_column, resolution, report, progress) -> Iterator[tuple]:
    label = "1 km" if resolution == 1000 else "200 m"
    for f in files:
        for lines, cols, problems in chunks(f, [id_column, *FILOSOFI_VALUES], report, progress):
            values = {c: floats(cols[c]) for c in FILOSOFI_VALUES}
            matrix = np.column_stack([values[c] for c in FILOSOFI_VALUES])
            bad = np.isnan(matrix)
            out = [values[c] for c in _FILOSOFI_OUT[:5]]
            out += [sum(values[c] for c in group) for group in FILOSOFI_AGES.values()]
            out_rows = np.column_stack(out).tolist()
            for i, raw in enumerate(cols[id_column]):
                reason = None
                match = _FILOSOFI_ID_RE.match(raw.strip())
                if match is None or int(match[2]) != resolution:
                    reason = f"{id_column} {raw!r} is not a {label} cell id"
                else:
                    epsg, north, east = int(match[1]), int(match[3]), int(match[4])
                    if epsg not in grid.GRID_EPSGS:
                        reason = f"{id_column} {raw!r}: EPSG:{epsg} is not a grid of France"
                    elif north % resolution or east % resolution:
                        reason = f"{id_column} {raw!r}: corners are not multiples of {label}"
                    elif bad[i].any():
                        column = FILOSOFI_VALUES[int(np.argmax(bad[i]))]
                        reason = f"{column} {cols[column][i]!r} is not a number"
                if reason:
                    problems.append((lines[i], f.label + reason))
                    continue
                report.add_type(id_column)
                north, east = north // 1000 * 1000, east // 1000 * 1000
                yield (f"CRS{epsg}RES1000mN{north}E{east}", *out_rows[i])
            report_problems(report, problems)
