"""Search benchmark: scoring a département and metropolitan France in memory, then
`POST /api/v1/search` on the Cantal under 20 concurrent clients against a fixed-body baseline.

Scoring
    A département (6 000 cells) and metropolitan France (550 000 cells) × 30 criteria, scored in
    memory; the baseline is a plain numpy pass over the same matrix (one comparison of every
    value with a threshold, summed per cell). Each run is the median of many rounds.

Under load
    The bench's own database holds the Cantal's real communes, synthetic data, its cells and
    profiles (`flask geo synth / build-cells / build-profiles --departement 15`) and a
    département territory over them. gunicorn (one gthread worker of 4 threads, as the harness
    serves) runs on one core and wrk (Debian's package; 20 keep-alive connections) on the other
    where there are two, asking for gzip like a browser. Each run lasts BENCH_SECONDS; the search
    and its baseline alternate run by run after a warm-up of each (five runs of each by default:
    on a busy two-core machine one run's p95 swings by half), and the figure is the p95. The
    compact search is the map's (statuses only, as without `scores=true`); the full one scores
    and explains every cell.

    The baseline is the same HTTP stack answering a fixed body: the same gunicorn and Flask app,
    the host resolved and the territory bound, the same compression, answering the very bytes the
    search answered in that format (saved once before the runs), so the ratio isolates the
    search's own cost: its rate limit, the body's parsing, the cache check, the scoring and the
    serialisation.

    .venv/bin/python -m bench.search
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from bench.common import prepare_cantal
from bench.harness import Bench, BenchError, cpus, split_cores
from core import grid
from ingest.reference.criteria import CRITERIA
from sites.search import advice, engine
from sites.search.matrix import Matrix
from sites.search.query import Query, Wanted

CLIENTS = 20
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))  # in memory
HTTP_RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SLUG = "bench_cantal"
HOST = "bench-cantal.vivrau.localhost"
#: Four must-haves, every other criterion a nice-to-have, a budget and a household: the homes
#: criterion is then counted per query.
BODY = {
    "criteria": [
        {"id": c.id, "threshold": c.threshold, "importance": "must" if i < 4 else "nice"}
        for i, c in enumerate(CRITERIA)
    ],
    "budget": 180000,
    "household": {"adults": 2, "children": 1},
}
FORMATS = {"compact": "/api/v1/search?format=compact", "full": "/api/v1/search"}
#: Ratio of the search's p95 to the fixed body's, per format.
TARGETS = {"compact": 1.3, "full": 3.0}


# --- 1. scoring in memory ---------------------------------------------------------------------


def _query(must_scale: float = 1.0, nice_only: bool = False) -> Query:
    """Every other criterion a must-have (at `must_scale` times its threshold), or none."""
    return Query(
        tuple(
            Wanted(c.id, c.threshold * must_scale, "must")
            if i % 2 and not nice_only
            else Wanted(c.id, c.threshold, "nice")
            for i, c in enumerate(CRITERIA)
        )
    )


def _matrix(cells: int) -> Matrix:
    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(cells)))
    k = np.arange(cells)
    ids = grid.format_ids(2_200_000 + 1000 * (k // side), 3_400_000 + 1000 * (k % side))
    thresholds = np.array([c.threshold for c in CRITERIA], dtype="float64")
    values = rng.uniform(0, 2, (len(thresholds), cells)) * thresholds[:, None]
    values[rng.random(values.shape) < 0.01] = np.nan  # a few unknown values, as in real data
    return Matrix(np.sort(ids.astype("U40")), [None] * cells, values.astype("float32"))


def _statuses_and_scores(result: engine.Result) -> None:
    result.statuses()
    result.scores  # noqa: B018 - computed when first read


def _rounds(work, rounds: int):
    """A measure: the median time of `work` over `rounds` rounds, in ms."""

    def measure() -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    return measure


def numpy_pass(m: Matrix, query: Query):
    """The baseline of an in-memory search: each asked row compared with its threshold and the
    comparisons summed per cell, by numpy over the same matrix."""
    limits = np.array([[w.threshold] for w in query.criteria], dtype="float32")
    return lambda: (m.values <= limits).sum(axis=0)


def bench_scoring(bench: Bench) -> None:
    query = _query()
    for label, cells, target_ms, rounds in (
        ("a département", 6_000, 5.0, 200),
        ("metropolitan France", 550_000, 150.0, 15),
    ):
        m = _matrix(cells)
        values, base = bench.interleave(
            _rounds(lambda m=m: _statuses_and_scores(engine.score_matrix(m, query)), rounds),
            _rounds(numpy_pass(m, query), rounds),
            runs=RUNS,
        )
        bench.figure(
            f"scoring {label}, {cells:,} cells × {len(query.criteria)} criteria ".replace(",", " ")
            + f"({len(query.must)} must, {len(query.nice)} nice)",
            values,
            "ms",
            at_most=target_ms,
            baseline=base,
            baseline_name="a plain numpy pass over the same matrix",
            note=f"median of {rounds} rounds a run, in this process",
        )


def _advise(result: engine.Result) -> None:
    """What the summary and the table add to a search: the advice and the telling columns."""
    advice.advice(result)
    advice.telling(result)


def bench_advice(bench: Bench) -> None:
    """The summary's advice and the table's telling columns, when nothing is green (relax: every
    must-have at a tenth of its threshold) and when everything is (tighten: no must-have; it
    scans every criterion of the catalogue), beside the scoring of the same search. Only the
    page and its table fragment pay it, never the map's compact answer."""
    sizes = (("a département", 6_000, 100, 10.0), ("metropolitan France", 550_000, 5, 300.0))
    for label, cells, rounds, target_ms in sizes:
        m = _matrix(cells)
        for case, query in (
            ("nothing green, relax", _query(must_scale=0.1)),
            ("everything green, tighten", _query(nice_only=True)),
        ):
            result = engine.score_matrix(m, query)
            score = lambda q=query, m=m: _statuses_and_scores(engine.score_matrix(m, q))  # noqa: E731
            values, base = bench.interleave(
                _rounds(lambda r=result: _advise(r), rounds), _rounds(score, rounds), runs=RUNS
            )
            bench.figure(
                f"advice and telling columns, {label} ({case})",
                values,
                "ms",
                baseline=base,
                baseline_name="scoring the same search",
                at_most=target_ms,
                note=f"{cells} cells; median of {rounds} rounds a run, in this process",
            )


