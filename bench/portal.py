"""The national portal's engine: scoring every metropolitan cell in process, and the memory each
extra worker adds while the national matrix is shared by the machine.

Scoring
    A national matrix of 550 000 cells (the metropolitan count) × the catalogue's 30 criteria,
    synthetic (uniform around each criterion's threshold, 1 % unknown), written in the portal's
    own file layout (ingest/reference/national.py) and mapped as the portal maps it. A national
    search is what the map's answer needs: every cell's status and score, summed by département.
    The baseline is a plain numpy pass over the same mapped matrix (each of the 30 rows compared
    with its threshold, summed per cell). Each run is the median of 15 rounds; the search and its
    baseline alternate run by run after a warm-up.

Memory
    Workers are forked as gunicorn forks them (from a parent that has not read the matrix). Each
    then maps the matrix and runs three national searches, all of them alive at once; the
    figure is the anonymous memory each one added (the matrix's pages are the page cache's, held
    once per machine, whichever worker reads them). The baseline loads the same files into each
    worker's own memory instead, as a per-process copy would.

    .venv/bin/python -m bench.portal
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import Bench
from bench.search import _query
from ingest.reference import national as files
from ingest.reference.criteria import CRITERIA
from sites.search import engine
from sites.search.national import NationalMatrix, by_departement

CELLS = 550_000
COMMUNES = 35_000
DEPARTEMENTS = 96
ROUNDS = 15
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WORKERS = 4
MB = 2**20


def write_matrix(folder: Path) -> str:
    """A synthetic national matrix in the portal's layout; its version."""
    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(CELLS)))
    k = np.arange(CELLS)
    codes = np.sort((2_000 + k // side) * 10_000 + (3_200 + k % side)).astype("int64")
    thresholds = np.array([c.threshold for c in CRITERIA], dtype="float64")
    values = rng.uniform(0, 2, (len(CRITERIA), CELLS)) * thresholds[:, None]
    values[rng.random(values.shape) < 0.01] = np.nan
    communes = np.sort(rng.integers(0, COMMUNES, CELLS)).astype("int32")
    departements = (communes * DEPARTEMENTS // COMMUNES).astype("int16")
    manifest = files.Manifest("bench", CELLS, COMMUNES, DEPARTEMENTS, "", 0.0)
    arrays = {
        "codes": codes,
        "values": values.astype("float32"),
        "communes": communes,
        "departements": departements,
    }
    places = {
        "communes": files._places(
            codes, arrays["communes"], [f"{i:05d}" for i in range(COMMUNES)], {}
        ),
        "departements": files._places(
            codes, arrays["departements"], [f"{i:02d}" for i in range(DEPARTEMENTS)], {}
        ),
    }
    files._write(folder, manifest, arrays, places)
    return manifest.version


def mapped_matrix(folder: Path, version: str) -> NationalMatrix:
    mapped = files.open_version(folder, version)
    return NationalMatrix(
        ids=mapped.codes, communes=[], values=mapped.values, version=version, mapped=mapped
    )


def national_search(matrix: NationalMatrix, query) -> None:
    result = engine.score_matrix(matrix, query)
    result.scores  # noqa: B018 - computed when first read
    by_departement(result)


def _rounds(work):
    def measure() -> float:
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    return measure


def bench_scoring(bench: Bench, folder: Path, version: str) -> None:
    matrix = mapped_matrix(folder, version)
    query = _query()
    limits = np.array([[w.threshold] for w in query.criteria], dtype="float32")
    values, base = bench.interleave(
        _rounds(lambda: national_search(matrix, query)),
        _rounds(lambda: (matrix.values <= limits).sum(axis=0)),
        runs=RUNS,
    )
    bench.figure(
        f"national search, {CELLS:,} cells × {len(query.criteria)} criteria ".replace(",", " ")
        + f"({len(query.must)} must, {len(query.nice)} nice): statuses, scores, by département",
        values,
        "ms",
        at_most=60.0,
        baseline=base,
        baseline_name="a plain numpy pass over the same mapped matrix",
        note=f"median of {ROUNDS} rounds a run, in this process, the matrix mapped from its files",
    )


def _anonymous_mb() -> float:
    """This process's anonymous memory (heap and private maps, not the page cache's files)."""
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no Anonymous line in /proc/self/smaps_rollup")


def _worker(folder: str, version: str, copy: bool, barrier, out) -> None:
    before = _anonymous_mb()
    if copy:  # the baseline: the same arrays in the worker's own memory
        loaded = {n: np.load(Path(folder) / version / f"{n}.npy") for n in files.ARRAYS}
        mapped = files.open_version(Path(folder), version)
        matrix = NationalMatrix(
            ids=loaded["codes"], communes=[], values=loaded["values"], version=version,
            mapped=mapped,
        )  # fmt: skip
    else:
        matrix = mapped_matrix(Path(folder), version)
    query = _query()
    for _ in range(3):
        national_search(matrix, query)
    barrier.wait()  # every worker holds its matrix at once, as gunicorn's do
    out.put(_anonymous_mb() - before)
    barrier.wait()


def added_per_worker(folder: Path, version: str, copy: bool) -> float:
    """The median anonymous memory each of WORKERS forked workers added (MB)."""
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(folder), version, copy, barrier, out))
        for _ in range(WORKERS)
    ]
    for w in workers:
        w.start()
    added = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    return statistics.median(added)


def bench_memory(bench: Bench, folder: Path, version: str) -> None:
    values, base = bench.interleave(
        lambda: added_per_worker(folder, version, copy=False),
        lambda: added_per_worker(folder, version, copy=True),
        runs=3,
        warmup=0,
    )
    bench.figure(
        "memory added per extra worker holding the national matrix",
        values,
        "MB",
        at_most=50.0,
        baseline=base,
        baseline_name="each worker loading its own copy of the same files",
        note=f"anonymous memory per worker, {WORKERS} forked workers alive at once, after three "
        f"national searches each; the mapped files are {_size_mb(folder / version):.0f} MB of "
        "page cache, once per machine",
    )


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / MB


def main() -> None:
    with Bench("portal") as bench:
        folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
        try:
            version = write_matrix(folder)
            bench_scoring(bench, folder, version)
            bench_memory(bench, folder, version)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
