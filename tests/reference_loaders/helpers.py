"""Helpers of the reference loaders' tests: files to load, expected cells, loaded rows."""

from __future__ import annotations

import csv
import gzip
import io
import math

from pyproj import Transformer
from sqlalchemy import text

from core.extensions import db


def write_csv(path, header, rows, delimiter=";", encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def project(lon, lat, epsg):
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


def expected_cell(x, y, source, grid):
    """The 1 km cell of a point, computed here with pyproj alone."""
    if source != grid:
        x, y = Transformer.from_crs(source, grid, always_xy=True).transform(x, y)
    return f"CRS{grid}RES1000mN{math.floor(y / 1000) * 1000}E{math.floor(x / 1000) * 1000}"


def pois(source):
    return [
        dict(row._mapping)
        for row in db.session.execute(
            text(
                "SELECT source_id, type_code, name, cell_id, commune_insee, attributes, "
                "ST_X(geom) AS lon, ST_Y(geom) AS lat, ST_SRID(geom) AS srid "
                "FROM pois WHERE source = :s ORDER BY source_id"
            ),
            {"s": source},
        )
    ]
