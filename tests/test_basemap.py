"""The base map's vector tiles: made from the reference data, valid MVT, cached, refused clearly."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from core.extensions import db
from ingest.reference import basemap
from ingest.reference.tiles import MIME

#: Saint-Flour (15187): a town of the Cantal with more than 5 000 inhabitants.
SAINT_FLOUR = (3.0930, 45.0340)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def url(z: int, x: int, y: int) -> str:
    return f"/fond-de-carte/{z}/{x}/{y}.mvt"


@pytest.fixture
def shapes(app, cantal, redis_conn):
    """The Cantal's boundaries and names in the base map; removed after the test."""
    with app.app_context():
        assert basemap.refresh_boundaries(["15"]) > 0
    yield
    with app.app_context():
        db.session.execute(text("DELETE FROM basemap_features"))
        db.session.commit()


def test_tile_holds_the_communes_names_and_boundaries(shapes, visitor):
    response = visitor("admin.vivrau.localhost").get(url(*tile_of(*SAINT_FLOUR, 12)))
    assert response.status_code == 200
    assert response.mimetype == MIME
    decoded = mapbox_vector_tile.decode(response.get_data())
    assert {"commune", "place"} <= set(decoded)
    assert "Saint-Flour" in names(decoded)
    assert {f["geometry"]["type"] for f in decoded["commune"]["features"]} <= {
        "LineString",
        "MultiLineString",
    }


def test_low_zoom_shows_the_departement_not_the_communes(shapes, visitor):
    decoded = mapbox_vector_tile.decode(
        visitor("admin.vivrau.localhost").get(url(*tile_of(*SAINT_FLOUR, 7))).get_data()
    )
    assert "departement" in decoded
    assert "commune" not in decoded  # boundaries from zoom 9 on (tiles stay small)
    assert "Saint-Flour" not in names(decoded)  # a 6 600-inhabitant town: from zoom 8 on


def test_departement_names_while_a_whole_departement_fits_the_screen(shapes, visitor):
    client = visitor("admin.vivrau.localhost")
    for z in range(basemap.AREA_ZOOMS[0], basemap.AREA_ZOOMS[1] + 1):
        decoded = mapbox_vector_tile.decode(client.get(url(*tile_of(*SAINT_FLOUR, z))).get_data())
        areas = decoded.get("area", {}).get("features", [])
        assert [f["properties"]["name"] for f in areas] == ["Cantal"], f"zoom {z}"
        assert areas[0]["geometry"]["type"] == "Point"
    closer = client.get(url(*tile_of(*SAINT_FLOUR, basemap.AREA_ZOOMS[1] + 1))).get_data()
    assert "area" not in mapbox_vector_tile.decode(closer)  # the communes' names say it there


def test_tiles_are_small_at_every_zoom_the_maps_use(shapes, visitor):
    client = visitor("admin.vivrau.localhost")
    for z in range(5, basemap.MAX_ZOOM + 1):
        size = len(client.get(url(*tile_of(*SAINT_FLOUR, z))).get_data())
        assert size <= 50_000, f"zoom {z}: {size} bytes"


def test_tile_is_cached_and_revalidated(shapes, visitor, redis_conn):
    client = visitor("admin.vivrau.localhost")
    path = url(*tile_of(*SAINT_FLOUR, 11))
    first = client.get(path)
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    etag = first.headers["ETag"]
    assert etag
    assert len(redis_conn.keys("basemap:tile:*")) == 1
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    # A rebuild moves to a new generation: the tile is made again, not read from before.
    app = client.client.application
    generation = basemap_generation(app)
    with app.app_context():
        basemap.refresh_boundaries(["15"])
    assert basemap_generation(app) != generation
    rebuilt = mapbox_vector_tile.decode(client.get(path).get_data())
    assert names(rebuilt) == names(mapbox_vector_tile.decode(first.get_data()))
    assert len(redis_conn.keys("basemap:tile:*")) == 2


def names(decoded: dict) -> set[str]:
    return {f["properties"]["name"] for f in decoded.get("place", {}).get("features", [])}


def basemap_generation(app) -> str:
    with app.app_context():
        return basemap.generation()


