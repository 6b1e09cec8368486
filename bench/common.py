"""What several benchmarks set up alike: the Cantal's cells and profiles, a département's site."""

from __future__ import annotations

from datetime import date, timedelta

from bench.harness import Bench


def grant_site(bench: Bench, env: dict[str, str], slug: str) -> None:
    """The territory `slug` may use the base offer and its own site (a manual grant, as the
    platform console gives one), so that its pages and APIs answer."""
    until = (date.today() + timedelta(days=300)).isoformat()
    bench.flask(env, "tenants", "grant", slug, "--feature", "base", "--feature", "site",
                "--until", until, "--reason", "benchmark")  # fmt: skip


def prepare_cantal(bench: Bench, url: str, slug: str, **settings: str) -> dict[str, str]:
    """The Cantal's real communes, synthetic data, cells and profiles, and a département
    territory `slug` with its site, in the bench database `url`; the app's environment for it."""
    env = bench.env(url, **settings)
    bench.flask(env, "db", "upgrade")
    bench.flask(env, "geo", "load-communes", "--departement", "15")
    bench.flask(env, "geo", "synth", "--departement", "15")
    bench.flask(env, "geo", "build-cells", "--departement", "15")
    bench.flask(env, "geo", "build-profiles", "--departement", "15")
    bench.flask(env, "tenants", "create", "--slug", slug, "--name", "Cantal",
                "--kind", "departement", "--code", "15")  # fmt: skip
    grant_site(bench, env, slug)
    return env
