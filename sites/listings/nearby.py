"""What is around a point: the nearest national amenities per criterion, the listings nearby."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, case, cast, func, or_, select, text

from core import grid
from core.extensions import db
from core.spatial import Geography
from ingest.listings.models import Listing
from ingest.reference.criteria import CRITERIA, Criterion

#: An amenity farther than this is reported as "none within" rather than searched for further:
#: the search stays on the spatial index, and beyond it the answer changes nothing for a mover.
AMENITY_MAX_KM = 100
#: Candidates taken per criterion in planar (degree) order before measuring on the ellipsoid:
#: at French latitudes the degree order can swap near-equal neighbours, never ten of them.
_CANDIDATES = 10
_KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class Amenity:
    """The nearest point of a criterion's types (None: none within AMENITY_MAX_KM)."""

    criterion: Criterion
    distance_km: float | None
    name: str | None
    type_code: str | None


def nearest_criteria() -> list[Criterion]:
    return [c for c in CRITERIA if c.method == "nearest"]


def split_types(criterion: Criterion) -> tuple[list[str], list[str]]:
    """Exact type codes and two-letter BPE families, as `criteria.matches` reads them."""
    exact = [t for t in criterion.types if len(t) != 2]
    families = [t for t in criterion.types if len(t) == 2]
    return exact, families


def degrees_for(km: float, lat: float) -> float:
    """A bounding half-width in degrees that holds every point within `km` of latitude `lat`."""
    return km / (_KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.05)) * 1.05


def nearest_amenities(
    lon: float, lat: float, criteria: list[Criterion] | None = None
) -> dict[str, Amenity]:
    """Criterion id → its nearest amenity from the point, for every `nearest` criterion, in one
    query: a KNN (`<->`) sub-select per criterion over `public.pois`, distances on the spheroid."""
    criteria = nearest_criteria() if criteria is None else criteria
    if not criteria:
        return {}
    parts, params = [], {"lon": lon, "lat": lat, "box": degrees_for(AMENITY_MAX_KM, lat)}
    for i, criterion in enumerate(criteria):
        exact, families = split_types(criterion)
        params |= {f"id{i}": criterion.id, f"exact{i}": exact, f"fam{i}": families}
        parts.append(
            f"""(SELECT CAST(:id{i} AS text) AS criterion, name, type_code,
                    ST_Distance(geom::geography, pt.g::geography) AS metres
               FROM pois, pt
               WHERE geom && ST_Expand(pt.g, :box)
                 AND (type_code = ANY(CAST(:exact{i} AS text[]))
                      OR left(type_code, 2) = ANY(CAST(:fam{i} AS text[])))
               ORDER BY geom <-> pt.g LIMIT {_CANDIDATES})"""  # noqa: S608 - bind names only
        )
    sql = f"""
        WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
        SELECT DISTINCT ON (criterion) criterion, name, type_code, metres
        FROM ({" UNION ALL ".join(parts)}) AS candidates
        ORDER BY criterion, metres"""  # noqa: S608 - sub-selects built above, values bound
    found = {row.criterion: row for row in db.session.execute(text(sql), params)}
    out = {}
    for criterion in criteria:
        row = found.get(criterion.id)
        if row is None or row.metres / 1000 > AMENITY_MAX_KM:
            out[criterion.id] = Amenity(criterion, None, None, None)
        else:
            out[criterion.id] = Amenity(criterion, row.metres / 1000, row.name, row.type_code)
    return out


def listing_point(listing: Listing) -> tuple[float, float] | None:
    """(lon, lat) of a stored listing, or None when it has no point."""
    row = db.session.execute(
        select(func.ST_X(Listing.geom), func.ST_Y(Listing.geom)).where(
            Listing.id == listing.id, Listing.geom.is_not(None)
        )
    ).first()
    return (row[0], row[1]) if row else None


def cell_centre(cell_id: str) -> tuple[float, float]:
    """(lon, lat) of a cell's centre."""
    xs, ys = grid.centres([cell_id])
    return float(xs[0]), float(ys[0])


def _point(lon: float, lat: float):
    return func.ST_SetSRID(func.ST_MakePoint(bindparam("lon", lon), bindparam("lat", lat)), 4326)


def around(
    lon: float,
    lat: float,
    radius_km: float,
    where,
    *,
    first_cell: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[tuple[Listing, float | None, float | None, float | None]]]:
    """(total, [(listing, km, lon, lat)]) of the listings matching `where` within `radius_km` of
    the point (those of `first_cell` first, whatever their distance), nearest first."""
    point = _point(lon, lat)
    metres = func.ST_Distance(cast(Listing.geom, Geography), cast(point, Geography))
    near = [
        Listing.geom.is_not(None),
        Listing.geom.op("&&")(func.ST_Expand(point, degrees_for(radius_km, lat))),
        func.ST_DWithin(cast(Listing.geom, Geography), cast(point, Geography), radius_km * 1000),
    ]
    inside = Listing.cell_id == first_cell if first_cell else None
    condition = and_(where, or_(inside, and_(*near)) if inside is not None else and_(*near))
    total = db.session.execute(
        select(func.count()).select_from(Listing).where(condition)
    ).scalar_one()
    order = [metres, Listing.id]
    if inside is not None:
        order.insert(0, case((inside, 0), else_=1))
    query = (
        select(Listing, metres, func.ST_X(Listing.geom), func.ST_Y(Listing.geom))
        .where(condition)
        .order_by(*order)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        (listing, m / 1000 if m is not None else None, x, y)
        for listing, m, x, y in db.session.execute(query).all()
    ]
    return total, rows