def test_empty_tile_outside_the_loaded_data(shapes, visitor):
    response = visitor("admin.vivrau.localhost").get(url(*tile_of(-60.0, -40.0, 9)))
    assert response.status_code == 200
    assert response.get_data() == b""  # an empty vector tile: nothing is drawn


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/fond-de-carte/a/1/1.mvt", 400, "Adresse de tuile invalide"),
        ("/fond-de-carte/3/1/-1.mvt", 400, "Adresse de tuile invalide"),
        ("/fond-de-carte/17/1/1.mvt", 404, "du zoom 0 à 16"),
        ("/fond-de-carte/3/8/0.mvt", 404, "de 0 à 7"),
        ("/fond-de-carte/0/0/1.mvt", 404, "de 0 à 0"),
    ],
)
def test_bad_tile_addresses_are_refused_clearly(app, visitor, path, status, says):
    response = visitor("admin.vivrau.localhost").get(path)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert says in response.get_data(as_text=True)


def test_tiles_are_served_on_a_territory_host(shapes, make_tenant, visitor):
    ref = make_tenant()
    response = visitor(ref).get(url(*tile_of(*SAINT_FLOUR, 10)))
    assert response.status_code == 200
    assert "place" in mapbox_vector_tile.decode(response.get_data())


def write_extract(path) -> None:
    """Near Saint-Flour: a pharmacy, a main road, a river, a lake and a built-up area."""
    import osmium
    from osmium.osm.mutable import Node, Way

    lon, lat = SAINT_FLOUR
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(Node(id=1, location=(lon, lat), tags={"amenity": "pharmacy"}))
        ring = [(lon - 0.01, lat - 0.01), (lon + 0.01, lat - 0.01), (lon + 0.01, lat + 0.01)]
        for i, location in enumerate(ring, start=10):
            writer.add_node(Node(id=i, location=location))
        writer.add_node(Node(id=13, location=(lon - 0.01, lat + 0.01)))
        writer.add_node(Node(id=20, location=(lon - 0.02, lat)))
        writer.add_node(Node(id=21, location=(lon + 0.02, lat)))
        writer.add_way(Way(id=100, nodes=[20, 21], tags={"highway": "primary", "ref": "D 921"}))
        writer.add_way(Way(id=101, nodes=[11, 12, 13], tags={"waterway": "river", "name": "Ander"}))
        writer.add_way(Way(id=102, nodes=[10, 11, 12, 13, 10], tags={"natural": "water"}))
        writer.add_way(Way(id=103, nodes=[10, 12, 13, 10], tags={"landuse": "residential"}))
        writer.add_way(Way(id=104, nodes=[12, 13], tags={"highway": "footway"}))  # not drawn


@pytest.fixture
def osm_shapes(app, tmp_path, redis_conn):
    from ingest.reference.loaders.osm import load_osm

    path = tmp_path / "extrait.osm.pbf"
    write_extract(path)
    with app.app_context():
        report = load_osm(path)
    assert report.counts["base map shapes"] == 4
    yield
    with app.app_context():
        db.session.execute(text("DELETE FROM basemap_features WHERE source = 'osm'"))
        db.session.execute(text("DELETE FROM pois WHERE source = 'osm'"))
        db.session.commit()


def test_osm_roads_water_and_built_up_areas_are_drawn(osm_shapes, visitor):
    decoded = mapbox_vector_tile.decode(
        visitor("admin.vivrau.localhost").get(url(*tile_of(*SAINT_FLOUR, 12))).get_data()
    )
    assert set(decoded) == {"road", "waterway", "water", "built"}
    assert [f["properties"]["kind"] for f in decoded["road"]["features"]] == ["primary"]
    assert decoded["waterway"]["features"][0]["properties"]["name"] == "Ander"
    assert decoded["water"]["features"][0]["geometry"]["type"] == "Polygon"
    assert decoded["built"]["features"][0]["properties"]["kind"] == "residential"
    # At zoom 8 only the main road is drawn; the river comes at 9, areas at 10.
    low = mapbox_vector_tile.decode(
        visitor("admin.vivrau.localhost").get(url(*tile_of(*SAINT_FLOUR, 8))).get_data()
    )
    assert set(low) == {"road"}


def test_the_scale_is_metric_only(shapes, make_tenant, visitor):
    """A French page's map measured in feet (Leaflet's default scale), seen on the demo."""
    page = visitor(make_tenant(name="Murat")).get("/recherche").get_data(as_text=True)
    assert "L.control.scale({imperial: false})" in page
    assert "L.control.scale()" not in page
