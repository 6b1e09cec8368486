"""Page-weight benchmark: first load of the search map of a département, and a search result.

A département-size territory (the Cantal: real communes, synthetic data, its ~6 000 cells) is
built in its own database. The app answers through its WSGI interface as a browser would ask:
`Accept-Encoding: gzip`, the page, every stylesheet and script it links, the cell layer. Each
body is counted as served (compressed). Budgets: first load ≤ 1.5 MB, compact result ≤ 20 KB;
baselines measured in the same run: the same bytes uncompressed, and the full-format result.

    .venv/bin/python -m bench.pages
"""

from __future__ import annotations

import re
import time

from application import create_app
from bench.common import prepare_cantal
from bench.harness import Bench, BenchError
from core.extensions import db

SLUG = "bench_pages"
HOST = "bench-pages.vivrau.localhost"
PAGE_BUDGET_KB = 1500
RESULT_BUDGET_KB = 20
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


def main() -> None:
    with Bench("pages") as bench:
        url = bench.database()
        prepare_cantal(bench, url, SLUG)
        app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": bench.redis_url, "LOG_LEVEL": "WARNING",
             "SEARCH_RATE_LIMIT": "10000000/minute"}
        )  # fmt: skip
        measure(bench, app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
