"""The base map's vector tiles (Mapbox Vector Tile), made by PostGIS and kept in Redis."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from sqlalchemy import text

from core.extensions import db, with_redis
from core.web import skip_resolution
from ingest.reference.basemap import MAX_ZOOM, NAME_LAYERS, generation

bp = Blueprint("basemap", __name__)

MIME = "application/vnd.mapbox-vector-tile"
#: Half the Web Mercator world's width, in metres.
HALF_WORLD = 20037508.342789244
#: Tile coordinates run over 4096 units; lines reach this far past the edge (no seams)…
EXTENT, BUFFER = 4096, 64
#: …and names this far, so that a name across two tiles is drawn whole by both.
LABEL_BUFFER = 1024
#: A browser keeps a tile this long before it asks again (then the ETag answers 304).
MAX_AGE = 86_400
#: Tiles made once stay in Redis this long; a new generation (data reloaded) leaves them.
CACHE_SECONDS = 7 * 86_400

_NAMES = "(" + ", ".join(f"'{name}'" for name in NAME_LAYERS) + ")"
_LAYER = """
SELECT f.layer, f.kind, f.name, f.rank,
       ST_AsMVTGeom(f.geom, ST_TileEnvelope(:z, :x, :y), {extent}, {buffer}, true) AS geom
FROM basemap_features f
WHERE f.minzoom <= :z AND f.maxzoom >= :z AND f.layer {test} {names}
  AND f.geom && ST_Expand(ST_TileEnvelope(:z, :x, :y), :margin{which})
"""
TILE_SQL = text(
    "SELECT t.layer, ST_AsMVT(t, t.layer, :extent, 'geom') FROM ("  # noqa: S608 - constants
    + _LAYER.format(extent=EXTENT, buffer=BUFFER, test="NOT IN", names=_NAMES, which="")
    + " UNION ALL "
    + _LAYER.format(extent=EXTENT, buffer=LABEL_BUFFER, test="IN", names=_NAMES, which="_labels")
    + ") t WHERE t.geom IS NOT NULL GROUP BY t.layer ORDER BY t.layer"
)


class TileError(ValueError):
    """Tile coordinates that name no tile: the status to answer and the sentence why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def parse(z: str, x: str, y: str) -> tuple[int, int, int]:
    """The tile's zoom, column and row, or TileError saying which one is wrong."""
    if not all(part.isascii() and part.isdigit() and len(part) <= 9 for part in (z, x, y)):
        raise TileError(
            400, _("Invalid tile address %(path)s: zoom, column and row are whole numbers.",
                   path=f"{z}/{x}/{y}"[:60])
        )  # fmt: skip
    zoom, column, row = int(z), int(x), int(y)
    if not 0 <= zoom <= MAX_ZOOM:
        raise TileError(
            404, _("No base map tile at zoom %(z)s: tiles exist from zoom 0 to %(max)s.",
                   z=zoom, max=MAX_ZOOM)
        )  # fmt: skip
    side = 1 << zoom
    if not (0 <= column < side and 0 <= row < side):
        raise TileError(
            404, _("No base map tile %(path)s: at zoom %(z)s, column and row run from 0 to "
                   "%(last)s.", path=f"{zoom}/{column}/{row}", z=zoom, last=side - 1)
        )  # fmt: skip
    return zoom, column, row


def make_tile(z: int, x: int, y: int) -> bytes:
    """The tile's bytes from the database: one MVT layer per layer that has shapes there."""
    size = 2 * HALF_WORLD / (1 << z)
    rows = db.session.execute(
        TILE_SQL,
        {
            "z": z,
            "x": x,
            "y": y,
            "extent": EXTENT,
            "margin": size * BUFFER / EXTENT,
            "margin_labels": size * LABEL_BUFFER / EXTENT,
        },
    ).all()
    return b"".join(bytes(body) for _layer, body in rows)


def tile(z: int, x: int, y: int) -> bytes:
    """The tile's bytes, from Redis when made before for this generation, else made now and
    kept there (without Redis, made each time)."""
    key = f"basemap:tile:{generation()}:{z}/{x}/{y}"
    cached = with_redis("basemap tile", lambda r: r.get(key), None)
    if cached is not None:
        return cached
    body = make_tile(z, x, y)
    with_redis("basemap tile", lambda r: r.set(key, body, ex=CACHE_SECONDS), None)
    return body


@bp.get("/fond-de-carte/<z>/<x>/<y>.mvt")
@skip_resolution
def tile_view(z: str, x: str, y: str):
    """One tile, on any host: national data that every territory's maps share."""
    try:
        zoom, column, row = parse(z, x, y)
    except TileError as error:
        return Response(str(error), error.status, mimetype="text/plain")
    body = tile(zoom, column, row)
    response = Response(body, mimetype=MIME)
    response.set_etag(hashlib.blake2b(body, digest_size=10).hexdigest())
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.make_conditional(request)
    return response
