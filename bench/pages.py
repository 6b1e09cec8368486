"""Page-weight benchmark: first load of the search map of a département, and a search result.

A département-size territory (the Cantal: real communes, synthetic data, its ~6 000 cells) is
built in its own database. The app answers through its WSGI interface as a browser would ask:
`Accept-Encoding: gzip`, the page, every stylesheet and script it links, the cell layer. Each
body is counted as served (compressed). Budgets: first load ≤ 1.5 MB, compact result ≤ 20 KB;
baselines measured in the same run: the same bytes uncompressed, and the full-format result.

The base map's tiles over the Cantal (communes' boundaries and names, département outline; no
OSM extract is loaded here) at every zoom the maps use: the largest tile ≤ 50 KB, a tile made
cold (Redis holds none of this build) ≤ 100 ms and one served from Redis ≤ 5 ms, as the
application answers it (WSGI, no network).

Then the demo's communauté in Chromium (bench/pages_demo.py): the home and search pages' first
load ≤ 500 KB gzip without tiles, and on a 390 px phone with the CPU throttled 4× the first
contentful paint and the coloured map each ≤ 3 s.

    .venv/bin/python -m bench.pages
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from pathlib import Path

from application import create_app
from bench.common import prepare_cantal
from bench.harness import Bench, BenchError
from bench.pages_demo import measure_demo, prepare_demo
from core.extensions import db
from ingest.reference.basemap import new_generation

SLUG = "bench_pages"
HOST = "bench-pages.vivrau.localhost"
PAGE_BUDGET_KB = 1500
RESULT_BUDGET_KB = 20
TILE_BUDGET_KB, COLD_TILE_MS, CACHED_TILE_MS = 50, 100, 5
#: The zooms the maps show: the search map fitted to a territory (7-11), a listing's and the
#: editor's maps (12-16). The Cantal's box; tiles at most a 4×4 block per zoom around its towns.
TILE_ZOOMS = range(7, 17)
CANTAL = (2.06, 44.62, 3.37, 45.48)
TOWNS = ((2.4446, 44.9264), (3.0930, 45.0340))  # Aurillac, Saint-Flour
#: Four must-haves and a few nice-to-haves, as a visitor would ask.
QUERY = {
    "criteria": [
        {"id": "gp_km", "threshold": 10, "importance": "must"},
        {"id": "pharmacy_km", "threshold": 10, "importance": "must"},
        {"id": "supermarket_km", "threshold": 10, "importance": "must"},
        {"id": "primary_school_km", "threshold": 5, "importance": "must"},
        {"id": "train_station_km", "threshold": 20, "importance": "nice"},
        {"id": "sport_count", "threshold": 3, "importance": "nice"},
        {"id": "house_price_m2", "threshold": 2500, "importance": "nice"},
    ],
    "budget": 180000,
    "household": {"adults": 2, "children": 1},
}


def measure(bench: Bench, app) -> None:
    client = app.test_client()
    base = f"http://{HOST}"
    gzip = {"Accept-Encoding": "gzip"}

    def get(path: str, compressed: bool = True):
        response = client.get(path, base_url=base, headers=gzip if compressed else {})
        if response.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {response.status_code}")
        return response

    def timed(path: str) -> float:
        started = time.perf_counter()
        get(path)
        return (time.perf_counter() - started) * 1000

    html = get("/recherche", compressed=False).get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/[^"]+\.(?:js|css))"', html)
    paths = ["/recherche", *assets, "/recherche/cellules.json"]
    sent = sum(len(get(path).get_data()) for path in paths)
    plain = sum(len(get(path, compressed=False).get_data()) for path in paths)
    count = get("/recherche/cellules.json", compressed=False).get_json()["count"]
    bench.figure(
        "first load of the search map (page, styles, scripts, cell layer), gzip as served",
        [sent / 1000],
        "KB",
        at_most=PAGE_BUDGET_KB,
        baseline=[plain / 1000],
        baseline_name="the same bytes uncompressed",
        note=f"the Cantal, {count} cells, {len(assets)} stylesheets and scripts",
    )
    bench.figure("search page served", bench.repeat(lambda: timed("/recherche")), "ms")
    bench.figure("cell layer served", bench.repeat(lambda: timed("/recherche/cellules.json")), "ms")

    def post(path: str) -> float:
        response = client.post(path, base_url=base, json=QUERY, headers=gzip)
        if response.status_code != 200:
            raise BenchError(f"POST {path}: {response.get_data(as_text=True)[:500]}")
        return len(response.get_data()) / 1000

    compact, full = post("/api/v1/search?format=compact"), post("/api/v1/search")
    bench.figure(
        "a search's compact result, gzip as served",
        [compact],
        "KB",
        at_most=RESULT_BUDGET_KB,
        baseline=[full],
        baseline_name="the full format of the same result",
    )


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def sample_tiles() -> list[tuple[int, int, int]]:
    """Tiles over the Cantal at each zoom used: all of them while few, else 4×4 around towns."""
    tiles = []
    for z in TILE_ZOOMS:
        (x0, y1), (x1, y0) = tile_xy(CANTAL[0], CANTAL[1], z), tile_xy(CANTAL[2], CANTAL[3], z)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= 16:
            tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
            continue
        for lon, lat in TOWNS:
            cx, cy = tile_xy(lon, lat, z)
            tiles += [(z, x, y) for x in range(cx - 1, cx + 3) for y in range(cy - 1, cy + 3)]
    return sorted(set(tiles))


def measure_tiles(bench: Bench, app) -> None:
    client = app.test_client()
    base = f"http://{HOST}"
    tiles = sample_tiles()

    def fetch(tile) -> tuple[float, int]:
        started = time.perf_counter()
        response = client.get("/fond-de-carte/{}/{}/{}.mvt".format(*tile), base_url=base)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"tile {tile}: HTTP {response.status_code}")
        return elapsed, len(response.get_data())

    with app.app_context():
        new_generation()  # nothing cached: every first fetch makes its tile
    cold = [fetch(t) for t in tiles]
    cached = [fetch(t) for t in tiles]
    largest: dict[int, int] = {}
    for (z, _x, _y), (_ms, size) in zip(tiles, cold, strict=True):
        largest[z] = max(largest.get(z, 0), size)
    bench.figure(
        "largest base map tile at the zooms used",
        [max(largest.values()) / 1000],
        "KB",
        at_most=TILE_BUDGET_KB,
        note=f"{len(tiles)} tiles over the Cantal; largest by zoom (KB): "
        + ", ".join(f"z{z} {size / 1000:.1f}" for z, size in sorted(largest.items())),
    )
    bench.figure(
        "base map tile made cold (server time)",
        [ms for ms, _size in cold],
        "ms",
        at_most=COLD_TILE_MS,
        note=f"slowest {max(ms for ms, _ in cold):.1f} ms",
    )
    bench.figure(
        "base map tile served from Redis (server time)",
        [ms for ms, _size in cached],
        "ms",
        at_most=CACHED_TILE_MS,
        note=f"slowest {max(ms for ms, _ in cached):.1f} ms",
    )


def main() -> None:
    with Bench("pages") as bench, tempfile.TemporaryDirectory(prefix="vivrau-bench-") as storage:
        url = bench.database()
        env = prepare_cantal(bench, url, SLUG)
        env = prepare_demo(bench, env, Path(storage))
        app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": bench.redis_url, "LOG_LEVEL": "WARNING",
             "SEARCH_RATE_LIMIT": "10000000/minute", "STORAGE_URL": env["STORAGE_URL"]}
        )  # fmt: skip
        measure(bench, app)
        measure_tiles(bench, app)
        _, port = bench.serve("wsgi:app", env, workers=2, threads=4)  # as scripts/serve.sh
        measure_demo(bench, port)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
