"""An OpenStreetMap extract's roads, water and built-up areas, for the base map."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path

from ingest.reference.loaders.files import LoadError

#: Roads by class: the first zoom each is drawn at (smaller roads are left out).
ROAD_ZOOMS = {
    "motorway": 6,
    "trunk": 6,
    "primary": 8,
    "secondary": 9,
    "tertiary": 11,
    "motorway_link": 11,
    "trunk_link": 12,
    "primary_link": 12,
    "unclassified": 13,
    "residential": 13,
    "living_street": 14,
    "pedestrian": 14,
}
#: Watercourses (lines) by kind.
WATERWAY_ZOOMS = {"river": 9, "canal": 10, "stream": 13}
#: Areas (closed ways): (key, value) → (layer, first zoom).
AREAS = {
    ("natural", "water"): ("water", 10),
    ("landuse", "reservoir"): ("water", 10),
    ("landuse", "basin"): ("water", 12),
    ("waterway", "riverbank"): ("water", 11),
    ("landuse", "residential"): ("built", 10),
    ("landuse", "commercial"): ("built", 11),
    ("landuse", "retail"): ("built", 11),
    ("landuse", "industrial"): ("built", 11),
}
SHAPE_KEYS = ("highway", "waterway", "natural", "landuse")


def objects(processor, path: Path) -> Iterator:
    """The processor's objects; a damaged file is a LoadError (the load rolls back)."""
    iterator = iter(processor)
    while True:
        try:
            obj = next(iterator)
        except StopIteration:
            return
        except RuntimeError as exc:
            raise LoadError(f"cannot read {path.name} as an OSM file: {exc}") from exc
        yield obj


def classify(tags) -> tuple[str, str, int, bool] | None:
    """(layer, kind, first zoom, is an area) of a way with these tags, None when not drawn."""
    for (key, value), (layer, zoom) in AREAS.items():
        if tags.get(key) == value:
            return layer, value, zoom, True
    road = tags.get("highway")
    if road in ROAD_ZOOMS and tags.get("area") != "yes":
        return "road", road, ROAD_ZOOMS[road], False
    waterway = tags.get("waterway")
    if waterway in WATERWAY_ZOOMS:
        return "waterway", waterway, WATERWAY_ZOOMS[waterway], False
    return None


def _locations(path: Path):
    """The locations of the nodes of the ways drawn (two passes; memory for those only)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded
    import osmium  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded

    refs = array("q")
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter(*SHAPE_KEYS)
    )
    for way in objects(ways, path):
        if classify(way.tags) is not None:
            refs.extend(node.ref for node in way.nodes)
    store = osmium.index.create_map("sparse_mem_array")
    if len(refs):
        needed = np.unique(np.frombuffer(refs, dtype=np.int64))
        del refs
        nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(map(int, needed))
        )
        for node in objects(nodes, path):
            store.set(node.id, node.location)
    return store


def shape_rows(paths: list[Path]) -> Iterator[tuple]:
    """(layer, kind, name, first zoom, EWKT) of every drawn way of the extracts; a way with a
    node missing, or an area not closed, is left out (the base map is a picture, not data)."""
    import osmium  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded

    seen: set[int] = set()
    for path in paths:
        store = _locations(path)
        ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter(*SHAPE_KEYS)
        )
        for way in objects(ways, path):
            what = classify(way.tags)
            if what is None or way.id in seen:
                continue
            seen.add(way.id)
            layer, kind, zoom, area = what
            points = []
            for node in way.nodes:
                try:
                    location = store.get(node.ref)
                except KeyError:
                    break
                if not location.valid():
                    break
                points.append(f"{location.lon:.7f} {location.lat:.7f}")
            else:
                wkt = _wkt(points, area)
                if wkt:
                    name = way.tags.get("name") or None
                    yield layer, kind, name[:200] if name else None, zoom, f"SRID=4326;{wkt}"
        del store


def _wkt(points: list[str], area: bool) -> str | None:
    if area:
        if len(points) < 4 or points[0] != points[-1]:
            return None
        return f"POLYGON(({', '.join(points)}))"
    if len(points) < 2:
        return None
    return f"LINESTRING({', '.join(points)})"
