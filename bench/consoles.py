"""What the people who pay use: the entitlement check every gated request makes.

Two figures: the check itself in a process (a territory's periods cached, as requests find
them), per call; and whole requests to a /healthz-like body on a territory's host with the
check and without it (gunicorn, one worker of 4 threads on one core, the load on the other),
requests per second and their ratio, five interleaved runs of 3 s after a warm-up.

The coordinator's rollup over 50 member towns is not measured here yet: that console is not
built (see the closing note of the issue).

    .venv/bin/python -m bench.consoles
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

from application import create_app
from bench.harness import Bench, BenchError, cpus
from bench.resolution import hammer
from core.extensions import db
from core.registry import get_by_slug
from tenants.entitlements import Feature, entitled

SLUG = "consoles"
HOST = "consoles.vivrau.localhost"
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CALLS = 20_000


def check_cost(env: dict[str, str]) -> list[float]:
    """Milliseconds per `entitled()` call, cached as in a serving process, in five runs."""
    os.environ.update(env)  # the settings are read when the application is made
    app = create_app()
    with app.app_context():
        ref = get_by_slug(db.session, SLUG).ref()
        db.session.rollback()
        if not entitled(ref, Feature.site):
            raise BenchError("the benchmark's territory is not granted its site")

        def run() -> float:
            started = time.perf_counter()
            for _ in range(CALLS):
                entitled(ref, Feature.site)
            return (time.perf_counter() - started) * 1000 / CALLS

        return Bench.repeat(run, runs=5)


def main() -> None:
    with Bench("consoles") as bench:
        url = bench.database()
        env = bench.env(url)
        bench.flask(env, "db", "upgrade")
        bench.flask(env, "tenants", "create", "--slug", SLUG, "--name", "Consoles",
                    "--kind", "commune", "--code", "15187")  # fmt: skip
        until = (date.today() + timedelta(days=300)).isoformat()
        bench.flask(env, "tenants", "grant", SLUG, "--feature", "base", "--feature", "site",
                    "--until", until, "--reason", "benchmark")  # fmt: skip
        bench.figure(
            "entitlement check, per call (cached)",
            check_cost(env),
            "ms",
            at_most=0.2,
            note=f"{CALLS} calls per run, in one process, its periods cached as requests find them",
        )
        cores = cpus()
        server_cpus, load_cpus = (cores[:1], cores[1:]) if len(cores) > 1 else (None, None)
        if load_cpus:
            os.sched_setaffinity(0, load_cpus)
        _, port = bench.serve("bench.app:app", env, cpus=server_cpus)
        values, base = bench.interleave(
            lambda: hammer(port, "/_bench/entitled", SECONDS, HOST),
            lambda: hammer(port, "/_bench/unchecked", SECONDS, HOST),
            runs=RUNS,
        )
        bench.figure(
            "/healthz-like request with the entitlement check",
            values,
            "req/s",
            baseline=base,
            baseline_name="the same request without the check",
            note=f"4 clients, runs of {SECONDS:g} s; for the record (the target is per call)",
        )


if __name__ == "__main__":
    main()
