"""Search benchmark: scoring a département (6 000 cells) and metropolitan France (550 000 cells)
× 30 criteria in memory, then `POST /api/v1/search` under 20 concurrent clients.

Scoring figures are compared with a plain numpy pass over the same matrix (one comparison of
every value with a threshold, summed per cell). The HTTP figure runs against its own database
(`BENCH_SEARCH_DATABASE_URL`, default …/vivrau_bench_search, made afresh and dropped at the end):
the Cantal's real communes, synthetic data, its cells and profiles (`flask geo synth /
build-cells / build-profiles --departement 15`) and a département territory; gunicorn serves the
app on loopback and wrk (Debian's package) sends the searches, with a Lua script posting JSON.
The baseline is `GET /api/v1/criteria` (a fixed JSON answer of the same app) under the same load.

    .venv/bin/python bench/search.py [--only scoring|http] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402 - after the path is set, like the project's imports

from bench.common import drop_database, env_for, prepare_cantal, serve  # noqa: E402

BENCH_URL = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench_search"
)
PORT = int(os.environ.get("BENCH_SEARCH_PORT", "8767"))
CLIENTS = 20
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SLUG = "bench_cantal"
HOST = "bench-cantal.vivrau.localhost"
ENV = env_for(BENCH_URL) | {"SEARCH_RATE_LIMIT": "10000000/minute", "TENANT_CACHE_SECONDS": "30"}


# --- 1. scoring in memory ---------------------------------------------------------------------


def _query():
    from ingest.reference.criteria import CRITERIA
    from sites.search.query import Query, Wanted

    return Query(
        tuple(
            Wanted(c.id, c.threshold, "must" if i % 2 else "nice") for i, c in enumerate(CRITERIA)
        )
    )


def _matrix(cells: int):
    from core import grid
    from ingest.reference.criteria import CRITERIA
    from sites.search.matrix import Matrix

    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(cells)))
    k = np.arange(cells)
    ids = grid.format_ids(2_200_000 + 1000 * (k // side), 3_400_000 + 1000 * (k % side))
    thresholds = np.array([c.threshold for c in CRITERIA], dtype="float64")
    values = rng.uniform(0, 2, (len(thresholds), cells)) * thresholds[:, None]
    values[rng.random(values.shape) < 0.01] = np.nan  # a few unknown values, as in real data
    return Matrix(np.sort(ids.astype("U40")), [None] * cells, values.astype("float32"))


def _best(work, rounds: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_scoring() -> None:
    from sites.search import engine

    query = _query()
    for label, cells, target_ms, rounds in (
        ("a département", 6_000, 5.0, 200),
        ("metropolitan France", 550_000, 150.0, 15),
    ):
        m = _matrix(cells)
        limits = np.array([[w.threshold] for w in query.criteria], dtype="float32")

        def score(m=m):
            result = engine.score_matrix(m, query)
            result.statuses()

        def plain(m=m, limits=limits):
            (m.values <= limits).sum(axis=0)

        took, base = _best(score, rounds), _best(plain, rounds)
        verdict = "ok" if took * 1000 <= target_ms else "OVER TARGET"
        print(
            f"scoring {label}, {cells:,} cells × {len(query.criteria)} criteria "
            f"({len(query.must)} must, {len(query.nice)} nice): {took * 1000:.2f} ms median "
            f"(target ≤ {target_ms:g} ms: {verdict}); plain numpy pass {base * 1000:.2f} ms; "
            f"ratio {took / base:.1f}×",
            flush=True,
        )


# --- 2. POST /api/v1/search under load --------------------------------------------------------

#: wrk's own --latency has no 95th percentile: the script prints it.
POST_LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
"""
GET_LUA = """
wrk.method = "GET"
"""
DONE_LUA = """
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["Host"] = "%(host)s"
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.duration))
end
"""


