"""INSEE's Base permanente des équipements (BPE, CSV) → `pois`, source "bpe"."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator

import numpy as np
from sqlalchemy import text

from core import grid
from ingest.reference.bulk import Progress, copy_rows
from ingest.reference.loaders.dataset import finish, replacing
from ingest.reference.loaders.files import (
    CsvFile,
    LoadReport,
    PathArg,
    chunks,
    floats,
    open_csvs,
    report_problems,
)
from ingest.reference.loaders.places import (
    COMMUNE_RE,
    TERRITORIES,
    TERRITORY_NAMES,
    cells_of,
    ewkt,
    inside,
    territory_of,
)
from ingest.reference.models import POI_COLUMNS

BPE_REQUIRED = ("TYPEQU", "DEPCOM", "LAMBERT_X", "LAMBERT_Y")
#: Columns taken as the equipment's own id, when the file has one (first found).
BPE_ID_COLUMNS = ("ID", "IDEQUIP", "ID_EQUIPEMENT", "IDENTIFIANT")
_BPE_OPTIONAL = ("NOMRS", "SIRET", "QUALITE_XY", "EPSG")
#: The projection of LAMBERT_X/Y in each territory when the file has no EPSG column.
BPE_EPSG = {"metro": 2154, "971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
_BPE_EPSG_LIST = [BPE_EPSG[t] for t in TERRITORIES]


def load_bpe(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load INSEE's BPE (one row per equipment) into `pois` with source "bpe".

    type_code = TYPEQU, name = NOMRS, commune_insee = DEPCOM, attributes = SIRET and
    QUALITE_XY. LAMBERT_X/Y are in the EPSG of the row's `EPSG` column when the file has one,
    else EPSG:2154 in metropolitan France and the local UTM overseas (BPE_EPSG). The cell is in
    the grid of DEPCOM's département. source_id is the file's id column when it has one
    (BPE_ID_COLUMNS), else "<line>-<TYPEQU>-<DEPCOM>" (e.g. "2-D265-75056"): stable for the
    same file, but not across editions of the BPE.

    Refused rows: empty TYPEQU, malformed DEPCOM, a département without a 1 km grid (975,
    977, 978), QUALITE_XY "Non géolocalisé", coordinates empty, not numbers, in an unknown
    EPSG or outside the territory, a duplicate id.
    """
    paths, files = open_csvs(path)
    for f in files:
        f.require(BPE_REQUIRED)
    report = LoadReport("bpe")
    with replacing("bpe") as session:
        session.execute(text("DELETE FROM pois WHERE source = 'bpe'"))
        report.loaded = copy_rows("pois", POI_COLUMNS, _rows(files, report, progress))
        finish(report, paths, "pois")
    return report


