"""The OpenStreetMap loader, on a small .osm.pbf extract written here."""

from __future__ import annotations

import osmium
import pytest
from osmium.osm.mutable import Node, Way

from ingest.reference.loaders.files import LoadError
from ingest.reference.loaders.osm import load_osm
from tests.reference_loaders.helpers import expected_cell, pois


def write_pbf(path):
    square = [(2.0, 48.0), (2.01, 48.0), (2.01, 48.01), (2.0, 48.01)]
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(
            Node(
                id=1,
                location=(2.3488, 48.8534),
                tags={
                    "amenity": "pharmacy",
                    "name": "Pharmacie de l'Église",
                    "opening_hours": "Mo-Sa 09:00-19:00",
                    "source": "survey",
                },
            )
        )
        writer.add_node(Node(id=2, location=(2.4446, 44.9264), tags={"shop": "bakery"}))
        writer.add_node(
            Node(id=3, location=(2.35, 48.86), tags={"shop": "bakery", "amenity": "cafe"})
        )
        writer.add_node(Node(id=4, location=(2.36, 48.87), tags={"highway": "bus_stop"}))
        writer.add_node(Node(id=6, location=(55.4481, -20.8789), tags={"healthcare": "doctor"}))
        writer.add_node(Node(id=7, location=(139.7, 35.68), tags={"tourism": "hotel"}))
        writer.add_node(
            Node(
                id=8,
                location=(2.1, 48.1),
                tags={"leisure": "swimming_pool", "access": "private"},
            )
        )
        for i, location in enumerate(square, start=10):
            writer.add_node(Node(id=i, location=location))
        writer.add_way(
            Way(id=100, nodes=[10, 11, 12, 13, 10], tags={"leisure": "park", "name": "Jardin"})
        )
        writer.add_way(Way(id=101, nodes=[10, 999], tags={"tourism": "attraction"}))
        writer.add_way(Way(id=102, nodes=[11, 12], tags={"highway": "residential"}))


def test_osm_pbf_nodes_and_ways(session, tmp_path):
    path = tmp_path / "extrait.osm.pbf"
    write_pbf(path)

    calls = []
    report = load_osm(path, calls.append)

    assert calls == [8]
    assert (report.source, report.read, report.loaded, report.skipped) == ("osm", 8, 5, 2)
    assert report.counts == {"private": 1, "base map shapes": 1}  # way 102, a street
    assert report.problems == [
        (0, "way 101: a node location is missing"),
        (0, "node 7: (139.70000, 35.68000) is outside France"),
    ]
    assert report.by_type == {
        "osm:amenity=pharmacy": 1,
        "osm:shop=bakery": 1,
        "osm:amenity=cafe": 1,
        "osm:healthcare=doctor": 1,
        "osm:leisure=park": 1,
    }
    rows = {r["source_id"]: r for r in pois("osm")}
    assert sorted(rows) == ["n1", "n2", "n3", "n6", "w100"]
    pharmacy = rows["n1"]
    assert pharmacy["type_code"] == "osm:amenity=pharmacy"
    assert pharmacy["name"] == "Pharmacie de l'Église"
    assert pharmacy["attributes"] == {
        "amenity": "pharmacy",
        "name": "Pharmacie de l'Église",
        "opening_hours": "Mo-Sa 09:00-19:00",
    }
    assert pharmacy["commune_insee"] is None
    assert (pharmacy["lon"], pharmacy["lat"]) == (pytest.approx(2.3488), pytest.approx(48.8534))
    assert pharmacy["cell_id"] == expected_cell(2.3488, 48.8534, 4326, 3035)
    assert rows["n2"]["type_code"] == "osm:shop=bakery"
    assert rows["n2"]["name"] is None
    assert rows["n3"]["type_code"] == "osm:amenity=cafe"
    assert rows["n3"]["attributes"] == {"amenity": "cafe", "shop": "bakery"}
    assert rows["n6"]["cell_id"] == expected_cell(55.4481, -20.8789, 4326, 2975)
    park = rows["w100"]
    assert park["type_code"] == "osm:leisure=park"
    assert park["name"] == "Jardin"
    assert park["lon"] == pytest.approx(2.005, abs=1e-7)
    assert park["lat"] == pytest.approx(48.005, abs=1e-7)
    assert park["cell_id"] == expected_cell(2.005, 48.005, 4326, 3035)

    again = load_osm(path)
    assert again.loaded == 5
    assert {r["source_id"]: r for r in pois("osm")} == rows


def test_osm_refuses_a_file_that_is_not_osm(session, tmp_path):
    path = tmp_path / "faux.osm.pbf"
    path.write_bytes(b"not a protobuf file at all")

    with pytest.raises(LoadError, match=r"^cannot read faux\.osm\.pbf as an OSM file"):
        load_osm(path)
