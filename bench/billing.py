"""Billing-run benchmark: `flask billing run` for 2 000 customers on a quarter date (≤ 60 s).

Runs on its own database: 2 000 customers (communes, EPCIs, départements and PVD umbrellas of
four towns) whose contracts all reach a quarter on the run date; the instalments before it are
issued by an untimed catch-up run the day before, and each timed run starts from a copy of that
database.
The baseline, run alternately: the bare INSERT of as many invoices and lines (the database's
floor). A second run on the same date must issue nothing.

    .venv/bin/python -m bench.billing
"""

from __future__ import annotations

import os
import time

import psycopg

from bench.harness import Bench, BenchError

RUN_DATE = "2027-04-01"
TARGET_S = 60.0
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "2000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

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

-- An umbrella contract's customer is an umbrella territory with four member towns from the
-- contract's start (registry rows only: billing reads nothing of their schemas).
INSERT INTO tenants (slug, name, kind, schema_name)
SELECT 'bench_umbrella_' || c.id, 'PVD ' || c.id, 'umbrella', 't_bench_umbrella_' || c.id
FROM billing_customers c JOIN billing_contracts k ON k.customer_id = c.id
WHERE k.kind = 'umbrella';

UPDATE billing_customers c SET tenant_id = t.id
FROM tenants t WHERE t.slug = 'bench_umbrella_' || c.id;

INSERT INTO tenants (slug, name, kind, schema_name)
SELECT 'bench_member_' || c.id || '_' || m, 'Membre ' || m, 'epci',
       't_bench_member_' || c.id || '_' || m
FROM billing_customers c JOIN billing_contracts k ON k.customer_id = c.id,
     generate_series(1, 4) AS m
WHERE k.kind = 'umbrella';

INSERT INTO memberships (umbrella_id, member_id, joined_on)
SELECT c.tenant_id, t.id, k.start_on
FROM billing_contracts k JOIN billing_customers c ON c.id = k.customer_id, tenants t
WHERE k.kind = 'umbrella'
  AND t.slug IN (SELECT 'bench_member_' || c.id || '_' || m FROM generate_series(1, 4) AS m);
"""


def bare_inserts(url: str, count: int) -> float:
    """The database floor: as many invoices with two lines each, inserted in one transaction."""
    rows = [(f"BASE-{n:06d}", n) for n in range(count)]
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
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
    with Bench("billing") as bench:
        seeded = bench.database("seeded")
        env = bench.env(seeded)
        bench.flask(env, "db", "upgrade")
        with psycopg.connect(seeded) as conn:
            conn.execute(SEED.format(n=CUSTOMERS))
        # The instalments before the quarter, issued once; every run starts from a copy of this.
        bench.flask(env, "billing", "run", "--date", "2027-03-31", "--no-reminders")
        issued: list[int] = []
        copies = iter(range(RUNS + 1))

        def billing_run() -> float:
            url = bench.database(f"run{next(copies)}", template=seeded)
            run_env = bench.env(url)
            elapsed, out = bench.flask_output(run_env, "billing", "run", "--date", RUN_DATE)
            issued.append(int(out.split()[0]))
            _, again = bench.flask_output(run_env, "billing", "run", "--date", RUN_DATE)
            if not again.startswith("0 invoice"):
                raise BenchError(f"a second run on {RUN_DATE} issued again: {again}")
            return elapsed

        values, base = bench.interleave(
            billing_run, lambda: bare_inserts(seeded, issued[-1] if issued else CUSTOMERS),
            runs=RUNS,
        )  # fmt: skip
        bench.figure(
            f"billing run on a quarter date, {CUSTOMERS} customers",
            values,
            "s",
            at_most=TARGET_S,
            baseline=base,
            baseline_name=f"bare INSERT of {issued[-1]} invoices and twice as many lines",
            note=f"{issued[-1]} invoices issued a run; each run on a copy of the same database",
        )


if __name__ == "__main__":
    main()
