"""What every benchmark shares: paths, the environment of its own database, its set-up."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
FLASK = [str(BIN / "flask")]


def env_for(database_url: str) -> dict[str, str]:
    """The app's environment for a benchmark: its own database and Redis db, quiet logs."""
    return dict(
        os.environ,
        FLASK_APP="wsgi",
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        LOG_FORMAT="text",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
    )


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-qXc", sql], check=True, capture_output=True)


def _admin_and_name(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return base + "/postgres", name


def drop_database(url: str) -> None:
    admin, name = _admin_and_name(url)
    psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(url: str) -> None:
    """A fresh, empty database with PostGIS (a previous one of that name is dropped)."""
    admin, name = _admin_and_name(url)
    drop_database(url)
    psql(admin, f'CREATE DATABASE "{name}"')
    psql(url, "CREATE EXTENSION postgis")


def flask(env: dict[str, str], *args: str) -> None:
    """Run a `flask` command against a bench database; stop the benchmark if it fails."""
    done = subprocess.run([*FLASK, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def prepare_cantal(url: str, slug: str) -> None:
    """A fresh database with the Cantal's cells and profiles and a département territory."""
    env = env_for(url)
    create_database(url)
    flask(env, "db", "upgrade")
    flask(env, "geo", "load-communes", "--departement", "15")
    flask(env, "geo", "synth", "--departement", "15")
    flask(env, "geo", "build-cells", "--departement", "15")
    flask(env, "geo", "build-profiles", "--departement", "15")
    flask(env, "tenants", "create", "--slug", slug, "--name", "Cantal", "--kind", "departement",
          "--code", "15")  # fmt: skip


def serve(app: str, port: int, env: dict[str, str], workers: int = 1) -> subprocess.Popen:
    """gunicorn on loopback as scripts/serve.sh runs it (gthread, 4 threads a worker), returned
    once it answers; the caller terminates it."""
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "gthread", "--threads", "4", "--keep-alive", "30"]
    server = subprocess.Popen([*command, "--log-level", "warning", app], env=env, cwd=ROOT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
            return server
        except urllib.error.HTTPError:  # any answer means it is up (the host may be refused)
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"gunicorn serving {app} did not answer on port {port}")
