"""An OpenStreetMap extract (.osm.pbf) → `pois`, source "osm"."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import text

from ingest.reference.basemap import new_generation, store_shapes
from ingest.reference.bulk import Progress, copy_rows
from ingest.reference.loaders.dataset import finish, replacing
from ingest.reference.loaders.files import LoadError, LoadReport, PathArg, paths_of
from ingest.reference.loaders.osm_shapes import objects, shape_rows
from ingest.reference.loaders.places import cells_of, ewkt, locate
from ingest.reference.models import POI_COLUMNS

#: Keys that make a point of interest, in order of precedence for its type code.
OSM_KEYS = ("amenity", "shop", "tourism", "leisure", "healthcare")
#: Tags kept in `attributes`.
OSM_ATTRIBUTES = (
    *OSM_KEYS,
    "name",
    "opening_hours",
    "website",
    "contact:website",
    "phone",
    "contact:phone",
    "operator",
    "brand",
    "cuisine",
    "sport",
    "healthcare:speciality",
    "wheelchair",
    "addr:housenumber",
    "addr:street",
    "addr:postcode",
    "addr:city",
)
#: Objects not open to the public (e.g. private swimming pools) are left out.
OSM_PRIVATE_ACCESS = frozenset({"private", "no"})
_BATCH = 50_000


def load_osm(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load the points of interest of an OSM extract (.osm.pbf) into `pois`, source "osm".

    Kept: nodes and ways with any of OSM_KEYS (not tagged access=private/no: counted as
    "private"); relations are not read. A way's point is the mean of its node locations (a
    closed way's repeated first node counted once). type_code is "osm:<key>=<value>" for the
    first of OSM_KEYS present, source_id "n<id>" / "w<id>", attributes the OSM_ATTRIBUTES
    tags, commune_insee NULL. The cell is in an overseas grid when the point lies in that
    territory's box, else in the metropolitan one; points outside every box are refused.

    The file is read three times (the kept ways' node ids, those nodes' locations, then the
    points of interest), so memory holds the locations of those nodes only (16 bytes each),
    not of the whole extract's nodes as `with_locations()` would. Problems carry line 0 and
    name the object ("way 123: …").

    The extract's roads, watercourses, water and built-up areas replace the base map's OSM
    shapes in the same transaction (loaders.osm_shapes; counted as "base map shapes").
    """
    import osmium  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded

    paths = paths_of(path)
    for p in paths:
        try:
            reader = osmium.io.Reader(str(p), osmium.osm.NOTHING)
            try:
                reader.header()  # reads the file's first block
            finally:
                reader.close()
        except (RuntimeError, OSError) as exc:
            raise LoadError(f"cannot read {p.name} as an OSM file: {exc}") from exc
    report = LoadReport("osm")
    with replacing("osm") as session:
        session.execute(text("DELETE FROM pois WHERE source = 'osm'"))
        report.loaded = copy_rows("pois", POI_COLUMNS, _rows(paths, report, progress))
        finish(report, paths, "pois")
        report.count("base map shapes", store_shapes("osm", shape_rows(paths)))
    new_generation()
    return report


def _private(tags) -> bool:
    return tags.get("access", "") in OSM_PRIVATE_ACCESS


def _node_locations(path: Path):
    """The locations of the nodes of the ways to keep (passes 1 and 2)."""
    import osmium  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded

    refs = array("q")
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter(*OSM_KEYS)
    )
    for way in objects(ways, path):
        if not _private(way.tags):
            refs.extend(node.ref for node in way.nodes)
    store = osmium.index.create_map("sparse_mem_array")
    needed = np.unique(np.frombuffer(refs, dtype=np.int64)) if len(refs) else None
    del refs
    if needed is not None:
        nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(map(int, needed))
        )
        for node in objects(nodes, path):
            store.set(node.id, node.location)
    return store


def _rows(paths: list[Path], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    import osmium  # noqa: PLC0415 - heavy: imported when an OSM extract is loaded

    seen: set[str] | None = set() if len(paths) > 1 else None
    done = 0
    for p in paths:
        label = f"{p.name}: " if len(paths) > 1 else ""
        store = _node_locations(p)
        batch: list[tuple] = []
        tagged = osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter(*OSM_KEYS)
        )
        for obj in objects(tagged, p):
            report.read += 1
            tags = obj.tags
            if _private(tags):
                report.count("private")
                continue
            key = next(k for k in OSM_KEYS if k in tags)
            if obj.is_node():
                kind, source_id = "node", f"n{obj.id}"
                location = obj.location
                point = (location.lon, location.lat) if location.valid() else None
            else:
                kind, source_id = "way", f"w{obj.id}"
                point = _way_point(store, obj.nodes)
            if point is None:
                report.problem(0, f"{label}{kind} {obj.id}: a node location is missing")
                continue
            if seen is not None:
                if source_id in seen:
                    report.count("duplicates")
                    continue
                seen.add(source_id)
            attributes = {k: tags[k] for k in OSM_ATTRIBUTES if k in tags}
            name = tags.get("name") or None
            batch.append(
                (
                    source_id,
                    f"osm:{key}={tags[key]}"[:60],
                    name[:300] if name else None,
                    json.dumps(attributes, ensure_ascii=False),
                    point,
                    f"{label}{kind} {obj.id}",
                )
            )
            if len(batch) >= _BATCH:
                yield from _batch(batch, report)
                batch = []
                if progress:
                    progress(report.read - done)
                    done = report.read
        yield from _batch(batch, report)
        del store
    if progress and report.read > done:
        progress(report.read - done)


def _way_point(store, nodes) -> tuple[float, float] | None:
    refs = [node.ref for node in nodes]
    if len(refs) > 1 and refs[0] == refs[-1]:
        refs.pop()  # a closed way repeats its first node
    if not refs:
        return None
    lons, lats = [], []
    for ref in refs:
        try:
            location = store.get(ref)
        except KeyError:
            return None
        if not location.valid():
            return None
        lons.append(location.lon)
        lats.append(location.lat)
    return sum(lons) / len(lons), sum(lats) / len(lats)


def _batch(batch: list[tuple], report: LoadReport) -> Iterator[tuple]:
    lon = np.array([b[4][0] for b in batch], dtype="float64")
    lat = np.array([b[4][1] for b in batch], dtype="float64")
    territory = locate(lon, lat)
    rows = np.flatnonzero(territory >= 0)
    cells = cells_of(lon, lat, np.full(len(batch), 4326), territory, rows)
    for i, (source_id, type_code, name, attributes, point, what) in enumerate(batch):
        if cells[i] is None:
            report.problem(0, f"{what}: ({point[0]:.5f}, {point[1]:.5f}) is outside France")
            continue
        report.add_type(type_code)
        yield ("osm", source_id, type_code, name, ewkt(*point), cells[i], None, attributes)
