"""Billing-run benchmark: `flask billing run` for 2 000 customers on a quarter date (≤ 60 s).

Runs against its own database (`BENCH_DATABASE_URL`, default …/vivrau_bench_billing), made
afresh: 2 000 customers (communes, EPCIs, départements and PVD umbrellas of four towns) whose
contracts all reach a quarter on the run date; the instalments before it are issued by an
untimed catch-up run the day before. Baselines measured in the same run: the same run again
(nothing left to issue: loading and scheduling only) and the bare INSERT of as many invoices
and lines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FLASK, ROOT, create_database, drop_database, env_for  # noqa: E402

BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench_billing"
)
ENV = env_for(BENCH_URL)
RUN_DATE = "2027-04-01"
TARGET_S = 60.0

SEED = """
INSERT INTO billing_customers (legal_name, siret, address_line1, postcode, city, billing_email,
                               vat_rate_bp)
SELECT 'Collectivité ' || n, '21150187000011', n || ' place de la Mairie', '15100', 'Saint-Flour',
       'compta' || n || '@example.org', 2000
FROM generate_series(1, {n}) AS n;

-- Three in four start 15 months before the run date (year 2, quarter 2), the rest 27 months
-- before (year 3, quarter 1): every contract has a quarterly invoice due that day.
INSERT INTO billing_contracts (customer_id, kind, start_on, go_live_on, end_on, price_date)
SELECT c.id,
       (ARRAY['commune', 'epci', 'departement', 'umbrella'])[c.id % 4 + 1]::billing_contract_kind,
       s.start, s.start + interval '2 months', s.start + interval '5 years', DATE '2026-01-01'
FROM billing_customers c,
     LATERAL (SELECT CASE WHEN c.id % 4 = 3 THEN DATE '2025-01-01' ELSE DATE '2026-01-01' END
              AS start) s;

INSERT INTO billing_contract_options (contract_id, item, start_on)
SELECT k.id, o.item::billing_item, k.start_on
FROM billing_contracts k, (VALUES ('option1'), ('option2'), ('option3')) AS o(item)
WHERE k.id % 3 <> 0 OR o.item = 'option2';

INSERT INTO billing_umbrella_members (contract_id, name, tier, joined_on)
SELECT k.id, 'Membre ' || m, 'epci', k.start_on
FROM billing_contracts k, generate_series(1, 4) AS m
WHERE k.kind = 'umbrella';
"""


def flask(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([*FLASK, *args], env=ENV, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout.strip()


def bare_inserts(count: int) -> float:
    """The database floor: as many invoices with two lines each, inserted in one transaction."""
    import psycopg

    rows = [(f"BASE-{n:06d}", n) for n in range(count)]
    started = time.perf_counter()
    with psycopg.connect(BENCH_URL) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE base_invoices (id serial, number text, total bigint)")
        cur.execute("CREATE TEMP TABLE base_lines (invoice_id int, label text, amount bigint)")
        cur.executemany("INSERT INTO base_invoices (number, total) VALUES (%s, %s)", rows)
        cur.executemany(
            "INSERT INTO base_lines VALUES (%s, %s, %s)",
            [(n, "Abonnement", n) for n in range(count) for _ in range(2)],
        )
        conn.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    import psycopg

    create_database(BENCH_URL)
    try:
        flask("db", "upgrade")
        with psycopg.connect(BENCH_URL) as conn:
            conn.execute(SEED.format(n=args.customers))
        catch_up, out = flask("billing", "run", "--date", "2027-03-31", "--no-reminders")
        print(f"catch-up before the quarter (untimed target): {out} in {catch_up:.1f} s")
        elapsed, out = flask("billing", "run", "--date", RUN_DATE)
        issued = int(out.split()[0])
        again, out_again = flask("billing", "run", "--date", RUN_DATE)
        assert out_again.startswith("0 invoice"), out_again
        base = bare_inserts(issued)
        verdict = "ok" if elapsed <= TARGET_S else "OVER TARGET"
        print(
            f"billing run on {RUN_DATE}: {issued} invoices for {args.customers} customers in "
            f"{elapsed:.1f} s (target ≤ {TARGET_S:.0f} s: {verdict}); {issued / elapsed:.0f}/s"
        )
        print(
            f"baselines: the same run again (nothing to issue) {again:.1f} s, ratio "
            f"{elapsed / again:.1f}×; bare INSERT of {issued} invoices + {2 * issued} lines "
            f"{base:.2f} s, ratio {elapsed / base:.1f}×"
        )
    finally:
        if not args.keep:
            drop_database(BENCH_URL)


if __name__ == "__main__":
    main()
