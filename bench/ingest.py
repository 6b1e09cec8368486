"""Import benchmark: a valid 100 000-row real-estate normed file imported end to end (kept, read,
validated, located, upserted, logged, committed, reported) into an empty listings table,
interleaved with its baseline, a raw `COPY` of the same rows into a table of the same shape (`LIKE
listings INCLUDING ALL` in the territory's schema: the same columns and indexes are paid); the
same file again (nothing changes); the same rows as an XLSX read by the bounded streaming reader
against openpyxl (the reader it replaced); and each hostile spreadsheet (tests/hostile_files.py)
refused within 2 s and 200 MB.

    .venv/bin/python -m bench.ingest [--rows N] [--runs N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import multiprocessing
import os
import pstats
import resource
import statistics
import tempfile
import time
import tracemalloc

import numpy as np
from sqlalchemy import text

from bench.harness import Bench

SLUG = "bench_ingest"
TARGET_ROWS_PER_S = 20_000
TARGET_RATIO = 0.25
#: The XLSX-reading figure reads a smaller workbook: openpyxl takes seconds per 10 000 rows.
XLSX_ROWS = 20_000
#: A hostile spreadsheet is refused within this time and memory (peak RSS growth of the
#: process reading it, and tracemalloc's peak in a second read).
HOSTILE_SECONDS = 2.0
HOSTILE_MB = 200
#: Saint-Flour and the communes around it.
COMMUNES = ("15187", "15002", "15004", "15055", "15164", "15188", "15262")
HEADER = [
    "external_id",
    "title",
    "commune_insee",
    "postcode",
    "latitude",
    "longitude",
    "transaction",
    "property_type",
    "price",
    "living_area_m2",
    "rooms",
    "energy_class",
    "published_on",
    "expires_on",
    "description",
]


def make_file(session, rows: int, seed: int = 5) -> bytes:
    """Real-looking listings at random points inside the communes (PostGIS draws them)."""
    rng = np.random.default_rng(seed)
    per = rows // len(COMMUNES) + 1
    points = session.execute(
        text(
            "SELECT c.insee, ST_Y(p.geom), ST_X(p.geom) FROM communes c, "
            "LATERAL ST_Dump(ST_GeneratePoints(c.geom, :n, 5)) p WHERE c.insee = ANY(:codes)"
        ),
        {"n": per, "codes": list(COMMUNES)},
    ).all()
    session.rollback()
    kinds = ["house", "flat", "land", "building", "farm"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    prices = rng.integers(40_000, 450_000, rows)
    areas = rng.integers(25, 320, rows)
    rooms = rng.integers(1, 10, rows)
    for i in range(rows):
        insee, lat, lon = points[i % len(points)]
        writer.writerow(
            [
                f"IMMO-{i:06d}",
                f"Maison de bourg n° {i}",
                insee,
                "15100",
                f"{lat:.6f}",
                f"{lon:.6f}",
                "sale" if i % 4 else "rent",
                kinds[i % len(kinds)],
                str(prices[i]),
                str(areas[i]),
                str(rooms[i]),
                "ABCDEFG"[i % 7],
                "2026-11-02",
                "2027-11-02",
                "Belle maison en pierre, proche des commerces." if i % 3 == 0 else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process of this machine has used: a PostgreSQL backend's."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wal(db) -> dict[str, float]:
    """The WAL written so far, cluster-wide (pg_stat_wal): this backend's own counts are flushed
    first (PostgreSQL reports them when the backend goes idle, at most once a second)."""
    db.session.execute(text("SELECT pg_stat_force_next_flush()"))
    db.session.commit()
    row = db.session.execute(
        text("SELECT wal_bytes, wal_fpi, wal_buffers_full, wal_sync FROM pg_stat_wal")
    ).one()
    db.session.commit()
    return {"mb": float(row[0]) / 2**20, "fpi": row[1], "full": row[2], "syncs": row[3]}


def _wal_spent(before: dict, after: dict) -> dict[str, float]:
    return {k: after[k] - before[k] for k in before}


class Listings:
    """The territory's listings, emptied before each import (outside the timing), and the
    baseline's table of the same shape filled by one COPY of the rows an import stored.

    Besides the wall time, each run's CPU time is kept (this process's, and its database
    backend's): on a machine that other work keeps busy, it is what the work costs."""

    def __init__(self, db, rows: int, profile: bool):
        self.db, self.rows, self.profile = db, rows, profile
        self.stored = b""
        self.profiled: cProfile.Profile | None = None
        self.cpu: dict[str, list[float]] = {"import": [], "copy": []}
        self.wal: dict[str, list[dict]] = {"import": [], "copy": []}

    def _empty(self, *tables: str) -> None:
        self.db.session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        self.db.session.commit()

    def _backend(self) -> int:
        """The pid of the backend of the connection the session holds (kept between runs)."""
        pid = self.db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        self.db.session.commit()
        return pid

    def import_file(self, data: bytes, *, empty: bool = True, created: bool = True) -> float:
        """Rows per second of one import of the file (into an empty table, or over the same
        rows: then nothing changes)."""
        from ingest.listings.imports import submit

        if empty:
            self._empty("listings", "listing_events")
        backend = self._backend()
        wal = _wal(self.db)
        profiler = cProfile.Profile() if self.profile and self.profiled is None else None
        cpu = time.process_time() + _cpu_seconds(backend)
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        done = submit("real_estate", data, "annonces.csv", inline=True)
        if profiler:
            profiler.disable()
            self.profiled = profiler
        elapsed = time.perf_counter() - started
        cpu = time.process_time() + _cpu_seconds(backend) - cpu
        expected = done.created if created else done.unchanged
        assert done.status == "done" and expected == self.rows, (done.status, done.message)
        if backend == self._backend() and empty:  # the same connection did the work
            self.cpu["import"].append(cpu)
            self.wal["import"].append(_wal_spent(wal, _wal(self.db)))
        if not self.stored:
            self.stored = self._copy_out()
        return self.rows / elapsed

    def _copy_out(self) -> bytes:
        connection = self.db.session.connection().connection.driver_connection
        out = io.BytesIO()
        with connection.cursor() as cursor:
            with cursor.copy("COPY listings TO STDOUT") as copy:
                for chunk in copy:
                    out.write(chunk)
        self.db.session.rollback()
        return out.getvalue()

    def raw_copy(self) -> float:
        """Rows per second of one COPY of the stored rows into the table of the same shape."""
        self._empty("bench_copy")
        wal = _wal(self.db)
        bound = self.db.session.connection()  # the connection the COPY runs on, and its backend
        backend = bound.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        connection = bound.connection.driver_connection
        cpu = time.process_time() + _cpu_seconds(backend)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy("COPY bench_copy FROM STDIN") as copy:
                copy.write(self.stored)
        self.db.session.commit()
        elapsed = time.perf_counter() - started
        self.cpu["copy"].append(time.process_time() + _cpu_seconds(backend) - cpu)
        self.wal["copy"].append(_wal_spent(wal, _wal(self.db)))
        return self.rows / elapsed

    def wal_note(self) -> str:
        """The WAL each side wrote (medians): on a server with PostgreSQL's default
        shared_buffers and wal_buffers, what a big write waits for beyond its CPU time."""

        def median(side: str, key: str) -> float:
            return statistics.median(w[key] for w in self.wal[side]) if self.wal[side] else 0.0

        def side(name: str) -> str:
            return (
                f"{median(name, 'mb'):.0f} MB of WAL, {median(name, 'fpi'):.0f} full-page images, "
                f"{median(name, 'syncs'):.0f} syncs, WAL buffers full {median(name, 'full'):.0f}×"
            )

        return f"import: {side('import')}; COPY: {side('copy')}"


