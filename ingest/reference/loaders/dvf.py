"""Etalab's geolocated DVF (CSV) → `property_sales`, source "dvf"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import numpy as np
from sqlalchemy import text

from ingest.reference.bulk import Progress, copy_rows
from ingest.reference.loaders.dataset import finish, replacing
from ingest.reference.loaders.files import (
    MAX_PROBLEMS,
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
    TERRITORY_NAMES,
    cells_of,
    ewkt,
    inside,
    territory_of,
)

DVF_REQUIRED = (
    "id_mutation",
    "date_mutation",
    "nature_mutation",
    "valeur_fonciere",
    "type_local",
    "surface_reelle_bati",
    "longitude",
    "latitude",
    "code_commune",
)
#: Optional columns that tell a local's rows apart from another local's (see load_dvf).
_DVF_LOCAL = ("id_parcelle", "lot1_numero", "nombre_pieces_principales")
DVF_KINDS = {
    "Maison": "house",
    "Appartement": "flat",
    "Local industriel. commercial ou assimilé": "other",
}
_DVF_STAGE = """CREATE TEMP TABLE _stage_dvf (
    mutation text, file int, line int, kind text, local_key text, sold_on date,
    price numeric(14, 2), surface double precision, geom geometry(Point, 4326),
    cell_id text, problem text
) ON COMMIT DROP"""
_DVF_STAGE_COLUMNS = [
    "mutation",
    "file",
    "line",
    "kind",
    "local_key",
    "sold_on",
    "price",
    "surface",
    "geom",
    "cell_id",
    "problem",
]


def load_dvf(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load Etalab's geolocated DVF into `property_sales`, source "dvf", source_id id_mutation.

    A mutation spans several rows (one per parcel, local and land use). Kept: one sale per
    "Vente" mutation with exactly one house ("Maison") or flat ("Appartement") local of
    surface_reelle_bati > 0; its price is valeur_fonciere, its area that surface, its point
    longitude/latitude, its cell in code_commune's grid. Dependencies (garages, cellars) and
    land do not count as locals. The rows of one local repeat per land use: rows with the
    same type, surface, rooms, parcel and first lot are one local.

    Left out by design and counted (`counts`): non-"Vente" rows ("not_vente_rows"), house
    and flat rows without a surface ("no_surface_rows"), mutations with several houses/flats
    ("multi_local") or with a commercial local as well ("with_commercial_local"): their price
    cannot be split. Refused and reported with the local's line: missing or non-numeric
    longitude/latitude, a point outside the commune's territory, a malformed price or
    commune code. Several files (years, départements) may be loaded together.
    """
    paths, files = open_csvs(path)
    for f in files:
        f.require(DVF_REQUIRED)
    report = LoadReport("dvf")
    with replacing("dvf") as session:
        session.execute(text(_DVF_STAGE))
        copy_rows("_stage_dvf", _DVF_STAGE_COLUMNS, _rows(files, report, progress))
        multi, mixed = session.execute(
            text(
                "SELECT count(*) FILTER (WHERE locals > 1), "
                "count(*) FILTER (WHERE locals = 1 AND mixed) FROM ("
                "SELECT count(DISTINCT local_key) FILTER (WHERE kind <> 'other') AS locals, "
                "bool_or(kind = 'other') AS mixed FROM _stage_dvf GROUP BY mutation) m"
            )
        ).one()
        report.count("multi_local", multi)
        report.count("with_commercial_local", mixed)
        session.execute(
            text(
                "CREATE TEMP TABLE _dvf_sales ON COMMIT DROP AS "
                "SELECT DISTINCT ON (s.mutation) s.* FROM _stage_dvf s WHERE s.mutation IN ("
                "SELECT mutation FROM _stage_dvf GROUP BY mutation "
                "HAVING count(DISTINCT local_key) = 1 AND NOT bool_or(kind = 'other')) "
                "ORDER BY s.mutation, s.file, s.line"
            )
        )
        refused = session.execute(
            text("SELECT count(*) FROM _dvf_sales WHERE problem IS NOT NULL")
        ).scalar_one()
        listed = session.execute(
            text(
                "SELECT file, line, problem FROM _dvf_sales WHERE problem IS NOT NULL "
                "ORDER BY file, line LIMIT :n"
            ),
            {"n": MAX_PROBLEMS},
        ).all()
        for k, line, problem in listed:
            report.problem(line, files[k].label + problem)
        report.skipped += refused - len(listed)
        session.execute(text("DELETE FROM property_sales WHERE source = 'dvf'"))
        report.loaded = session.execute(
            text(
                "INSERT INTO property_sales (source, source_id, sold_on, property_type, "
                "price_eur, built_area_m2, geom, cell_id) "
                "SELECT 'dvf', mutation, sold_on, kind, price, surface, geom, cell_id "
                "FROM _dvf_sales WHERE problem IS NULL"
            )
        ).rowcount
        for kind, n in session.execute(
            text(
                "SELECT kind, count(*) FROM _dvf_sales WHERE problem IS NULL "
                "GROUP BY kind ORDER BY kind"
            )
        ).all():
            report.count(kind, n)
        finish(report, paths, "property_sales")
    return report


