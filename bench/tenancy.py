"""Tenancy against a real peer: django-tenants, on the same PostgreSQL, with the same tenant tables.

Each side has its own database made by the harness; the peer is a Django project generated from
our tenant metadata (bench/peer/project.py), in its own virtualenv from PyPI, kept under
var/bench/. Measured in one run, interleaved (AB BA AB…):

- creating territories: BENCH_TENANTS (500) on each side in BENCH_ROUNDS (5) batches, after two
  each for warm-up (ours builds its template then); a figure is a batch's median seconds per
  territory. Ours: `create_tenant`, as `flask tenants create` and the console call it (registry
  rows, schema cloned from the template). Theirs: the tenant model's save with
  auto_create_schema, then its domain. Ours is also read against replaying the real tenant
  schema's DDL (every table, index and comment, compiled from the metadata) in one transaction,
  BENCH_REPLAYS (20) schemas each round, dropped again.
- a migrate with nothing to apply over all those schemas, whole commands (3 runs):
  `flask tenants migrate` against `manage.py migrate_schemas`.
- one additive migration (a nullable text column on pages) over all of them with 2 processes
  (3 runs, a new migration each): `flask tenants migrate --jobs 2` against
  `manage.py migrate_schemas --executor=multiprocessing` with 2 processes; each run checks that
  every schema of both sides got the column.

    .venv/bin/python -m bench.tenancy   # 20-30 minutes on 2 cores, mostly django-tenants' side
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment

from application import create_app
from bench.harness import ROOT, Bench, BenchError
from bench.peer.project import CACHE, PYTHON, additive_migration, peer_env, project, virtualenv
from core.config import database_url
from core.extensions import db
from migrations.models import tenant_metadata, unqualified
from tenants.migrate import head
from tenants.provisioning import TenantSpec, create_tenant

TENANTS = int(os.environ.get("BENCH_TENANTS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BATCH = TENANTS // ROUNDS
#: Schemas made by replaying the DDL each round: enough for a median, not another 500.
REPLAYS = int(os.environ.get("BENCH_REPLAYS", "20"))


def tenant_ddl() -> list[str]:
    """Our tenant schema's DDL as the metadata declares it, with its version table and row."""
    dialect = postgresql.dialect()
    metadata = unqualified(tenant_metadata)
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        statements += [str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes]
        statements += [
            str(SetColumnComment(c).compile(dialect=dialect)) for c in table.columns if c.comment
        ]
    return statements + [
        "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
        f"INSERT INTO alembic_version VALUES ('{head()}')",
    ]


class Ours:
    """Our side: the app in this process for creations, `flask` commands for the rest."""

    def __init__(self, bench: Bench, url: str):
        self.bench, self.url, self.env = bench, url, bench.env(url)
        bench.flask(self.env, "db", "upgrade")
        self.app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": bench.redis_url, "LOG_LEVEL": "WARNING"}
        )
        self.created = 0
        self.engine = create_engine(database_url(url), poolclass=NullPool)
        self.ddl = ";\n".join(tenant_ddl())
        self.raw: list[float] = []

    def create(self, count: int) -> list[float]:
        seconds = []
        with self.app.app_context():
            for i in range(self.created, self.created + count):
                began = time.perf_counter()
                create_tenant(TenantSpec(f"o{i:04d}", f"Commune {i}", "commune", "15187"))
                seconds.append(time.perf_counter() - began)
            db.session.remove()
        self.created += count
        return seconds

    def replay_ddl(self, count: int) -> list[float]:
        """The baseline: the same schema made by replaying its DDL, one transaction each."""
        seconds = []
        for i in range(count):
            began = time.perf_counter()
            with self.engine.begin() as connection:
                connection.connection.driver_connection.execute(
                    f'CREATE SCHEMA "raw_{i}"; SET LOCAL search_path TO "raw_{i}", public;\n'
                    + self.ddl
                )
            seconds.append(time.perf_counter() - began)
        for i in range(count):  # one at a time: a hundred schemas' locks overflow the lock table
            with self.engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "raw_{i}" CASCADE')
        return seconds

    def batch(self) -> float:
        """A batch of creations and, in turn first or second, a batch of DDL replays."""
        if len(self.raw) % 2:
            created = self.create(BATCH)
            self.raw.append(statistics.median(self.replay_ddl(REPLAYS)))
        else:
            self.raw.append(statistics.median(self.replay_ddl(REPLAYS)))
            created = self.create(BATCH)
        return statistics.median(created)

    def migrate(self, *args: str, **settings: str) -> float:
        return self.bench.flask(self.env | settings, "tenants", "migrate", *args)


