"""GeoAlchemy2's spatial column types, loaded without its Shapely helpers.

GeoAlchemy2 imports Shapely, and numpy with it (about a tenth of every `flask` command's start),
for `geoalchemy2.shape` alone (`to_shape`, `from_shape`), which this project never calls:
geometries come from PostGIS as EWKB and are read with `shapely.wkb` where they are worked on.
Shapely is hidden while GeoAlchemy2 loads, which then leaves those two helpers unavailable (they
raise ImportError); every model imports its column types from here."""

import sys


def _load_without_shapely():
    hidden = "shapely" not in sys.modules
    if hidden:
        sys.modules["shapely"] = None  # `import shapely` fails: GeoAlchemy2 does without
    try:
        import geoalchemy2  # noqa: PLC0415 - only while Shapely is hidden

        return geoalchemy2
    finally:
        if hidden:
            del sys.modules["shapely"]


geoalchemy2 = _load_without_shapely()
Geometry = geoalchemy2.Geometry
Geography = geoalchemy2.Geography