def _sold_on(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _rows(files: list[CsvFile], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    for k, f in enumerate(files):
        for lines, cols, short in chunks(f, [*DVF_REQUIRED, *_DVF_LOCAL], report, progress):
            report_problems(report, short)
            yield from _chunk(k, lines, cols, report)


def _chunk(k, lines, cols, report) -> Iterator[tuple]:
    n = len(lines)
    types, nature = cols["type_local"], cols["nature_mutation"]
    for type_local, count in Counter(t.strip() for t in types).items():
        report.add_type(type_local or "(none)", count)
    lon, lat = floats(cols["longitude"]), floats(cols["latitude"])
    surface, price = floats(cols["surface_reelle_bati"]), floats(cols["valeur_fonciere"])
    territory = np.full(n, -1, dtype=np.int64)
    kinds: dict[int, str] = {}
    communes = cols["code_commune"]
    for i in range(n):
        if nature[i].strip() != "Vente":
            report.count("not_vente_rows")
            continue
        kind = DVF_KINDS.get(types[i].strip())
        if kind is None:
            continue
        if kind != "other" and not surface[i] > 0:
            report.count("no_surface_rows")
            continue
        kinds[i] = kind
        commune = communes[i].strip().upper()
        if COMMUNE_RE.match(commune):
            territory[i] = territory_of(commune)
    candidates = np.array(sorted(kinds), dtype=np.int64)
    located = np.zeros(n, dtype=bool)
    located[candidates] = True
    located &= inside(lon, lat, territory)
    rows = np.flatnonzero(located)
    cells = cells_of(lon, lat, np.full(n, 4326), territory, rows)
    extra = [cols[c] for c in _DVF_LOCAL]
    mutations, dates, prices = cols["id_mutation"], cols["date_mutation"], cols["valeur_fonciere"]

    for i, kind in kinds.items():
        mutation = mutations[i].strip()
        local_key = "|".join(
            [kind, repr(float(surface[i]))] + [c[i].strip() for c in extra if c is not None]
        )
        problem = None
        if not mutation or len(mutation) > 80:
            problem = f"id_mutation {mutation[:20]!r} is empty or longer than 80 characters"
        elif not (price[i] > 0 and price[i] < 1e12 - 1):
            problem = f"valeur_fonciere {prices[i]!r} is not a price"
        elif np.isnan(lon[i]) or np.isnan(lat[i]):
            problem = (
                f"longitude/latitude missing or not numbers: "
                f"{cols['longitude'][i]!r}, {cols['latitude'][i]!r}"
            )
        elif territory[i] < 0:
            problem = f"code_commune {communes[i]!r} is not a commune with a 1 km grid"
        elif not located[i]:
            problem = (
                f"longitude/latitude ({lon[i]}, {lat[i]}) fall outside "
                f"{TERRITORY_NAMES[territory[i]]}"
            )
        yield (
            mutation,
            k,
            lines[i],
            kind,
            local_key,
            _sold_on(dates[i]),
            None if problem else float(price[i]),
            float(surface[i]) if kind != "other" else None,
            None if problem else ewkt(float(lon[i]), float(lat[i])),
            None if problem else cells[i],
            problem,
        )
