"""Page-weight benchmark: first load of the search map of a département, and a search result.

A département-size territory (the Cantal: real communes, synthetic data, its ~6 000 cells) is
built in its own database (`BENCH_PAGES_DATABASE_URL`, default …/vivrau_bench_pages, made afresh
and dropped at the end). The app answers through its WSGI interface as a browser would ask:
`Accept-Encoding: gzip`, the page, every stylesheet and script it links, the cell layer. Each
body is counted as served (compressed). Budgets: first load ≤ 1.5 MB, compact result ≤ 20 KB;
baselines measured in the same run: the same bytes uncompressed, and the full-format result.

    .venv/bin/python bench/pages.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import drop_database, env_for, prepare_cantal  # noqa: E402

BENCH_URL = os.environ.get(
    "BENCH_PAGES_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench_pages"
)
SLUG = "bench_pages"
HOST = "bench-pages.vivrau.localhost"
ENV = env_for(BENCH_URL) | {"SEARCH_RATE_LIMIT": "10000000/minute"}
PAGE_BUDGET = 1_500_000
RESULT_BUDGET = 20_000
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


def prepare() -> None:
    started = time.perf_counter()
    prepare_cantal(BENCH_URL, SLUG)
    print(f"  (set-up: the Cantal in {time.perf_counter() - started:.0f} s)")


def _kb(n: int) -> str:
    return f"{n / 1000:,.1f} KB".replace(",", " ")


def measure() -> None:
    from application import create_app

    os.environ.update(ENV)
    app = create_app()
    client = app.test_client()
    base = f"http://{HOST}"
    gzip = {"Accept-Encoding": "gzip"}

    def get(path: str, compressed: bool = True):
        response = client.get(path, base_url=base, headers=gzip if compressed else {})
        assert response.status_code == 200, (path, response.status_code)
        return response

    started = time.perf_counter()
    page = get("/recherche")
    page_ms = (time.perf_counter() - started) * 1000
    html = get("/recherche", compressed=False).get_data(as_text=True)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/[^"]+\.(?:js|css))"', html)
    parts = [("page HTML", "/recherche", page)]
    parts += [(Path(a).name, a, get(a)) for a in assets]
    started = time.perf_counter()
    parts.append(("cell layer", "/recherche/cellules.json", get("/recherche/cellules.json")))
    layer_ms = (time.perf_counter() - started) * 1000
    cells = parts[-1][2]
    total = plain = 0
    print("First load of the search map, the Cantal (gzip as served):")
    for name, path, response in parts:
        sent = len(response.get_data())
        raw = len(get(path, compressed=False).get_data())
        total += sent
        plain += raw
        encoding = response.headers.get("Content-Encoding", "none")
        print(f"  {name:<24} {_kb(sent):>10}  ({encoding}; {_kb(raw)} uncompressed)")
    count = get("/recherche/cellules.json", compressed=False).get_json()["count"]
    print(
        f"  total {_kb(total)} for {count} cells — budget {_kb(PAGE_BUDGET)}: "
        f"{total / PAGE_BUDGET:.0%} of it; {plain / total:.1f}× smaller than uncompressed "
        f"({_kb(plain)}); page served in {page_ms:.0f} ms, layer in {layer_ms:.0f} ms (first, "
        f"uncached); layer ETag {cells.headers.get('ETag')}"
    )

    def post(path: str) -> int:
        response = client.post(path, base_url=base, json=QUERY, headers=gzip)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return len(response.get_data())

    compact, full = post("/api/v1/search?format=compact"), post("/api/v1/search")
    print("A search result (gzip as served):")
    print(
        f"  compact {_kb(compact)} — budget {_kb(RESULT_BUDGET)}: {compact / RESULT_BUDGET:.0%} "
        f"of it; the full format {_kb(full)} ({full / compact:.1f}× the compact one)"
    )
    failed = []
    if total > PAGE_BUDGET:
        failed.append(f"first load {_kb(total)} > {_kb(PAGE_BUDGET)}")
    if compact > RESULT_BUDGET:
        failed.append(f"compact result {_kb(compact)} > {_kb(RESULT_BUDGET)}")
    if failed:
        raise SystemExit("over budget: " + "; ".join(failed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--reuse", action="store_true", help="Reuse a kept bench database.")
    args = parser.parse_args()
    if not args.reuse:
        prepare()
    try:
        measure()
    finally:
        if not args.keep:
            drop_database(BENCH_URL)


if __name__ == "__main__":
    main()