# --- 2. POST /api/v1/search under load --------------------------------------------------------

#: wrk's own --latency has no 95th percentile: the script prints it.
WRK_LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["Host"] = "%(host)s"
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, summary.duration))
end
"""


class Load:
    """wrk against one server: CLIENTS connections, pinned to the load's cores; each run's p95
    in ms, and its other figures kept for the notes."""

    def __init__(self, port: int, script: Path, load_cpus: list[int] | None):
        self.port, self.script = port, script
        self.pin = ["taskset", "-c", ",".join(map(str, load_cpus))] if load_cpus else []
        self.threads = max(1, min(2, len(load_cpus or cpus())))
        self.runs: dict[str, list[dict]] = {}

    def p95(self, path: str) -> float:
        command = [*self.pin, "wrk", "-t", str(self.threads), "-c", str(CLIENTS)]
        command += ["-d", f"{SECONDS}s", "--timeout", "10s", "-s", str(self.script)]
        done = subprocess.run(
            [*command, f"http://127.0.0.1:{self.port}{path}"], capture_output=True, text=True
        )
        found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
        if done.returncode != 0 or not found:
            raise BenchError(f"wrk on {path} said:\n{done.stdout}\n{done.stderr}")
        requests, errors, p50, p95, p99, slowest, duration = map(int, found.groups())
        if errors:
            raise BenchError(f"wrk on {path}: {errors} of {requests} requests failed")
        run = {"rate": requests / (duration / 1e6), "p50": p50 / 1000, "p99": p99 / 1000}
        self.runs.setdefault(path, []).append(run | {"p95": p95 / 1000, "max": slowest / 1000})
        return p95 / 1000

    def summary(self, path: str) -> str:
        runs = self.runs[path][1:]  # the warm-up left out
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        rate = statistics.median(r["rate"] for r in runs)
        return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {rate:.0f} req/s"


def _post(port: int, path: str, encoding: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(BODY).encode(),
        headers={"Content-Type": "application/json", "Host": HOST, "Accept-Encoding": encoding},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.read()


def bench_http(bench: Bench) -> None:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (scripts/setup.sh test installs it: Debian's wrk)")
    url = bench.database()
    answers = Path(tempfile.mkdtemp(prefix="vivrau-search-answers-"))
    started = time.perf_counter()
    env = prepare_cantal(
        bench,
        url,
        SLUG,
        SEARCH_RATE_LIMIT="10000000/minute",
        TENANT_CACHE_SECONDS="30",
        BENCH_SEARCH_ANSWERS=str(answers),
    )
    print(f"  (set-up: the Cantal in {time.perf_counter() - started:.0f} s)", flush=True)
    server_cpus, load_cpus = split_cores()
    _, port = bench.serve("bench.app:app", env, cpus=server_cpus)
    script = answers / "search.lua"
    script.write_text(WRK_LUA % {"body": json.dumps(BODY), "host": HOST})
    load = Load(port, script, load_cpus)
    try:
        sizes = {}
        for name, path in FORMATS.items():
            # The baseline's body: the search's own answer in this format, as it is sent.
            answer = _post(port, path, "identity")
            (answers / f"{name}.json").write_bytes(answer)
            fixed = f"/_bench/search-answer/{name}"
            if _post(port, fixed, "identity") != answer:
                raise BenchError(f"{fixed} does not answer the search's {name} answer")
            sizes[name] = (len(answer), len(_post(port, path, "gzip")))
        cells = json.loads((answers / "compact.json").read_bytes())["total"]
        where = (
            f"server on core {server_cpus[0]}, wrk on core(s) {','.join(map(str, load_cpus))}"
            if server_cpus
            else "server and wrk sharing the only core"
        )
        for name, path in FORMATS.items():
            fixed = f"/_bench/search-answer/{name}"
            values, base = bench.interleave(
                lambda path=path: load.p95(path),
                lambda fixed=fixed: load.p95(fixed),
                runs=HTTP_RUNS,
            )
            plain, packed = sizes[name]
            bench.figure(
                f"POST /api/v1/search, {name} format, p95 under {CLIENTS} clients",
                values,
                "ms",
                baseline=base,
                baseline_name=f"the same stack answering its {name} answer as fixed bytes",
                ratio_at_most=TARGETS[name],
                note=(
                    f"the Cantal, {cells} cells, {len(CRITERIA)} criteria (4 must); {where}; "
                    f"{SECONDS} s a run; answer {plain / 1000:.0f} KB, {packed / 1000:.1f} KB "
                    f"gzipped; search {load.summary(path)}; fixed body {load.summary(fixed)}"
                ),
            )
    finally:
        shutil.rmtree(answers, ignore_errors=True)


def main() -> None:
    with Bench("search") as bench:
        bench_scoring(bench)
        bench_advice(bench)
        bench_http(bench)


if __name__ == "__main__":
    main()
