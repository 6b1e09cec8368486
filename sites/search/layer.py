"""The search map's static parts: the cell geometry layer, the perimeter, the cells' communes.

The layer lists the territory's cells in the matrix's order (`matrix.cell_order`), so that a
compact search result — one status character per cell — colours it without naming any cell.
Each cell is its south-west corner and its two edge vectors in lon/lat (reprojected here from
the grid's CRS), as integers of 1e-5 degree, the corner delta-coded from the previous cell: a
département's 6 000 cells weigh a few tens of KB once gzipped.
"""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from core import grid
from core.extensions import db
from core.maps import MapParts, local_map, map_parts
from core.tenancy import TenantRef
from ingest.reference.communes import names_of
from ingest.reference.models import Commune
from ingest.reference.territory import territory_communes
from sites.search.matrix import cell_order, matrix_of

#: Coordinates are sent as integers of 1/SCALE degree (1e-5°: about a metre).
SCALE = 100_000
#: The perimeter is drawn simplified (about 50 m): a line on a map, not a survey.
SIMPLIFY_DEGREES = 0.0005
PERIMETER_STYLE = {"color": "#1b1b1b", "weight": 2, "fill": False, "dashArray": "6 4"}

_lock = threading.Lock()
#: (slug, version) → built value; a new version (the cells changed) replaces the old entry.
_layers: dict[str, tuple[str, bytes]] = {}
_outlines: dict[str, tuple[str, dict | None]] = {}
_names: dict[str, tuple[str, dict[str, str]]] = {}


def encode(version: str, ids: list[str]) -> bytes:
    """The layer's JSON for these cells, in this order."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a layer is built

    parsed = [grid.parse(c) for c in ids]
    epsgs = sorted({p[0] for p in parsed})
    values = np.zeros((len(ids), 8), dtype="int64")
    if parsed:
        arr = np.array(parsed, dtype="int64")
        for epsg in epsgs:
            rows = np.flatnonzero(arr[:, 0] == epsg)
            n = arr[rows, 1].astype("float64")
            e = arr[rows, 2].astype("float64")
            # SW, SE and NW corners of each square, in lon/lat.
            xs = np.concatenate([e, e + grid.SIZE, e])
            ys = np.concatenate([n, n, n + grid.SIZE])
            lon, lat = grid.project(xs, ys, epsg, 4326)
            lon = np.rint(np.asarray(lon) * SCALE).astype("int64").reshape(3, -1)
            lat = np.rint(np.asarray(lat) * SCALE).astype("int64").reshape(3, -1)
            values[rows, 0] = arr[rows, 1] // grid.SIZE
            values[rows, 1] = arr[rows, 2] // grid.SIZE
            values[rows, 2], values[rows, 3] = lon[0], lat[0]
            values[rows, 4], values[rows, 5] = lon[1] - lon[0], lat[1] - lat[0]
            values[rows, 6], values[rows, 7] = lon[2] - lon[0], lat[2] - lat[0]
        # Delta-code the corner and the cell's km indices from the previous cell.
        values[1:, :4] = values[1:, :4] - values[:-1, :4]
    body = {
        "version": version,
        "scale": SCALE,
        "grid": epsgs[0] if len(epsgs) == 1 else None,
        "count": len(ids),
        "fields": ["dn_km", "de_km", "dlon", "dlat", "ex_lon", "ex_lat", "ny_lon", "ny_lat"],
        "cells": values.ravel().tolist(),
    }
    if len(epsgs) > 1:  # a territory across grids (never in practice): each cell says its own
        body["grids"] = [p[0] for p in parsed]
    return json.dumps(body, separators=(",", ":")).encode()


def cell_layer(tenant: TenantRef) -> tuple[str, bytes]:
    """(version, JSON bytes) of the territory's layer, built once per process and version."""
    version, ids = cell_order(tenant)
    cached = _layers.get(tenant.slug)
    if cached is not None and cached[0] == version:
        return cached
    body = encode(version, ids)
    with _lock:
        _layers[tenant.slug] = (version, body)
    return version, body


def cell_commune_names(tenant: TenantRef) -> dict[str, str]:
    """cell id → the name of its main commune, for the table."""
    m = matrix_of(tenant)
    cached = _names.get(tenant.slug)
    if cached is not None and cached[0] == m.version:
        return cached[1]
    names = names_of(m.communes)
    mapping = {
        cell: names.get(code, code or "")
        for cell, code in zip(m.ids.tolist(), m.communes, strict=True)
    }
    with _lock:
        _names[tenant.slug] = (m.version, mapping)
    return mapping


def perimeter(tenant: TenantRef) -> dict | None:
    """The union of the territory's communes as a simplified GeoJSON feature (cached)."""
    m = matrix_of(tenant)
    cached = _outlines.get(tenant.slug)
    if cached is not None and cached[0] == m.version:
        return cached[1]
    codes = territory_communes(tenant) or sorted({c for c in m.communes if c})
    feature = None
    if codes:
        geometry = db.session.execute(
            select(
                func.ST_AsGeoJSON(
                    func.ST_SimplifyPreserveTopology(func.ST_Union(Commune.geom), SIMPLIFY_DEGREES),
                    5,
                )
            ).where(Commune.insee.in_(codes))
        ).scalar()
        if geometry is not None:
            feature = {"type": "Feature", "properties": {}, "geometry": json.loads(geometry)}
    with _lock:
        _outlines[tenant.slug] = (m.version, feature)
    return feature


def page_map(tenant: TenantRef) -> MapParts:
    """The folium map of the page: the perimeter, fitted; cells come from the layer."""
    import folium  # noqa: PLC0415 - heavy: imported when the search page draws its map

    # Quarter zoom steps: fitted to a communauté, whole steps left it a small patch of a
    # département-wide view.
    fmap = local_map(
        location=[46.6, 2.4], zoom_start=6, zoom_snap=0.25, prefer_canvas=True, control_scale=True
    )
    outline = perimeter(tenant)
    if outline is not None:
        shape = folium.GeoJson(
            outline,
            name="perimeter",
            style_function=lambda _feature: PERIMETER_STYLE,
            control=False,
            interactive=False,
        )
        shape.add_to(fmap)
        fmap.fit_bounds(shape.get_bounds())
    return map_parts(fmap)


def clear_cache() -> None:
    with _lock:
        _layers.clear()
        _outlines.clear()
        _names.clear()
