"""Tenancy benchmark: provisioning, migration fan-out over 500 schemas, resolution overhead.

Runs against its own database (`BENCH_DATABASE_URL`, default …/vivrau_bench), made afresh.
Each figure is printed with its target and its ratio to a baseline measured in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FLASK, ROOT, create_database, drop_database, env_for  # noqa: E402

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench")
N_SCHEMAS = int(os.environ.get("BENCH_SCHEMAS", "500"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
ENV = env_for(BENCH_URL)

ADDITIVE = '''"""Bench-only additive revision."""
import sqlalchemy as sa
from alembic import op

revision = "b001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("pages", sa.Column("bench_note", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("pages", "bench_note")
'''


def fresh_database() -> None:
    create_database(BENCH_URL)
    run(["db", "upgrade"])


def run(args, env=None) -> float:
    started = time.perf_counter()
    result = subprocess.run(FLASK + args, env=env or ENV, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def bench_provisioning() -> None:
    os.environ.update(ENV)
    from sqlalchemy import create_engine

    from application import create_app
    from core.config import database_url
    from core.extensions import db
    from tenants.provisioning import TenantSpec, create_tenant

    app = create_app({"DATABASE_URL": BENCH_URL, "LOG_LEVEL": "WARNING"})
    times = []
    with app.app_context():
        for i in range(20):
            started = time.perf_counter()
            create_tenant(TenantSpec(f"prov_{i:02d}", f"Commune {i}", "commune", "15187"))
            times.append(time.perf_counter() - started)
        db.session.remove()
    # baseline: the bare database work (a schema and one table) over the same connection kind
    engine = create_engine(database_url(BENCH_URL))
    base = []
    for i in range(20):
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "base_{i}"')
            conn.exec_driver_sql(f'CREATE TABLE "base_{i}".pages (id serial primary key, t text)')
        base.append(time.perf_counter() - started)
    with engine.begin() as conn:
        for i in range(20):
            conn.exec_driver_sql(f'DROP SCHEMA "base_{i}" CASCADE')
    engine.dispose()
    median, base_median = statistics.median(times), statistics.median(base)
    print(
        f"provisioning: median {median:.3f} s per territory over 20 (target ≤ 2 s); "
        f"bare CREATE SCHEMA + TABLE {base_median:.3f} s; ratio {median / base_median:.1f}×"
    )


def bench_migrate() -> None:
    print(f"creating {N_SCHEMAS} territory schemas…", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "mk.py"
        script.write_text(
            "from application import create_app\n"
            "from tenants.provisioning import TenantSpec, create_tenant\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    for i in range({N_SCHEMAS}):\n"
            "        create_tenant(TenantSpec(f'm_{i:03d}', f'Commune {i}', 'commune', '15187'))\n"
        )
        subprocess.run([str(ROOT / ".venv/bin/python"), str(script)], env=ENV, check=True, cwd=ROOT)
    baseline = min(run(["tenants", "list", "--json"]) for _ in range(3))
    noop = min(run(["tenants", "migrate"]) for _ in range(3))
    print(
        f"migrate, nothing to apply, {N_SCHEMAS + 20} schemas: {noop:.2f} s (target ≤ 10 s); "
        f"baseline `flask tenants list` {baseline:.2f} s; ratio {noop / baseline:.2f}×"
    )
    with tempfile.TemporaryDirectory() as tmp:
        location = Path(tmp) / "tenant"
        shutil.copytree(
            ROOT / "migrations" / "tenant", location, ignore=shutil.ignore_patterns("__pycache__")
        )
        from tenants.migrate import head

        (location / "versions" / "b001_bench.py").write_text(ADDITIVE.format(head=head()))
        env = dict(ENV, TENANT_MIGRATIONS=str(location))
        additive = run(["tenants", "migrate", "--jobs", "2"], env=env)
    print(
        f"migrate, one additive revision, {N_SCHEMAS + 20} schemas, --jobs 2: {additive:.1f} s "
        f"(target ≤ 120 s); ratio to the no-op run {additive / noop:.1f}×"
    )


def main() -> None:
    fresh_database()
    bench_provisioning()
    bench_migrate()
    drop_database(BENCH_URL)


if __name__ == "__main__":
    main()
