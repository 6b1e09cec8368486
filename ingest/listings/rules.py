"""French rules shared by the normed file, the API and the editor form: numbers, dates,
SIRET checksums, coordinates inside France, and where a listing lies (point and cell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import text
from stdnum.fr import siret

from core import grid
from core.tenancy import require_tenant
from ingest.reference.territory import territory_communes

#: Bounding boxes of metropolitan France and the overseas départements (lon/lat), generous.
FRANCE_BOXES = (
    (-5.5, 41.2, 9.8, 51.2),  # metropole and Corsica
    (-61.9, 15.8, -60.9, 16.6),  # Guadeloupe
    (-61.3, 14.3, -60.7, 14.9),  # Martinique
    (-54.7, 2.0, -51.5, 5.9),  # Guyane
    (55.1, -21.5, 55.9, -20.8),  # La Réunion
    (44.9, -13.1, 45.4, -12.5),  # Mayotte
)
#: How far (metres) a given point may lie from its commune's boundary: geocoders round, and a
#: farm on the border is often addressed to the neighbouring town. Further is the sea or a typo.
COMMUNE_TOLERANCE_M = 2000
LAMBERT_93 = 2154
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SPACES = str.maketrans("", "", " \u00a0\u202f")
BOOLEANS = {
    "true": True,
    "vrai": True,
    "oui": True,
    "1": True,
    "false": False,
    "faux": False,
    "non": False,
    "0": False,
}


#: Characters no listing text may hold: C0 controls and DEL (PostgreSQL refuses NUL, and the
#: rest are invisible traps); a multi-line text keeps tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character(value: str, multiline: bool = False) -> int | None:
    """Where (0-based) the first character a text may not hold is, or None."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    return None if found is None else found.start()


def visible(value: str) -> str:
    """A text with its control characters shown as Unicode's pictures of them (NUL → ␀)."""
    return _CONTROL.sub(lambda m: chr(0x2421 if m[0] == "\x7f" else 0x2400 + ord(m[0])), value)


def french_number(value: str) -> str:
    """'1 234,50' → '1234.50'; anything else unchanged (the schema then reports it)."""
    compact = value.translate(_SPACES)
    if compact.count(",") == 1 and "." not in compact:
        compact = compact.replace(",", ".")
    return compact


def iso_date(value: str) -> str:
    """'02/11/2026' → '2026-11-02' (31/02/2026 stays as it is and fails as a date)."""
    found = _FRENCH_DATE.match(value)
    if not found:
        return value
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return value


def typed(kind: str):
    """The converter from a validated text value to its Python value."""
    return {
        "string": str,
        "integer": int,
        "number": Decimal,
        "boolean": lambda v: BOOLEANS[v.lower()],
        "date": _date,
    }[kind]


