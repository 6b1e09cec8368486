"""Geodata benchmark: cell ids of 2.8 M points, `load-bpe` of a 2.8 M-row file, `build-profiles`
for the whole country on synthetic data.

Runs against its own database (`BENCH_GEO_DATABASE_URL`, default …/vivrau_bench_geo), made
afresh and dropped at the end. Each figure is printed with its target and its ratio to a
baseline measured in the same run. A `flask geo` command that does not exist yet (exit code 2,
"No such command") makes its figure "not available" instead of failing the run; one that exists
but fails is reported, and the function it calls is timed directly (the figure says so).

    .venv/bin/python bench/geodata.py [--only cells|bpe|profiles]… [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402 - after the path is set, like the project's imports

from bench.common import FLASK, ROOT, create_database, env_for, psql  # noqa: E402
from bench.common import drop_database as drop  # noqa: E402

BENCH_URL = os.environ.get(
    "BENCH_GEO_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench_geo"
)
POINTS = int(os.environ.get("BENCH_POINTS", "2800000"))
BPE_ROWS = int(os.environ.get("BENCH_BPE_ROWS", "2800000"))
ENV = env_for(BENCH_URL)
GIB = 1 << 30
#: Metropolitan France, lon/lat (a box: some points fall in the sea or abroad, as BPE's never do)
METRO_BOX = (-4.8, 42.3, 8.2, 51.1)


class NotAvailable(Exception):
    """A `flask geo` command this figure needs is not there yet."""


class Failed(Exception):
    """A step failed: its output says why."""


#: Runs its arguments and reports their peak memory. The bench itself grows (it makes a 2.8 M-row
#: file), and a child's high-water mark starts at its parent's size when forked: a small
#: go-between keeps the figure the command's own.
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _measure(command: list[str]) -> tuple[float, int, int, str]:
    """Run a command; returns (seconds, peak resident bytes, exit code, output)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        code = subprocess.call(
            [sys.executable, "-S", "-c", WRAPPER, *command],
            env=ENV,
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
    return elapsed, peak, code, "\n".join(lines)


#: What each `flask geo` command calls, to time the function itself when the command fails.
DIRECT = {
    "load-communes": "from ingest.reference.communes import load_communes as f; f()",
    "load-bpe": "from ingest.reference.loaders.bpe import load_bpe as f; f(sys.argv[1])",
    "synth": "from ingest.reference.synth import synth as f; f(france=True)",
    "build-cells": "from ingest.reference.cells import build_cells as f; f()",
    "build-profiles": "from ingest.reference.profiles import build_profiles as f; f()",
}
PRELUDE = (
    "import sys; from application import create_app; app = create_app(); app.app_context().push(); "
)


def flask(args: list[str]) -> tuple[float, int, str]:
    """Run `flask …`; returns (seconds, peak resident memory in bytes, a note).

    When a `flask geo` command exists but fails, the function it calls is timed directly (in a
    fresh process, same measures) and the failure is reported, so that the figure still exists.
    """
    seconds, peak, code, output = _measure(FLASK + args)
    if code == 2 and "No such command" in output:
        raise NotAvailable(f"`flask {args[0]} {args[1]}` does not exist yet")
    if code == 0:
        return seconds, peak, ""
    tail = "\n".join(output.strip().splitlines()[-6:])
    direct = DIRECT.get(args[1]) if args[0] == "geo" else None
    if direct is None:
        raise Failed(f"`flask {' '.join(args)}` exited with {code}:\n{tail}")
    print(
        f"  (`flask {' '.join(args)}` exited with {code}, timing its function directly "
        f"instead:\n{tail})",
        file=sys.stderr,
        flush=True,
    )
    python = str(ROOT / ".venv" / "bin" / "python")
    seconds, peak, code, output = _measure([python, "-c", PRELUDE + direct, *args[2:]])
    if code != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise Failed(f"{direct!r} exited with {code}:\n{tail}")
    return seconds, peak, f" [the function, called directly: `flask geo {args[1]}` failed]"


def fresh_database() -> None:
    create_database(BENCH_URL)
    flask(["db", "upgrade"])


def drop_database() -> None:
    drop(BENCH_URL)


def connect():
    import psycopg

    return psycopg.connect(BENCH_URL, autocommit=True)


def scalar(sql: str):
    with connect() as conn:
        return conn.execute(sql).fetchone()[0]


# --- 1. cell ids ------------------------------------------------------------------------------


def bench_cell_ids() -> None:
    from core import grid

    rng = np.random.default_rng(0)
    lon = rng.uniform(METRO_BOX[0], METRO_BOX[2], POINTS)
    lat = rng.uniform(METRO_BOX[1], METRO_BOX[3], POINTS)
    grid.cell_ids(lon[:1000], lat[:1000])  # warm-up: PROJ's set-up is not the figure
    started = time.perf_counter()
    ids = grid.cell_ids(lon, lat)
    total = time.perf_counter() - started
    started = time.perf_counter()
    x, y = grid.project(lon, lat, 4326, grid.METROPOLE)
    projection = time.perf_counter() - started
    floors = []
    for _ in range(5):  # the best of five: a single run of 50 ms is mostly noise
        started = time.perf_counter()
        easting = (np.floor(x / grid.SIZE) * grid.SIZE).astype("int64")
        northing = (np.floor(y / grid.SIZE) * grid.SIZE).astype("int64")
        floors.append(time.perf_counter() - started)
    floor = min(floors)
    assert ids[0] == grid.format_ids(northing[:1], easting[:1])[0]
    print(
        f"cell ids, {POINTS / 1e6:.1f} M lon/lat points: core.grid.cell_ids {total:.2f} s "
        f"(target ≤ 10 s); of which projection {projection:.2f} s; baseline bare numpy floor of "
        f"the projected arrays {floor:.3f} s; ratio {total / floor:.0f}×",
        flush=True,
    )


# --- 2. load-bpe ------------------------------------------------------------------------------


def bpe_points(rng) -> tuple[np.ndarray, list[str], list[str]]:
    """lon/lat, TYPEQU and DEPCOM of BPE_ROWS equipments: the synthetic generator's BPE codes
    inside the real communes when they are loaded, else uniform over the box."""
    from application import create_app
    from ingest.reference import synth

    app = create_app({"DATABASE_URL": BENCH_URL, "LOG_LEVEL": "WARNING"})
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
        from core.extensions import db

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


def write_bpe(path: Path) -> int:
    from core import grid

    rng = np.random.default_rng(1)
    points, codes, depcom = bpe_points(rng)
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


def bare_copy(path: Path) -> float:
    """Baseline: COPY of the same file into an unindexed all-text table (moving the bytes)."""
    with connect() as conn:
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


def bench_load_bpe() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bpe.csv"
        started = time.perf_counter()
        rows = write_bpe(path)
        made = time.perf_counter() - started
        print(
            f"  (BPE file: {rows} rows, {path.stat().st_size / 1e6:.0f} MB, made in {made:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        seconds, peak, note = flask(["geo", "load-bpe", str(path)])
        loaded = scalar("SELECT count(*) FROM pois WHERE source = 'bpe'")
        base = bare_copy(path)
    print(
        f"load-bpe, {rows / 1e6:.1f} M rows ({loaded} loaded): {seconds:.1f} s (target ≤ 180 s), "
        f"peak memory {peak / GIB:.2f} GiB (target ≤ 4 GiB); baseline bare COPY of the file into "
        f"an unindexed text table {base:.1f} s; ratio {seconds / base:.1f}×{note}",
        flush=True,
    )


# --- 3. build-profiles ------------------------------------------------------------------------


def bare_rewrite() -> float:
    """Baseline: rewriting build-profiles' output alone (binary COPY of cell_profiles out, then
    into a copy of the table with the same indexes)."""
    with connect() as conn:
        conn.execute("CREATE TEMP TABLE profiles_copy (LIKE cell_profiles INCLUDING ALL)")
        started = time.perf_counter()
        with conn.cursor() as cursor:
            with cursor.copy("COPY cell_profiles TO STDOUT (FORMAT BINARY)") as copy:
                data = b"".join(copy)
            with cursor.copy("COPY profiles_copy FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data)
        return time.perf_counter() - started


def bench_profiles() -> None:
    psql(BENCH_URL, "DELETE FROM pois WHERE source <> 'synth'")  # synthetic inputs only
    synth_seconds, synth_peak, _ = flask(["geo", "synth", "--france"])
    counts = {
        table: scalar(f"SELECT count(*) FROM {table} WHERE source = 'synth'")  # noqa: S608
        for table in ("pois", "property_sales", "cell_population")
    }
    print(
        f"  (synth --france: {synth_seconds:.0f} s, peak {synth_peak / GIB:.2f} GiB; "
        + ", ".join(f"{n} {t}" for t, n in counts.items())
        + ")",
        file=sys.stderr,
        flush=True,
    )
    cells_seconds, _, cells_note = flask(["geo", "build-cells"])
    metro = scalar("SELECT count(*) FROM cells WHERE epsg = 3035")
    total = scalar("SELECT count(*) FROM cells")
    print(
        f"build-cells, France: {cells_seconds:.1f} s for {total} cells ({metro} metropolitan)"
        f"{cells_note}",
        flush=True,
    )
    seconds, peak, note = flask(["geo", "build-profiles"])
    written = scalar("SELECT count(*) FROM cell_profiles")
    base = bare_rewrite()
    print(
        f"build-profiles, France on synthetic data: {seconds:.1f} s for {written} cells "
        f"({metro} metropolitan; target ≤ 300 s for ≈ 550 000), peak memory {peak / GIB:.2f} "
        f"GiB; baseline rewriting its output alone (COPY out + COPY into an indexed copy) "
        f"{base:.1f} s; ratio {seconds / base:.1f}×; synth --france took {synth_seconds:.0f} s "
        f"(ratio {seconds / synth_seconds:.2f}×){note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=["cells", "bpe", "profiles"])
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    options = parser.parse_args()
    wanted = options.only or ["cells", "bpe", "profiles"]
    failures = 0
    if "cells" in wanted:
        bench_cell_ids()
    if {"bpe", "profiles"} & set(wanted):
        fresh_database()
        try:
            communes = None
            try:
                seconds, _, _ = flask(["geo", "load-communes"])
                communes = scalar("SELECT count(*) FROM communes")
                print(f"  (load-communes: {communes} communes in {seconds:.0f} s)", file=sys.stderr)
            except (NotAvailable, Failed) as exc:
                print(f"load-communes: not available ({exc})", flush=True)
            sections = [("bpe", bench_load_bpe), ("profiles", bench_profiles)]
            for name, run in sections:
                if name not in wanted:
                    continue
                if name == "profiles" and not communes:
                    print("build-profiles: not available (no communes loaded)", flush=True)
                    continue
                try:
                    run()
                except NotAvailable as exc:
                    print(f"{name}: not available ({exc})", flush=True)
                except Failed as exc:
                    failures += 1
                    print(f"{name}: FAILED {exc}", flush=True)
        finally:
            if not options.keep:
                drop_database()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
