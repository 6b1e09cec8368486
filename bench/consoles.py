"""What the people who pay use: the entitlement check every gated request makes, and a PVD
coordinator's page of member towns.

- The check itself in a process (a territory's periods cached, as requests find them), per
  call; and whole requests to a /healthz-like body on a territory's host with the check and
  without it (gunicorn, one worker of 4 threads on one core, the load on the other), requests
  per second and their ratio, five interleaved runs of 3 s after a warm-up.
- The coordinator's rollup over 50 member towns, each with 2 000 listings and 10 000 leads: the
  server time of reading them all (the page's fan-out), against reading one town alone.

    .venv/bin/python -m bench.consoles
"""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from application import create_app
from bench.common import grant_site
from bench.harness import Bench, BenchError, split_cores
from bench.resolution import hammer
from core.extensions import db
from core.fanout import read_in, write_in
from core.registry import get_by_slug
from sites.rollup import rollup, town_figures
from tenants.entitlements import Feature, entitled
from tenants.provisioning import TenantSpec, add_member, create_tenant

SLUG = "consoles"
HOST = "consoles.vivrau.localhost"
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CALLS = 20_000
TOWNS = int(os.environ.get("BENCH_TOWNS", "50"))
LISTINGS = 2_000
LEADS = 10_000


def check_cost(app) -> list[float]:
    """Milliseconds per `entitled()` call, cached as in a serving process, in five runs."""
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


def fill_town(ref) -> None:
    """LISTINGS listings of every kind and status, LEADS leads, in the bound town's schema."""
    db.session.execute(
        text(
            "INSERT INTO listings (kind, external_id, title, commune_insee, status, source) "
            "SELECT (ARRAY['real_estate','job','business','leisure','poi'])[1 + n % 5], "
            "'B-' || n, 'Annonce ' || n, '15187', "
            "(ARRAY['published','published','published','draft','unpublished'])[1 + n % 5], "
            "'file' FROM generate_series(1, :n) AS n"
        ),
        {"n": LISTINGS},
    )
    db.session.execute(
        text(
            "INSERT INTO leads (account_id, commune_insee, stage) SELECT n, '15187', "
            "CASE WHEN n % 4 = 0 THEN 'prospect' ELSE 'contact' END "
            "FROM generate_series(1, :n) AS n"
        ),
        {"n": LEADS},
    )


def rollup_cost(bench: Bench, app) -> None:
    """The coordinator page's reads over TOWNS members, against one member read alone."""
    with app.app_context():
        umbrella = create_tenant(TenantSpec("consoles_pvd", "PVD", "umbrella", None))
        umbrella_id = umbrella.id
        for n in range(TOWNS):
            town = create_tenant(TenantSpec(f"consoles_town_{n}", f"Bourg {n}", "commune", "15187"))
            write_in(town.ref(), lambda town=town: fill_town(town.ref()))
            add_member("consoles_pvd", town.slug)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        one = get_by_slug(db.session, "consoles_town_0").ref()
        db.session.rollback()

        def everyone() -> float:
            started = time.perf_counter()
            rows, _totals = rollup(umbrella_id)
            if any(r.read.error for r in rows) or len(rows) != TOWNS:
                raise BenchError(f"the rollup read {len(rows)} towns, with errors")
            return time.perf_counter() - started

        def alone() -> float:
            started = time.perf_counter()
            read_in(one, lambda: town_figures(one))
            return time.perf_counter() - started

        values, base = bench.interleave(everyone, alone, runs=5)
    bench.figure(
        f"coordinator rollup, {TOWNS} member towns",
        values,
        "s",
        at_most=1.0,
        baseline=base,
        baseline_name="one member town read alone",
        note=f"{LISTINGS} listings and {LEADS} leads per town; server time, no HTTP",
    )


def main() -> None:
    with Bench("consoles") as bench:
        url = bench.database()
        env = bench.env(url)
        bench.flask(env, "db", "upgrade")
        bench.flask(env, "tenants", "create", "--slug", SLUG, "--name", "Consoles",
                    "--kind", "commune", "--code", "15187")  # fmt: skip
        grant_site(bench, env, SLUG)
        os.environ.update(env)  # the settings are read when the application is made
        app = create_app()
        bench.figure(
            "entitlement check, per call (cached)",
            check_cost(app),
            "ms",
            at_most=0.2,
            note=f"{CALLS} calls per run, in one process, its periods cached as requests find them",
        )
        server_cpus, load_cpus = split_cores()
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
        rollup_cost(bench, app)


if __name__ == "__main__":
    main()