def prepare() -> int:
    """The Cantal's cells and profiles, and a département territory over them."""
    started = time.perf_counter()
    prepare_cantal(BENCH_URL, SLUG)
    import psycopg

    with psycopg.connect(BENCH_URL) as conn:
        cells = conn.execute(f"SELECT count(*) FROM t_{SLUG}.territory_cells").fetchone()[0]  # noqa: S608
    print(f"  (set-up: {cells} cells of the Cantal in {time.perf_counter() - started:.0f} s)")
    return cells


def _wrk(path: str, lua: Path) -> tuple[float, float, float, float, int]:
    """(requests/s, p50, p95, p99 in ms, errors) of wrk with CLIENTS connections."""
    command = ["wrk", "-t", "2", "-c", str(CLIENTS), "-d", f"{SECONDS}s", "--timeout", "5s"]
    command += ["-s", str(lua)]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not found:
        raise SystemExit(f"wrk said:\n{out}")
    requests, errors, p50, p95, p99, duration = map(int, found.groups())
    return requests / (duration / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors


def bench_http() -> None:
    if shutil.which("wrk") is None:
        print("POST /api/v1/search: not available (wrk is not installed: apt-get install wrk)")
        return
    cells = prepare()
    workers = max(2, os.cpu_count() or 2)
    server = serve("wsgi:app", PORT, ENV, workers)
    from ingest.reference.criteria import CRITERIA

    body = json.dumps(
        {
            "criteria": [
                {"id": c.id, "threshold": c.threshold, "importance": "must" if i < 4 else "nice"}
                for i, c in enumerate(CRITERIA)
            ],
            "budget": 180000,
            "household": {"adults": 2, "children": 1},
        }
    )
    try:
        lua, plain = _script(POST_LUA % {"body": body}), _script(GET_LUA)
        size = _answer_size(body)
        for path in ("/api/v1/search?format=compact", "/api/v1/search"):
            _wrk(path, lua)  # warm-up: every worker loads the matrix once
        print(
            f"POST /api/v1/search, the Cantal ({cells} cells), 30 criteria (4 must), "
            f"{CLIENTS} concurrent clients, {SECONDS} s each, gunicorn {workers} workers × 4 "
            f"threads on {os.cpu_count()} CPUs, wrk on the same machine:"
        )
        base = _wrk("/api/v1/criteria", plain)
        for label, path in (
            ("compact (the map)", "/api/v1/search?format=compact"),
            ("full (every cell)", "/api/v1/search"),
        ):
            rate, p50, p95, p99, errors = _wrk(path, lua)
            verdict = "ok" if p95 <= 50 and not errors else "OVER TARGET"
            print(
                f"  {label:<18} p95 {p95:6.1f} ms (target ≤ 50 ms: {verdict}); p50 {p50:.1f} ms, "
                f"p99 {p99:.1f} ms, {rate:.0f} req/s, {errors} errors; "
                f"ratio to the baseline's p95 {p95 / base[2]:.1f}×"
            )
        print(
            f"  baseline GET /api/v1/criteria: p95 {base[2]:.1f} ms, p50 {base[1]:.1f} ms, "
            f"{base[0]:.0f} req/s"
        )
        print(f"  answer size, gzip: compact {size[0] / 1024:.1f} KB, full {size[1] / 1024:.1f} KB")
        lua.unlink()
        plain.unlink()
    finally:
        server.terminate()
        server.wait()


def _script(head: str) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(head + DONE_LUA % {"host": HOST})
    return Path(fh.name)


def _answer_size(body: str) -> tuple[int, int]:
    sizes = []
    for path in ("/api/v1/search?format=compact", "/api/v1/search"):
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{PORT}{path}",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Host": HOST, "Accept-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            sizes.append(len(response.read()))
    return sizes[0], sizes[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("scoring", "http"), action="append")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    only = set(args.only or ("scoring", "http"))
    os.environ.update(ENV)
    if "scoring" in only:
        bench_scoring()
    if "http" in only:
        try:
            bench_http()
        finally:
            if not args.keep:
                drop_database(BENCH_URL)


if __name__ == "__main__":
    main()