def imports(bench: Bench, args) -> None:
    url = bench.database()
    env = bench.env(url)
    bench.flask(env, "db", "upgrade")
    bench.flask(env, "geo", "load-communes", "--departement", "15")
    # Saint-Flour Communauté: the territory holding the file's seven communes.
    bench.flask(env, "tenants", "create", "--slug", SLUG, "--name", "Saint-Flour Communauté",
                "--kind", "epci", "--code", "200066660")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="vivrau-bench-ingest-") as storage:
        os.environ.update(env, STORAGE_URL=f"file://{storage}")
        data = measure_imports(bench, args)
    xlsx_reading(bench, data, min(args.rows, XLSX_ROWS))


def measure_imports(bench: Bench, args) -> bytes:
    """The import figures; the file they imported."""

    from application import create_app
    from core.extensions import db
    from core.registry import Tenant
    from core.tenancy import tenant_scope

    app = create_app()
    with app.app_context():
        data = make_file(db.session, args.rows)
        ref = db.session.execute(db.select(Tenant).filter_by(slug=SLUG)).scalar_one().ref()
        db.session.rollback()
        print(f"file: {args.rows} rows, {len(data) / 2**20:.1f} MB", flush=True)
        with tenant_scope(ref):
            db.session.execute(text("CREATE TABLE bench_copy (LIKE listings INCLUDING ALL)"))
            db.session.commit()
            listings = Listings(db, args.rows, args.profile)
            values, base = bench.interleave(
                lambda: listings.import_file(data),
                listings.raw_copy,
                runs=args.runs,
            )
            conditions = (
                f"{args.rows} rows, {len(data) / 2**20:.1f} MB CSV, into an empty listings table "
                "(its statistics as a new territory's)"
            )
            bench.figure(
                f"{args.rows} rows imported end to end",
                values,
                "rows/s",
                at_least=TARGET_ROWS_PER_S,
                note=conditions,
            )
            bench.figure(
                "import vs a raw COPY of the same rows",
                values,
                "rows/s",
                baseline=base,
                baseline_name="COPY into a table LIKE listings INCLUDING ALL",
                ratio_at_least=TARGET_RATIO,
                note=conditions,
            )
            cpu = listings.cpu
            runs = min(len(cpu["import"]), len(cpu["copy"]))
            bench.figure(
                "CPU time of an import (this process and its database backend)",
                cpu["import"],
                "s",
                baseline=cpu["copy"][-runs:] if runs == len(cpu["import"]) else None,
                baseline_name="CPU time of the raw COPY",
                note=(
                    "what the import costs whatever else the machine runs; for the record. "
                    + listings.wal_note()
                ),
            )
            listings.import_file(data)  # the table full, for the unchanged runs
            again = bench.repeat(
                lambda: listings.import_file(data, empty=False, created=False),
                runs=args.runs,
                warmup=0,
            )
            bench.figure(
                "the same file again (nothing changes)",
                again,
                "rows/s",
                at_least=TARGET_ROWS_PER_S,
            )
        if listings.profiled:
            pstats.Stats(listings.profiled).sort_stats("cumulative").print_stats(35)
        db.session.remove()
        db.engine.dispose()
    return data