def _rows(files: list[CsvFile], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    seen: set[str] = set()
    for k, f in enumerate(files):
        id_column = next((c for c in BPE_ID_COLUMNS if f.has(c)), None)
        names = [*BPE_REQUIRED, *_BPE_OPTIONAL] + ([id_column] if id_column else [])
        prefix = f"{k}." if k else ""
        for lines, cols, short in chunks(f, names, report, progress):
            yield from _chunk(f, prefix, lines, cols, short, id_column, report, seen)


def _chunk(f, prefix, lines, cols, short, id_column, report, seen) -> Iterator[tuple]:
    from pyproj.exceptions import CRSError  # noqa: PLC0415 - heavy: with the projection

    n = len(lines)
    typequ, depcom = cols["TYPEQU"], cols["DEPCOM"]
    raw_x, raw_y = cols["LAMBERT_X"], cols["LAMBERT_Y"]
    names, sirets = cols["NOMRS"], cols["SIRET"]
    quality, epsg_column = cols["QUALITE_XY"], cols["EPSG"]
    own_ids = cols[id_column] if id_column else None
    xs, ys = floats(raw_x), floats(raw_y)
    not_numbers = (np.isnan(xs) | np.isnan(ys)).tolist()
    qualities = [q.strip() for q in quality] if quality else [""] * n
    sources: list[int] = [0] * n
    territories: list[int] = [-1] * n
    types: list[str] = [""] * n
    communes: list[str] = [""] * n
    reasons: dict[int, str] = {}
    places: dict[str, int] = {}  # commune → territory, per chunk
    epsgs: dict[str, int | None] = {}  # EPSG column value → code

    for i in range(n):
        code = typequ[i].strip()
        commune = depcom[i].strip().upper()
        where = places.get(commune)
        if where is None:
            where = places[commune] = territory_of(commune) if COMMUNE_RE.match(commune) else -2
        if not code:
            reasons[i] = "empty TYPEQU"
        elif where == -2:
            reasons[i] = f"DEPCOM {depcom[i]!r} is not a commune code"
        elif where < 0:
            reasons[i] = f"no 1 km grid for département {commune[:3]} (DEPCOM {commune})"
        elif qualities[i][:5].lower() == "non g":
            reasons[i] = f"QUALITE_XY is {qualities[i]!r}"
        elif not_numbers[i]:
            reasons[i] = f"LAMBERT_X/LAMBERT_Y are not numbers: {raw_x[i]!r}, {raw_y[i]!r}"
        else:
            epsg: int | None = _BPE_EPSG_LIST[where]
            if epsg_column:
                value = epsg_column[i]
                if value not in epsgs:
                    digits = re.sub(r"^EPSG:", "", value.strip(), flags=re.IGNORECASE)
                    epsgs[value] = int(digits) if digits.isdigit() else None
                if value.strip():
                    epsg = epsgs[value]
            if epsg is None:
                reasons[i] = f"EPSG {epsg_column[i]!r} is not an EPSG code"
                continue
            sources[i], territories[i], types[i], communes[i] = epsg, where, code[:60], commune

    source = np.array(sources, dtype=np.int64)
    territory = np.array(territories, dtype=np.int64)
    ok = territory >= 0
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for epsg in np.unique(source[ok]).tolist():
        pick = ok & (source == epsg)
        try:
            lon[pick], lat[pick] = grid.project(xs[pick], ys[pick], epsg, 4326)
        except CRSError:
            for i in np.flatnonzero(pick).tolist():
                reasons[i] = f"EPSG {epsg} is not a known projection"
            ok &= ~pick
    outside = ok & ~inside(lon, lat, territory)
    for i in np.flatnonzero(outside).tolist():
        reasons[i] = (
            f"LAMBERT_X/LAMBERT_Y ({raw_x[i].strip()}, {raw_y[i].strip()}) in EPSG:{sources[i]} "
            f"fall outside {TERRITORY_NAMES[territories[i]]}"
        )
    ok &= ~outside
    rows = np.flatnonzero(ok)
    cells = cells_of(xs, ys, source, territory, rows)
    lon_list, lat_list = lon.tolist(), lat.tolist()
    quoted: dict[str, str] = {}  # QUALITE_XY value → its JSON member
    written: Counter[str] = Counter()

    for i in rows.tolist():
        source_id = own_ids[i].strip() if own_ids else ""
        if source_id:
            if len(source_id) > 80:
                reasons[i] = f"{id_column} {source_id[:20]!r}… is longer than 80 characters"
                continue
            if source_id in seen:
                reasons[i] = f"duplicate {id_column} {source_id!r}"
                continue
            seen.add(source_id)
        else:
            source_id = f"{prefix}{lines[i]}-{types[i]}-{communes[i]}"
        members = []
        siret = sirets[i].strip() if sirets else ""
        if siret:
            members.append(f'"SIRET": "{siret}"' if siret.isdigit() else _member("SIRET", siret))
        if qualities[i]:
            q = qualities[i]
            members.append(quoted.get(q) or quoted.setdefault(q, _member("QUALITE_XY", q)))
        name = names[i].strip()[:300] if names else ""
        written[types[i]] += 1
        yield (
            "bpe",
            source_id,
            types[i],
            name or None,
            ewkt(lon_list[i], lat_list[i]),
            cells[i],
            communes[i],
            "{" + ", ".join(members) + "}",
        )
    for code, count in written.items():
        report.add_type(code, count)
    report_problems(report, short + [(lines[i], f.label + reason) for i, reason in reasons.items()])


def _member(key: str, value: str) -> str:
    """One `"key": "value"` member of a JSON object."""
    return f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
