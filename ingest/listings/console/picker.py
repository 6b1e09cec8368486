"""The listing form's location picker: a folium map of the commune, with local assets."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core.extensions import db
from core.maps import MapParts, local_map, map_parts
from ingest.reference.models import Commune

#: Outlines are drawn simplified (about 10 m): plenty to place a point, a fraction of the bytes.
SIMPLIFY_DEGREES = 0.0001
OUTLINE = {"color": "#000091", "weight": 2, "fillOpacity": 0.05}


def _outline(codes: list[str]) -> dict | None:
    if not codes:
        return None
    geometry = db.session.execute(
        select(
            func.ST_AsGeoJSON(
                func.ST_SimplifyPreserveTopology(func.ST_Union(Commune.geom), SIMPLIFY_DEGREES), 6
            )
        ).where(Commune.insee.in_(codes))
    ).scalar()
    if geometry is None:
        return None
    return {"type": "Feature", "properties": {}, "geometry": json.loads(geometry)}


def picker(
    point: tuple[float, float] | None, commune: str | None, territory: list[str]
) -> MapParts | None:
    """A map of the listing's commune (else the territory) with its point, if any, as a marker.

    No tile layer: nothing is fetched from outside, and the outline alone is enough to place a
    point roughly; the latitude/longitude inputs stay the way to give it precisely.
    """
    outline = _outline([commune] if commune else territory)
    if outline is None and point is None:
        return None
    import folium  # noqa: PLC0415 - heavy: imported when a form draws its map

    fmap = local_map(location=[point[1], point[0]] if point else [46.6, 2.4], zoom_start=14)
    if outline is not None:
        layer = folium.GeoJson(outline, style_function=lambda _feature: OUTLINE, control=False)
        layer.add_to(fmap)
        if point is None:
            fmap.fit_bounds(layer.get_bounds())
    if point is not None:
        folium.Marker([point[1], point[0]], draggable=True).add_to(fmap)
    return map_parts(fmap)
