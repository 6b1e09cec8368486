"""The benchmarks' harness: each its own database and Redis db, warm-up, interleaved repeated runs,
every figure checked against its target, a JSON record, and an exit status that says so."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy_utils import create_database

from core.config import database_url
from core.databases import ensure_database, remove_database

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "var" / "bench"))
#: The server every benchmark database is made on (BENCH_DATABASE_URL names it, without a database).
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432").rstrip("/")
REDIS_SERVER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
#: Each benchmark's own Redis db, so two of them never share rate limits, queues or caches; the
#: demo uses 0 and the tests 15.
REDIS_DBS = {
    "tenancy": 1,
    "geodata": 2,
    "ingest": 3,
    "api": 4,
    "search": 5,
    "pages": 6,
    "billing": 7,
    "billing_documents": 8,
    "startup": 13,
    "resolution": 14,
}


class BenchError(Exception):
    """A benchmark could not measure (a command failed, a server did not answer)."""


def cpus() -> list[int]:
    """The cores this process may run on, in order (taskset pins servers and load apart)."""
    return sorted(os.sched_getaffinity(0))


def split_cores() -> tuple[list[int] | None, list[int] | None]:
    """(the server's cores, the load's cores): the first core for the server, the others for
    the load; (None, None) on a single core, where they share it."""
    cores = cpus()
    return (cores[:1], cores[1:]) if len(cores) > 1 else (None, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())


def _fmt(x: float) -> str:
    """A figure with three significant digits, thin-spaced thousands (12 345, 0.0123)."""
    if x == 0 or not (x == x):  # zero, NaN
        return str(x)
    if abs(x) >= 100:
        return f"{x:,.0f}".replace(",", " ")
    return f"{x:.3g}"


def _spread(values: list[float]) -> str:
    if len(values) == 1:
        return _fmt(values[0])
    low, middle, high = min(values), statistics.median(values), max(values)
    return f"min {_fmt(low)}  median {_fmt(middle)}  max {_fmt(high)}"


@dataclass
class Figure:
    """One quantity measured over several runs, its target and the baseline it is read against."""

    bench: str
    name: str
    unit: str
    values: list[float]
    target: str = ""
    passed: bool | None = None  # None: no target, for the record
    baseline: list[float] | None = None
    baseline_name: str = ""
    ratios: list[float] | None = None
    note: str = ""
    load_average: tuple[float, float, float] = field(default_factory=load_average)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    def verdict(self) -> str:
        return {True: "pass", False: "MISSED", None: "—"}[self.passed]

    def lines(self) -> list[str]:
        runs = f" over {len(self.values)} runs" if len(self.values) > 1 else ""
        lines = [f"  {self.name}: {_spread(self.values)} {self.unit}{runs}"]
        if self.baseline:
            name = self.baseline_name or "the same work by a simpler path"
            lines.append(f"    baseline, {name}: {_spread(self.baseline)} {self.unit}")
            lines.append(f"    ratio: {_spread(self.ratios)}")
        if self.target:
            lines.append(f"    target {self.target}: {self.verdict()}")
        if self.note:
            lines.append(f"    ({self.note})")
        lines.append("    load average " + " ".join(str(x) for x in self.load_average))
        return lines


class Bench:
    """A benchmark's run: `with Bench("ingest") as bench: …`. On the way out, whatever happened,
    its servers are stopped, its databases dropped and its Redis db emptied; then its figures are
    printed and written to var/bench/<name>.json, and the process exits 1 if a target was missed
    (2 if the benchmark could not finish)."""

    def __init__(self, name: str):
        self.name = name
        self.run_id = os.environ.get("BENCH_RUN_ID") or uuid.uuid4().hex[:8]
        self.figures: list[Figure] = []
        self._databases: list[str] = []
        self._servers: list[subprocess.Popen] = []
        db = int(os.environ.get("BENCH_REDIS_DB", REDIS_DBS.get(name, 12)))
        self.redis_url = f"{REDIS_SERVER}/{db}"
        self.started = datetime.now(UTC)

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> Bench:
        # A stop (Ctrl-C, `kill`) unwinds through __exit__ like an error, so nothing is left behind.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        Redis.from_url(self.redis_url).flushdb()
        self._drop_orphans()
        print(f"== bench {self.name} ({len(cpus())} cores, load {load_average()})", flush=True)
        return self

    def __exit__(self, kind, error, tb) -> None:
        self._clean_up()
        crashed = kind is not None and not (kind is SystemExit and error.code in (0, None))
        if crashed:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"{self.name}.error.txt").write_text(
                "".join(traceback.format_exception(kind, error, tb))
            )
            print(
                f"bench {self.name} could not finish: {error or kind.__name__} "
                f"(details in var/bench/{self.name}.error.txt)",
                file=sys.stderr,
            )
        self._write(crashed)
        missed = [f for f in self.figures if f.passed is False]
        if crashed:
            sys.exit(2)
        if missed:
            print(f"bench {self.name}: {len(missed)} target(s) missed", file=sys.stderr)
            sys.exit(1)

    @staticmethod
    def _drop_orphans() -> None:
        """Drop the databases of benchmarks whose process is gone (killed before it could clean
        up): their names end with the pid that made them."""
        engine = create_engine(database_url(f"{SERVER_URL}/postgres"), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                names = conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'vivrau\\_bench\\_%'")
                ).scalars()
                names = list(names)
        finally:
            engine.dispose()
        for name in names:
            pid = name.rsplit("_", 1)[-1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                remove_database(f"{SERVER_URL}/{name}")

    def _clean_up(self) -> None:
        for server in self._servers:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        for url in self._databases:
            try:
                remove_database(url)
            except Exception as error:  # noqa: BLE001 - clean up the rest, and say which was left
                print(f"bench {self.name}: database {url} left behind: {error}", file=sys.stderr)
        try:
            Redis.from_url(self.redis_url).flushdb()
        except Exception as error:  # noqa: BLE001
            print(f"bench {self.name}: {self.redis_url} not emptied: {error}", file=sys.stderr)

    def _write(self, crashed: bool) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        record = {
            "bench": self.name,
            "run_id": self.run_id,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "crashed": crashed,
            "machine": {"cpus": len(cpus()), "python": platform.python_version()},
            "load_average": load_average(),
            "figures": [asdict(f) | {"median": f.median, "ratio": f.ratio} for f in self.figures],
        }
        (RESULTS / f"{self.name}.json").write_text(json.dumps(record, indent=1))

    # --- resources --------------------------------------------------------------------------

    def database(self, label: str = "", template: str | None = None) -> str:
        """A fresh database with PostGIS, named for this benchmark and run, dropped at the end;
        a copy of the database `template` (a URL of this benchmark's, with no session open) when
        given, which is how a run starts again from the same state."""
        name = f"vivrau_bench_{self.name}{'_' + label if label else ''}_{self.run_id}_{os.getpid()}"
        url = f"{SERVER_URL}/{name}"
        remove_database(url)
        self._databases.append(url)
        if template:
            create_database(database_url(url), template=make_url(template).database)
        else:
            ensure_database(url)
        return url

    def env(self, database_url: str, **settings: str) -> dict[str, str]:
        """The app's environment for a benchmark: its database, its own Redis db, quiet logs."""
        return dict(
            os.environ,
            FLASK_APP="wsgi",
            DATABASE_URL=database_url,
            REDIS_URL=self.redis_url,
            LOG_LEVEL="WARNING",
            LOG_FORMAT="text",
            **settings,
        )

    def flask(self, env: dict[str, str], *args: str) -> float:
        """Run a `flask` command; its wall time in seconds. A failure stops the benchmark with the
        command's own output."""
        return self.flask_output(env, *args)[0]

    def flask_output(self, env: dict[str, str], *args: str) -> tuple[float, str]:
        """Run a `flask` command; its wall time in seconds and what it printed."""
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "flask"), *args], env=env, cwd=ROOT, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout.strip()

    def serve(
        self,
        app: str,
        env: dict[str, str],
        *,
        cpus: list[int] | None = None,
        workers: int = 1,
        threads: int = 4,
    ) -> tuple[subprocess.Popen, int]:
        """gunicorn on a free loopback port as scripts/serve.sh runs it (gthread), pinned to `cpus`
        when given; returned once it answers, stopped at the end."""
        port = free_port()
        command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        command += ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30"]
        command += ["--log-level", "warning", app]
        if cpus and shutil.which("taskset"):
            command = ["taskset", "-c", ",".join(map(str, cpus)), *command]
        server = subprocess.Popen(command, env=env, cwd=ROOT)
        self._servers.append(server)
        for _ in range(300):
            if server.poll() is not None:
                raise BenchError(f"gunicorn serving {app} stopped (exit {server.returncode})")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                return server, port
            except urllib.error.HTTPError:  # any answer means it is up (the host may be refused)
                return server, port
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"gunicorn serving {app} did not answer on port {port} within 30 s")

    @staticmethod
    def port() -> int:
        """A free loopback port."""
        return free_port()

    # --- measuring --------------------------------------------------------------------------

    @staticmethod
    def repeat(measure: Callable[[], float], runs: int = 3, warmup: int = 1) -> list[float]:
        """`measure()` `warmup` times for nothing, then `runs` times."""
        for _ in range(warmup):
            measure()
        return [measure() for _ in range(runs)]

    @staticmethod
    def interleave(
        measure: Callable[[], float],
        baseline: Callable[[], float],
        runs: int = 3,
        warmup: int = 1,
    ) -> tuple[list[float], list[float]]:
        """Both warmed up, then run in alternating order (AB BA AB…) so that a drift of the
        machine weighs on both alike; the figures of each, run by run."""
        for _ in range(warmup):
            measure()
            baseline()
        values, bases = [], []
        for i in range(runs):
            if i % 2 == 0:
                values.append(measure())
                bases.append(baseline())
            else:
                bases.append(baseline())
                values.append(measure())
        return values, bases

    def figure(
        self,
        name: str,
        values: list[float],
        unit: str,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
        baseline: list[float] | None = None,
        baseline_name: str = "",
        ratio_at_most: float | None = None,
        ratio_at_least: float | None = None,
        note: str = "",
    ) -> Figure:
        """Record a figure; it passes when its median, and its median ratio to the baseline run
        for run, are within every bound given. A figure without a bound is for the record."""
        if not values:
            raise BenchError(f"{name}: no value measured")
        figure = Figure(self.name, name, unit, list(values), note=note)
        targets, checks = [], []
        if baseline:
            if len(baseline) == len(values):
                ratios = [v / b for v, b in zip(values, baseline, strict=True)]
            else:
                ratios = [v / statistics.median(baseline) for v in values]
            figure.baseline, figure.ratios = list(baseline), ratios
            figure.baseline_name = baseline_name
        median = figure.median
        if at_most is not None:
            targets.append(f"≤ {_fmt(at_most)} {unit}")
            checks.append(median <= at_most)
        if at_least is not None:
            targets.append(f"≥ {_fmt(at_least)} {unit}")
            checks.append(median >= at_least)
        if ratio_at_most is not None or ratio_at_least is not None:
            if not baseline:
                raise BenchError(f"{name}: a ratio target needs a baseline")
            if ratio_at_most is not None:
                targets.append(f"ratio ≤ {_fmt(ratio_at_most)}")
                checks.append(figure.ratio <= ratio_at_most)
            if ratio_at_least is not None:
                targets.append(f"ratio ≥ {_fmt(ratio_at_least)}")
                checks.append(figure.ratio >= ratio_at_least)
        figure.target = ", ".join(targets)
        figure.passed = all(checks) if checks else None
        self.figures.append(figure)
        print("\n".join(figure.lines()), flush=True)
        return figure
