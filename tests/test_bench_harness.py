"""The benchmarks' harness tells the truth: a missed target or a crash fails, nothing is left."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

from sqlalchemy_utils import database_exists

from core.config import ROOT, database_url
from core.databases import ensure_database
from tests.support import TEST_DATABASE_URL, TEST_REDIS_URL

PROLOGUE = """
import sys
from pathlib import Path
from redis import Redis
from bench.harness import Bench
with Bench("probe") as bench:
    url = bench.database()
    Path(sys.argv[1]).write_text(url)
    Redis.from_url(bench.redis_url).set("probe", "left")
"""


def run_bench(tmp_path, body: str):
    """`body` run inside a benchmark that made a database and wrote to its Redis db; the
    process, its JSON record and the database's URL."""
    code = PROLOGUE + textwrap.indent(textwrap.dedent(body), "    ")
    env = os.environ | {
        "BENCH_RESULTS": str(tmp_path),
        "BENCH_DATABASE_URL": TEST_DATABASE_URL.rsplit("/", 1)[0],
        "BENCH_REDIS_URL": TEST_REDIS_URL.rsplit("/", 1)[0],
        "BENCH_REDIS_DB": TEST_REDIS_URL.rsplit("/", 1)[1],
    }
    url_file = tmp_path / "url"
    done = subprocess.run(
        [sys.executable, "-c", code, str(url_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    record = json.loads((tmp_path / "probe.json").read_text())
    return done, record, url_file.read_text()


def test_a_met_target_passes_and_the_database_is_dropped(tmp_path, redis_conn):
    done, record, url = run_bench(
        tmp_path,
        """
        values, base = bench.interleave(lambda: 2.0, lambda: 4.0, runs=3)
        bench.figure("half as slow", values, "s", baseline=base, ratio_at_most=0.6, at_most=3)
        """,
    )
    assert done.returncode == 0, done.stderr
    (figure,) = record["figures"]
    assert figure["passed"] is True and figure["ratio"] == 0.5
    assert figure["values"] == [2.0, 2.0, 2.0] and figure["baseline"] == [4.0, 4.0, 4.0]
    assert "min 2  median 2  max 2 s over 3 runs" in done.stdout
    assert not database_exists(database_url(url))
    assert redis_conn.get("probe") is None


def test_a_missed_target_exits_non_zero_and_says_so(tmp_path, redis_conn):
    done, record, url = run_bench(
        tmp_path,
        """
        bench.figure("throughput", bench.repeat(lambda: 10.0), "rows/s", at_least=20)
        bench.figure("for the record", [1.0], "s")
        """,
    )
    assert done.returncode == 1
    assert "target ≥ 20 rows/s: MISSED" in done.stdout
    assert "1 target(s) missed" in done.stderr
    assert [f["passed"] for f in record["figures"]] == [False, None]
    assert not database_exists(database_url(url))


def test_a_crash_exits_2_without_a_traceback_and_cleans_up(tmp_path, redis_conn):
    done, record, url = run_bench(tmp_path, "raise RuntimeError('the server did not answer')")
    assert done.returncode == 2
    assert "could not finish: the server did not answer" in done.stderr
    assert "Traceback" not in done.stderr
    assert "RuntimeError" in (tmp_path / "probe.error.txt").read_text()
    assert record["crashed"] is True
    assert not database_exists(database_url(url))
    assert redis_conn.get("probe") is None


def test_a_killed_benchmarks_database_is_dropped_by_the_next_one(tmp_path, redis_conn):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    orphan = f"{TEST_DATABASE_URL.rsplit('/', 1)[0]}/vivrau_bench_probe_x_{gone}"
    ensure_database(orphan)
    done, _, _ = run_bench(tmp_path, "pass")
    assert done.returncode == 0, done.stderr
    assert not database_exists(database_url(orphan))


def test_the_peers_models_say_every_primary_key_of_ours(app):
    """The Django peer is generated from the tenant metadata: a table whose primary key spans
    several columns gets a CompositePrimaryKey, never two fields marked primary_key."""
    from bench.peer.project import sources  # noqa: PLC0415 - the peer's generator, bench only
    from core.db import TenantBase  # noqa: PLC0415

    models = sources()["territory/models.py"]
    classes = re.split(r"\n\n\nclass ", models)[1:]
    by_table = {re.search(r"db_table = '([^']+)'", c).group(1): c for c in classes}
    for table in TenantBase.metadata.sorted_tables:
        source = by_table[table.name]
        key = [c.name for c in table.primary_key.columns]
        marked = source.count("primary_key=True")
        if len(key) > 1:
            names = ", ".join(repr(n) for n in key)
            assert marked == 0 and f"pk = models.CompositePrimaryKey({names})" in source, table
        else:
            assert marked == 1 and "CompositePrimaryKey" not in source, table