def _date(value: str) -> date:
    """As the Table Schema reads a date (strptime: 2026-1-5 passes it), not stricter; the usual
    2026-01-05 takes the fast path, strptime costing about 6 µs a value."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return datetime.strptime(value, "%Y-%m-%d").date()


def siret_ok(value: str) -> bool:
    """14 digits, as written in a file, whose checksums hold (python-stdnum: its SIREN's and its
    own, La Poste's establishments included)."""
    return bool(re.fullmatch(r"\d{14}", value)) and siret.is_valid(value)


def in_france(lon, lat):
    """Whether a point lies in France's boxes; arrays of points give an array of answers."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when listings are placed

    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    inside = np.zeros(np.broadcast(lon, lat).shape, dtype=bool)
    for w, s, e, n in FRANCE_BOXES:
        inside |= (w <= lon) & (lon <= e) & (s <= lat) & (lat <= n)
    return inside


@dataclass
class Problem:
    """A rule broken by one record: its index in the batch, the field, a code and parameters."""

    index: int
    code: str
    column: str
    value: str | None = None
    params: dict | None = None


def locate(session, records: list[dict]) -> list[Problem]:
    """Give each record its point: latitude/longitude, else Lambert-93 X/Y, else its commune's
    centre (`location_approximate`). Sets `_lon`, `_lat`, `location_approximate` and `cell_id`.

    The commune must exist, and a given point must lie in France and near its commune; the
    listing must lie in the current territory: its point within `PERIMETER_MARGIN_M` of the
    territory's communes (an umbrella's: its members'), or, placed at its commune's centre,
    in one of them.
    """
    import numpy as np  # noqa: PLC0415 - heavy: imported when listings are placed

    problems: list[Problem] = []
    if not records:
        return problems
    lambert = [
        i
        for i, r in enumerate(records)
        if r.get("latitude") is None and r.get("lambert_x") is not None
    ]
    if lambert:
        xs = np.array([float(records[i]["lambert_x"]) for i in lambert])
        ys = np.array([float(records[i]["lambert_y"] or 0) for i in lambert])
        lons, lats = grid.project(xs, ys, LAMBERT_93, 4326)
        for i, lon, lat in zip(lambert, lons, lats, strict=True):
            if records[i].get("lambert_y") is None:
                problems.append(Problem(i, "half_coordinates", "lambert_y"))
                continue
            records[i]["_lon"], records[i]["_lat"] = float(lon), float(lat)
    for i, r in enumerate(records):
        lat, lon = r.get("latitude"), r.get("longitude")
        if lat is not None and lon is not None:
            r["_lon"], r["_lat"] = float(lon), float(lat)
        elif (lat is None) != (lon is None):
            missing = "longitude" if lon is None else "latitude"
            problems.append(Problem(i, "half_coordinates", missing))
    placed = [i for i, r in enumerate(records) if "_lon" in r]
    inside = in_france([records[i]["_lon"] for i in placed], [records[i]["_lat"] for i in placed])
    for i in np.asarray(placed)[~inside].tolist():  # all the points at once
        r = records[i]
        problems.append(
            Problem(i, "outside_france", "latitude", f"{r['_lat']:.5f}, {r['_lon']:.5f}")
        )
        del r["_lon"], r["_lat"]
    bad = {p.index for p in problems}
    problems.extend(_check_communes(session, records, bad))
    bad = {p.index for p in problems}
    problems.extend(_check_perimeter(session, records, bad))
    bad = {p.index for p in problems}
    by_grid: dict[int, list[int]] = {}
    grids: dict[str, int] = {}  # a batch has few communes: each one's grid is looked up once
    for i, r in enumerate(records):
        if i in bad:
            continue
        insee = r["commune_insee"]
        code = grids.get(insee)
        if code is None:
            code = grids[insee] = grid.grid_for_departement(_departement(insee))
        by_grid.setdefault(code, []).append(i)
    for code, indexes in by_grid.items():
        ids = grid.cell_ids(
            np.array([records[i]["_lon"] for i in indexes]),
            np.array([records[i]["_lat"] for i in indexes]),
            grid=code,
        )
        for i, cell in zip(indexes, ids, strict=True):
            records[i]["cell_id"] = str(cell)
    return problems


def _departement(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def _check_communes(session, records: list[dict], skip: set[int]) -> list[Problem]:
    """Each commune's existence, its centre, and whether a point lies within reach of it.

    The batch's few communes are fetched once; points are tested against their polygon in
    one vectorised call, and only those outside are measured (on the sphere) by the database.
    """
    import numpy as np  # noqa: PLC0415 - heavy: imported when listings are placed
    import shapely  # noqa: PLC0415 - heavy: imported when listings are placed

    by_commune: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        if i not in skip:
            by_commune.setdefault(r["commune_insee"], []).append(i)
    if not by_commune:
        return []
    communes = {
        insee: (shapely.from_wkb(bytes(wkb)), lon, lat)
        for insee, wkb, lon, lat in session.execute(
            text(
                "SELECT insee, ST_AsBinary(geom), ST_X(ST_PointOnSurface(geom)), "
                "ST_Y(ST_PointOnSurface(geom)) FROM public.communes WHERE insee = ANY(:codes)"
            ),
            {"codes": sorted(by_commune)},
        )
    }
    problems, outside = [], []
    for insee, indexes in by_commune.items():
        if insee not in communes:
            problems.extend(Problem(i, "unknown_commune", "commune_insee", insee) for i in indexes)
            continue
        shape, centre_lon, centre_lat = communes[insee]
        placed = []
        for i in indexes:
            if "_lon" in records[i]:
                placed.append(i)
            else:
                records[i]["_lon"], records[i]["_lat"] = centre_lon, centre_lat
                records[i]["location_approximate"] = True
        if not placed:
            continue
        inside = shapely.contains_xy(
            shape,
            np.array([records[i]["_lon"] for i in placed]),
            np.array([records[i]["_lat"] for i in placed]),
        )
        for i, within in zip(placed, inside, strict=True):
            records[i]["location_approximate"] = False
            records[i]["_in_commune"] = bool(within)
            if not within:
                outside.append(i)
    if outside:
        distances = session.execute(
            text(
                """
                SELECT b.i, ST_Distance(c.geom::geography,
                                        ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326)::geography)
                FROM unnest(CAST(:i AS int[]), CAST(:insee AS text[]),
                            CAST(:lon AS float8[]), CAST(:lat AS float8[])) AS b(i, insee, lon, lat)
                JOIN public.communes c ON c.insee = b.insee
                """
            ),
            {
                "i": outside,
                "insee": [records[i]["commune_insee"] for i in outside],
                "lon": [records[i]["_lon"] for i in outside],
                "lat": [records[i]["_lat"] for i in outside],
            },
        ).all()
        for i, distance in distances:
            record = records[i]
            if distance > COMMUNE_TOLERANCE_M:
                problems.append(
                    Problem(
                        i,
                        "far_from_commune",
                        "latitude",
                        f"{record['_lat']:.5f}, {record['_lon']:.5f}",
                        {"km": round(distance / 1000, 1), "insee": record["commune_insee"]},
                    )
                )
    return sorted(problems, key=lambda p: p.index)


def _check_perimeter(session, records: list[dict], skip: set[int]) -> list[Problem]:
    """Whether each located record lies in the current territory (plus the margin).

    A point inside its own commune, one of the territory's, needs no query; the others are
    measured against the territory's communes by the database, the index narrowing them first.
    A refusal says how far and where: the distance to the territory and its nearest commune.
    """
    communes = set(territory_communes(require_tenant()))
    margin = current_app.config["PERIMETER_MARGIN_M"]
    refused, measured = [], []
    for i, r in enumerate(records):
        if i in skip:
            continue
        if r["location_approximate"]:
            if r["commune_insee"] not in communes:
                refused.append(i)
        elif not (r["_in_commune"] and r["commune_insee"] in communes):
            measured.append(i)
    if measured:
        inside = set(
            session.execute(
                text(
                    """
                    SELECT b.i
                    FROM unnest(CAST(:i AS int[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]))
                         AS b(i, lon, lat)
                    WHERE EXISTS (
                        SELECT 1 FROM public.communes c
                        WHERE c.insee = ANY(:codes)
                          AND c.geom && ST_Expand(ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326),
                                                  :degrees)
                          AND ST_DWithin(c.geom::geography,
                                         ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326)::geography,
                                         :margin))
                    """
                ),
                {
                    "i": measured,
                    "lon": [records[i]["_lon"] for i in measured],
                    "lat": [records[i]["_lat"] for i in measured],
                    "codes": sorted(communes),
                    # A degree of longitude is over 40 km up to 64° N: a generous box.
                    "degrees": margin / 40_000 + 0.001,
                    "margin": margin,
                },
            ).scalars()
        )
        refused += [i for i in measured if i not in inside]
    if not refused:
        return []
    nearest = _nearest_communes(session, records, sorted(refused), sorted(communes))
    problems = []
    for i in sorted(refused):
        r = records[i]
        km, insee, name, own = nearest.get(i, (None, None, None, None))
        params = {"km": km, "nearest": name or insee or "—", "nearest_insee": insee}
        if r["location_approximate"]:
            params["name"] = own or r["commune_insee"]
            problems.append(
                Problem(i, "commune_outside_territory", "commune_insee", r["commune_insee"], params)
            )
        else:
            params["margin_km"] = round(margin / 1000, 1)
            problems.append(
                Problem(
                    i, "outside_territory", "latitude", f"{r['_lat']:.5f}, {r['_lon']:.5f}", params
                )
            )
    return problems


def _nearest_communes(session, records, indexes, codes) -> dict[int, tuple]:
    """Per refused record: (km to the territory, its nearest commune's code and name, the name
    of the record's own commune when it sits at its centre). Measured from the point, or from
    the whole commune for a listing at its commune's centre; only the few communes nearest on
    the map are measured on the sphere (refusals are rare)."""
    if not codes:
        return {}
    rows = session.execute(
        text(
            """
            WITH b AS (
                SELECT b.i, own.name AS own_name,
                       COALESCE(own.geom, ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326)) AS g
                FROM unnest(CAST(:i AS int[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]),
                            CAST(:whole AS text[])) AS b(i, lon, lat, whole)
                LEFT JOIN public.communes own ON own.insee = b.whole
            )
            SELECT DISTINCT ON (b.i) b.i, ST_Distance(near.geom::geography, b.g::geography),
                   near.insee, near.name, b.own_name
            FROM b CROSS JOIN LATERAL (
                SELECT c.insee, c.name, c.geom FROM public.communes c
                WHERE c.insee = ANY(:codes) ORDER BY c.geom <-> b.g LIMIT 5
            ) AS near
            ORDER BY b.i, 2, near.insee
            """
        ),
        {
            "i": indexes,
            "lon": [records[i]["_lon"] for i in indexes],
            "lat": [records[i]["_lat"] for i in indexes],
            "whole": [
                records[i]["commune_insee"] if records[i]["location_approximate"] else None
                for i in indexes
            ],
            "codes": codes,
        },
    ).all()
    return {i: (round(distance / 1000, 1), *rest) for i, distance, *rest in rows}
