"""Geodata benchmark: cell ids of 2.8 M points, `load-bpe` of a 2.8 M-row file, `build-profiles`
for the whole country on synthetic data.

Runs on its own database. Each figure runs several times, alternately with its baseline (the
same work by a simpler path) and is checked against its target; the commands' peak memory is
measured too. `BENCH_GEO="cells bpe"` runs some parts, `BENCH_RUNS` sets the runs.

    .venv/bin/python -m bench.geodata
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

from application import create_app
from bench.harness import BIN, ROOT, Bench, BenchError
from core import grid
from core.extensions import db
from ingest.reference import synth

POINTS = int(os.environ.get("BENCH_POINTS", "2800000"))
BPE_ROWS = int(os.environ.get("BENCH_BPE_ROWS", "2800000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GIB = 1 << 30
#: Metropolitan France, lon/lat (a box: some points fall in the sea or abroad, as BPE's never do)
METRO_BOX = (-4.8, 42.3, 8.2, 51.1)


#: Runs its arguments and reports their peak memory. The bench itself grows (it makes a 2.8 M-row
#: file), and a child's high-water mark starts at its parent's size when forked: a small
#: go-between keeps the figure the command's own.
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


class Geo:
    """The benchmark's database and the `flask` commands run on it, each with its peak memory."""

    def __init__(self, bench: Bench):
        self.bench = bench
        self.url = bench.database()
        self.env = bench.env(self.url)

    def flask(self, *args: str) -> tuple[float, int]:
        """Run `flask …`; its seconds and peak resident memory in bytes."""
        command = [str(BIN / "flask"), *args]
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            code = subprocess.call(
                [sys.executable, "-S", "-c", WRAPPER, *command],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
            elapsed = time.perf_counter() - started
            out.seek(0)
            lines = out.read().decode(errors="replace").splitlines()
        peak = 0
        if lines and lines[-1].startswith("MAXRSS "):
            peak = int(lines.pop().split()[1]) * 1024  # KiB on Linux
        if code != 0:
            tail = "\n".join(lines[-15:])
            raise BenchError(f"flask {' '.join(args)} exited with {code}:\n{tail}")
        return elapsed, peak

    def connect(self):
        return psycopg.connect(self.url, autocommit=True)

    def scalar(self, sql: str):
        with self.connect() as conn:
            return conn.execute(sql).fetchone()[0]


# --- 1. cell ids ------------------------------------------------------------------------------


def bench_cell_ids(bench: Bench) -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(METRO_BOX[0], METRO_BOX[2], POINTS)
    lat = rng.uniform(METRO_BOX[1], METRO_BOX[3], POINTS)
    grid.cell_ids(lon[:1000], lat[:1000])  # warm-up: PROJ's set-up is not the figure
    x, y = grid.project(lon, lat, 4326, grid.METROPOLE)

    def ids() -> float:
        started = time.perf_counter()
        grid.cell_ids(lon, lat)
        return time.perf_counter() - started

    def floor() -> float:
        """The same points projected (pyproj) and floored to the grid by bare numpy."""
        started = time.perf_counter()
        x, y = grid.project(lon, lat, 4326, grid.METROPOLE)
        np.floor(x / grid.SIZE).astype("int64"), np.floor(y / grid.SIZE).astype("int64")
        return time.perf_counter() - started

    easting = (np.floor(x[:1] / grid.SIZE) * grid.SIZE).astype("int64")
    northing = (np.floor(y[:1] / grid.SIZE) * grid.SIZE).astype("int64")
    if grid.cell_ids(lon[:1], lat[:1])[0] != grid.format_ids(northing, easting)[0]:
        raise BenchError("core.grid.cell_ids disagrees with the bare projection and floor")
    values, base = bench.interleave(ids, floor, runs=max(RUNS, 5))
    bench.figure(
        f"cell ids of {POINTS / 1e6:.1f} M lon/lat points",
        values,
        "s",
        at_most=10,
        baseline=base,
        baseline_name="the same projection and a bare numpy floor",
    )


def bpe_points(geo: Geo, rng) -> tuple[np.ndarray, list[str], list[str]]:
    """lon/lat, TYPEQU and DEPCOM of BPE_ROWS equipments: the synthetic generator's BPE codes
    inside the real communes when they are loaded, else uniform over the box."""
    app = create_app({"DATABASE_URL": geo.url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        communes = synth._communes(None)
        if communes:
            territory = synth._Territory(communes)
            _, rows = synth._pois(rng, territory)
            rows = [r for r in rows if not r[2].startswith("osm:")]
            packed = np.frombuffer(bytes.fromhex("".join(r[4] for r in rows)), synth._POINT)
            points = np.column_stack([packed["x"], packed["y"]])
            codes = [r[2] for r in rows]
            depcom = [r[6] for r in rows]
        else:
            points, codes, depcom = np.empty((0, 2)), [], []
        db.session.remove()
        db.engine.dispose()
    if not len(points):
        n = BPE_ROWS
        points = np.column_stack(
            [
                rng.uniform(METRO_BOX[0], METRO_BOX[2], n),
                rng.uniform(METRO_BOX[1], METRO_BOX[3], n),
            ]
        )
        codes = list(rng.choice(list(synth.EQUIPMENT)[:20], n))
        depcom = ["75056"] * n
    # top up (or trim) to BPE_ROWS: repeat equipments a few tens of metres away
    index = np.arange(BPE_ROWS) % len(points)
    jitter = np.where((np.arange(BPE_ROWS) >= len(points))[:, None], 1.0, 0.0)
    points = points[index] + jitter * rng.normal(0.0, 0.0004, (BPE_ROWS, 2))
    return points, [codes[i] for i in index], [depcom[i] for i in index]


def write_bpe(geo: Geo, path: Path) -> int:
    rng = np.random.default_rng(1)
    points, codes, depcom = bpe_points(geo, rng)
    # as INSEE's file: Lambert-93 in metropolitan France, the local UTM overseas
    epsg = np.array([grid.OVERSEAS.get(c[:3], 2154) for c in depcom])
    x, y = np.empty(len(points)), np.empty(len(points))
    for code in np.unique(epsg):
        rows = epsg == code
        x[rows], y[rows] = grid.project(points[rows, 0], points[rows, 1], 4326, int(code))
    quality = rng.choice(["Bonne", "Acceptable", "Mauvaise"], len(x), p=[0.8, 0.15, 0.05])
    lost = rng.random(len(x)) < 0.005  # as in the real file: a few not geolocated
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y;QUALITE_XY;NOMRS;SIRET\n")
        for i, (code, commune, a, b, q, gone) in enumerate(
            zip(codes, depcom, x.tolist(), y.tolist(), quality.tolist(), lost.tolist(), strict=True)
        ):
            if gone:
                fh.write(f"{code};{commune};;;Non géolocalisé;;\n")
            else:
                fh.write(f"{code};{commune};{a:.2f};{b:.2f};{q};EQUIPEMENT {i};{i:014d}\n")
    return len(x)


def bare_copy(geo: Geo, path: Path) -> float:
    """Baseline: COPY of the same file into an unindexed all-text table (moving the bytes)."""
    with geo.connect() as conn:
        conn.execute(
            "CREATE TEMP TABLE bpe_raw (typequ text, depcom text, x text, y text, q text, "
            "nomrs text, siret text)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bpe_raw FROM STDIN (FORMAT csv, DELIMITER ';', HEADER)") as copy,
            path.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - started


def bench_load_bpe(bench: Bench, geo: Geo) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bpe.csv"
        started = time.perf_counter()
        rows = write_bpe(geo, path)
        made = time.perf_counter() - started
        size = path.stat().st_size / 1e6
        print(f"  (BPE file: {rows} rows, {size:.0f} MB, made in {made:.0f} s)", flush=True)
        peaks = []

        def load() -> float:
            seconds, peak = geo.flask("geo", "load-bpe", str(path))
            peaks.append(peak / GIB)
            return seconds

        values, base = bench.interleave(load, lambda: bare_copy(geo, path), runs=RUNS, warmup=0)
    loaded = geo.scalar("SELECT count(*) FROM pois WHERE source = 'bpe'")
    note = f"{rows} rows, {loaded} loaded"
    bench.figure(f"load-bpe of a {rows / 1e6:.1f} M-row file", values, "s", at_most=180,
                 baseline=base, baseline_name="bare COPY of the file into an unindexed text table",
                 note=note)  # fmt: skip
    bench.figure("load-bpe peak memory", peaks, "GiB", at_most=4, note=note)


# --- 3. build-profiles ------------------------------------------------------------------------


def bare_rewrite(geo: Geo) -> float:
    """Baseline: rewriting build-profiles' output alone (binary COPY of cell_profiles out, then
    into a copy of the table with the same indexes)."""
    with geo.connect() as conn:
        conn.execute("CREATE TEMP TABLE profiles_copy (LIKE cell_profiles INCLUDING ALL)")
        started = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy("COPY cell_profiles TO STDOUT (FORMAT BINARY)") as copy:
                data = b"".join(copy)
            with cursor.copy("COPY profiles_copy FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data)
        return time.perf_counter() - started


def bench_profiles(bench: Bench, geo: Geo) -> None:
    with geo.connect() as conn:
        conn.execute("DELETE FROM pois WHERE source <> 'synth'")  # synthetic inputs only
    synth_seconds, synth_peak = geo.flask("geo", "synth", "--france")
    counts = {
        table: geo.scalar(f"SELECT count(*) FROM {table} WHERE source = 'synth'")  # noqa: S608
        for table in ("pois", "property_sales", "cell_population")
    }
    made = ", ".join(f"{n} {t}" for t, n in counts.items())
    print(f"  (synth --france: {synth_seconds:.0f} s, peak {synth_peak / GIB:.2f} GiB; {made})")
    cells_seconds, _ = geo.flask("geo", "build-cells")
    metro = geo.scalar("SELECT count(*) FROM cells WHERE epsg = 3035")
    total = geo.scalar("SELECT count(*) FROM cells")
    bench.figure("build-cells, France", [cells_seconds], "s",
                 note=f"{total} cells, {metro} metropolitan; for the record")  # fmt: skip
    peaks = []

    def build() -> float:
        seconds, peak = geo.flask("geo", "build-profiles")
        peaks.append(peak / GIB)
        return seconds

    values, base = bench.interleave(build, lambda: bare_rewrite(geo), runs=RUNS, warmup=0)
    written = geo.scalar("SELECT count(*) FROM cell_profiles")
    note = f"{written} cells written, {metro} metropolitan; synthetic data"
    bench.figure("build-profiles, France", values, "s", at_most=300, baseline=base,
                 baseline_name="rewriting its output alone (COPY out, COPY into an indexed copy)",
                 note=note)  # fmt: skip
    bench.figure("build-profiles peak memory", peaks, "GiB", note=note)


def main() -> None:
    wanted = set(os.environ.get("BENCH_GEO", "cells bpe profiles").split())
    with Bench("geodata") as bench:
        if "cells" in wanted:
            bench_cell_ids(bench)
        if wanted & {"bpe", "profiles"}:
            geo = Geo(bench)
            geo.flask("db", "upgrade")
            seconds, _ = geo.flask("geo", "load-communes")
            communes = geo.scalar("SELECT count(*) FROM communes")
            print(f"  (load-communes: {communes} communes in {seconds:.0f} s)", flush=True)
            if "bpe" in wanted:
                bench_load_bpe(bench, geo)
            if "profiles" in wanted:
                bench_profiles(bench, geo)


if __name__ == "__main__":
    main()
