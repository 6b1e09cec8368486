"""API bridge benchmark: `POST /api/v1/listings/bulk` with 1 000 real-estate items (target ≤ 1 s).

Runs through the WSGI app (Flask test client: routing, key, rate limit, JSON, validation,
location, upsert, log, commit) against its own database (`BENCH_API_DATABASE_URL`, default
…/vivrau_bench_api), made afresh. The baseline is the same write without HTTP: `service.save`
of the same items, in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, drop_database, env_for  # noqa: E402

BENCH_URL = os.environ.get(
    "BENCH_API_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_bench_api"
)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ITEMS = 1000
TARGET_S = 1.0


def items(prefix: str, price: int = 149000) -> list[dict]:
    """1 000 varied listings around Saint-Flour; one in five without coordinates."""
    out = []
    for i in range(ITEMS):
        item = {
            "kind": "real_estate",
            "external_id": f"{prefix}-{i:04d}",
            "title": f"Maison de bourg n° {i}",
            "description": "Belle maison en pierre, jardin clos, proche des commerces. " * 3,
            "commune_insee": "15187",
            "address": f"{i} rue des Lacs",
            "postcode": "15100",
            "transaction": "sale" if i % 3 else "rent",
            "property_type": ("house", "flat", "land")[i % 3],
            "price": price + i,
            "living_area_m2": 60 + i % 90,
            "rooms": 1 + i % 7,
            "energy_class": "ABCDEFG"[i % 7],
            "furnished": bool(i % 2),
            "published_on": "2026-11-02",
        }
        if i % 5:
            item["latitude"] = round(45.02 + (i % 40) * 0.0005, 6)
            item["longitude"] = round(3.08 + (i % 25) * 0.0008, 6)
        out.append(item)
    return out


def main() -> None:
    env = env_for(BENCH_URL)
    os.environ.update(env)
    create_database(BENCH_URL)
    from flask_migrate import upgrade

    from application import create_app
    from core.extensions import bind_migrations, db
    from core.tenancy import tenant_scope
    from ingest.listings.apikeys import create_key
    from ingest.listings.service import save
    from ingest.reference.communes import load_communes
    from tenants.provisioning import TenantSpec, create_tenant

    app = create_app(
        {"DATABASE_URL": BENCH_URL, "REDIS_URL": env["REDIS_URL"], "LOG_LEVEL": "WARNING"}
    )
    bind_migrations(app)
    try:
        with app.app_context():
            upgrade()
            load_communes(["15"])
            ref = create_tenant(TenantSpec("bench_api", "Saint-Flour", "commune", "15187")).ref()
            db.session.commit()
            with tenant_scope(ref):
                _key, plaintext = create_key("bench", ["listings:read", "listings:write"])
                db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {plaintext}"}
        base = "http://bench-api.vivrau.localhost"

        def post(batch, expected):
            body = json.dumps({"items": batch})
            started = time.perf_counter()
            response = client.post(
                "/api/v1/listings/bulk",
                data=body,
                content_type="application/json",
                headers=headers,
                base_url=base,
            )
            elapsed = time.perf_counter() - started
            summary = response.get_json()["summary"]
            if response.status_code != 200 or summary[expected] != ITEMS:
                raise SystemExit(f"unexpected answer {response.status_code}: {summary}")
            return elapsed

        def direct(batch):
            """The baseline: the same write in-process, without HTTP, JSON or the key."""
            batch = [{k: v for k, v in i.items() if k != "kind"} for i in batch]
            with app.app_context(), tenant_scope(ref):
                started = time.perf_counter()
                saved = save("real_estate", batch, source="api")
                db.session.commit()
                elapsed = time.perf_counter() - started
                assert saved.outcome.created == ITEMS, saved.errors
            return elapsed

        post(items("warm"), "created")
        direct(items("warmbase"))
        created, baseline = [], []
        for r in range(ROUNDS):  # interleaved, so both see the same table size
            created.append(post(items(f"new{r}"), "created"))
            baseline.append(direct(items(f"base{r}")))
        unchanged = [post(items(f"new{r}"), "unchanged") for r in range(ROUNDS)]
        updated = [post(items(f"new{r}", price=99000), "updated") for r in range(ROUNDS)]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(BENCH_URL)

    base_median = statistics.median(baseline)
    print(f"POST /api/v1/listings/bulk, {ITEMS} real-estate items, median of {ROUNDS} rounds")
    for label, times in (
        ("new items (created)", created),
        ("same items again (unchanged)", unchanged),
        ("changed items (updated)", updated),
    ):
        median = statistics.median(times)
        verdict = "ok" if median <= TARGET_S else "OVER TARGET"
        print(
            f"  {label:<30} {median:6.3f} s  ({ITEMS / median:7.0f} items/s; target ≤ "
            f"{TARGET_S:.1f} s: {verdict}; ×{median / base_median:.2f} of the baseline)"
        )
    print(f"  baseline: service.save without HTTP  {base_median:6.3f} s")


if __name__ == "__main__":
    main()