def xlsx_of(data: bytes, rows: int) -> bytes:
    """The CSV's first rows as a workbook (openpyxl's streaming writer: shared strings, as
    Excel)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    reader = csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";")
    for number, row in enumerate(reader):
        if number > rows:
            break
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_reading(bench: Bench, data: bytes, rows: int) -> None:
    from openpyxl import load_workbook

    from ingest.listings.normed import limits
    from ingest.listings.xlsx import read_sheet

    workbook = xlsx_of(data, rows)

    def bounded() -> float:
        started = time.perf_counter()
        count = len(read_sheet(workbook, limits()))
        assert count == rows + 1, count
        return time.perf_counter() - started

    def openpyxl() -> float:
        """The reader before: openpyxl in read-only mode, as the normed reader used it."""
        started = time.perf_counter()
        book = load_workbook(io.BytesIO(workbook), read_only=True, data_only=False)
        count = sum(1 for row in book.worksheets[0].iter_rows(values_only=True) if any(row))
        book.close()
        assert count == rows + 1, count
        return time.perf_counter() - started

    values, base = bench.interleave(bounded, openpyxl, runs=3)
    bench.figure(
        f"XLSX of {rows} rows read by the bounded reader",
        values,
        "s",
        baseline=base,
        baseline_name="openpyxl in read-only mode (the reader before)",
        ratio_at_most=1.0,
        note=f"{len(workbook) / 2**20:.1f} MB workbook",
    )


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _read_in_child(context, data: bytes) -> tuple:
    """Read `data` in a forked child, so that its memory is its own: (refusal code or None,
    seconds, RSS growth, traced peak)."""
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_refuse, args=(data, send))
    child.start()
    figures = receive.recv()
    child.join()
    return figures


def _refuse(data: bytes, answer) -> None:
    """In a child process: read the file (timed, then again under tracemalloc), report."""
    from ingest.listings.normed import NormedFileError, read_normed

    start_rss = _rss()
    started = time.perf_counter()
    try:
        read_normed("real_estate", data, "annonces.xlsx")
        code = None
    except NormedFileError as exc:
        code = exc.code
    elapsed = time.perf_counter() - started
    grown = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_rss, 0)
    tracemalloc.start()
    try:
        read_normed("real_estate", data, "annonces.xlsx")
    except NormedFileError:
        pass
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    answer.send((code, elapsed, grown, traced))


def hostile(bench: Bench) -> None:
    """Each hostile spreadsheet read in a fresh child process: refused, fast, small."""
    from ingest.listings.normed import read_normed
    from tests.hostile_files import HOSTILE, _repeat, many_strings, workbook, zip_bomb

    read_normed("real_estate", b"external_id;title\r\nA;B\r\n")  # imports done once, forked
    context = multiprocessing.get_context("fork")
    memory = []
    for name, make in HOSTILE.items():
        code, elapsed, grown, traced = _read_in_child(context, make())
        memory.append(max(grown, traced) / 2**20)
        bench.figure(
            f"hostile spreadsheet refused: {name}",
            [elapsed if code else float("inf")],  # read instead of refused: a miss
            "s",
            at_most=HOSTILE_SECONDS,
            note=f"refused as {code}" if code else "NOT REFUSED",
        )
    bench.figure(
        "hostile spreadsheets: the most memory one takes",
        [max(memory)],
        "MB",
        at_most=HOSTILE_MB,
        note="peak RSS growth of the reading process, or tracemalloc's peak in a second read",
    )
    within = {
        "190 MB of blanks in the sheet": lambda: zip_bomb(190),
        "999 999 shared strings, the last one used": lambda: many_strings(999_999),
        "190 000 rows of 30 empty cells": lambda: workbook(
            _repeat("<row>" + "<c/>" * 30 + "</row>", 190_000)
        ),
    }
    for name, make in within.items():
        code, elapsed, grown, traced = _read_in_child(context, make())
        bench.figure(
            f"within the limits, read in a worker: {name}",
            [elapsed],
            "s",
            note=f"{code or 'read'}, RSS +{grown / 2**20:.1f} MB, traced peak "
            f"{traced / 2**20:.1f} MB; for the record",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="Profile the first import.")
    args = parser.parse_args()
    with Bench("ingest") as bench:
        hostile(bench)
        imports(bench, args)


if __name__ == "__main__":
    main()