class Theirs:
    """The peer: its generated project copied for this run, driven in its own virtualenv."""

    def __init__(self, url: str, workdir: Path):
        self.url = url
        self.project = workdir / "project"
        shutil.copytree(project(url), self.project)
        self.env = peer_env(url, self.project) | {"PEER_PROCESSES": "2"}
        self.created = 0
        self.manage("migrate_schemas", "--shared")

    def run(self, *args: str) -> tuple[float, str]:
        began = time.perf_counter()
        done = subprocess.run(
            [str(PYTHON), *args], cwd=self.project, env=self.env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - began
        if done.returncode != 0:
            raise BenchError(f"peer {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout

    def manage(self, *args: str) -> float:
        return self.run("manage.py", *args)[0]

    def create(self, count: int) -> list[float]:
        _, out = self.run("driver.py", "create", "p", str(self.created), str(count))
        self.created += count
        return json.loads(out.strip().splitlines()[-1])  # after migrate_schemas' own output

    def batch(self) -> float:
        return statistics.median(self.create(BATCH))


def columns_named(url: str, column: str) -> int:
    """How many schemas' pages table has `column`."""
    engine = create_engine(database_url(url), poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'pages' AND column_name = :c"
            ),
            {"c": column},
        ).scalar()
    engine.dispose()
    return found


def tenant_scripts_plus(location: Path, revision: int, down: str) -> str:
    """Our tenant scripts with one more additive revision, like the peer's AddField."""
    name = f"bench_note_{revision}"
    body = "\n".join(
        [
            f'"""Bench only: pages.{name}."""',
            "import sqlalchemy as sa",
            "from alembic import op",
            f'revision, down_revision = "b{revision:03d}", "{down}"',
            "branch_labels = depends_on = None",
            "def upgrade():",
            f'    op.add_column("pages", sa.Column("{name}", sa.Text(), nullable=True))',
        ]
    )
    (location / "versions" / f"b{revision:03d}_bench.py").write_text(body + "\n")
    return f"b{revision:03d}"


def main() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    with Bench("tenancy") as bench, tempfile.TemporaryDirectory(dir=CACHE) as work:
        versions = virtualenv()
        ours = Ours(bench, bench.database("ours"))
        theirs = Theirs(bench.database("peer"), Path(work))
        setting = f"{versions}; {TENANTS} tenants a side"

        ours.create(2)  # warm-up: ours builds its template schema here
        theirs.create(2)
        values, base = bench.interleave(ours.batch, theirs.batch, runs=ROUNDS, warmup=0)
        bench.figure(
            "creating a territory (batch median)",
            values,
            "s",
            baseline=base,
            baseline_name="django-tenants: Client.save() with auto_create_schema, and its domain",
            ratio_at_most=0.5,
            note=f"{setting}, {ROUNDS} batches of {BATCH} a side",
        )
        bench.figure(
            "creating a territory against replaying its schema's DDL (batch median)",
            values,
            "s",
            at_most=2.0,
            baseline=ours.raw,
            baseline_name="the tenant schema's DDL from the metadata, one transaction",
            note="ours also writes its registry rows and reads the template's rows and sequences",
        )

        # No warm-up run: each side has run its migrations for 500 creations just before, and
        # one of django-tenants' costs two minutes.
        values, base = bench.interleave(
            ours.migrate, lambda: theirs.manage("migrate_schemas"), runs=RUNS, warmup=0
        )
        bench.figure(
            f"migrate with nothing to apply, {TENANTS + 2} schemas (whole command)",
            values,
            "s",
            baseline=base,
            baseline_name="django-tenants: manage.py migrate_schemas",
            ratio_at_most=0.05,
            note=setting,
        )

        location = Path(work) / "tenant"
        shutil.copytree(
            ROOT / "migrations" / "tenant", location, ignore=shutil.ignore_patterns("__pycache__")
        )
        done = {"ours": 0, "theirs": 0, "down": head()}

        def ours_additive() -> float:
            done["ours"] += 1
            done["down"] = tenant_scripts_plus(location, done["ours"], done["down"])
            seconds = ours.migrate("--jobs", "2", TENANT_MIGRATIONS=str(location))
            column = f"bench_note_{done['ours']}"
            if columns_named(ours.url, column) != TENANTS + 3:  # and the template
                raise BenchError(f"ours: {column} missing from some schemas")
            return seconds

        def theirs_additive() -> float:
            done["theirs"] += 1
            column = f"bench_note_{done['theirs']}"
            additive_migration(theirs.project, column)
            seconds = theirs.manage("migrate_schemas", "--executor=multiprocessing")
            if columns_named(theirs.url, column) != TENANTS + 2:
                raise BenchError(f"theirs: {column} missing from some schemas")
            return seconds

        values, base = bench.interleave(ours_additive, theirs_additive, runs=RUNS, warmup=0)
        bench.figure(
            f"one additive migration, {TENANTS + 2} schemas, 2 processes (whole command)",
            values,
            "s",
            baseline=base,
            baseline_name="django-tenants: migrate_schemas --executor=multiprocessing, 2 processes",
            ratio_at_most=0.5,
            note=setting,
        )


if __name__ == "__main__":
    main()
