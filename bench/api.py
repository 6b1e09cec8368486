"""API bridge benchmark: `POST /api/v1/listings/bulk` with 1 000 real-estate items (target ≤ 1 s).

Runs through the WSGI app (Flask test client: routing, key, rate limit, JSON, validation,
location, upsert, log, commit) on its own database. Each case's baseline is the same write
without HTTP, JSON or the key — `service.save` of as many items with the same outcome (created,
unchanged, updated) — run alternately with it.

    .venv/bin/python -m bench.api
"""

from __future__ import annotations

import itertools
import json
import os
import time

from flask_migrate import upgrade

from application import create_app
from bench.common import grant_site
from bench.harness import Bench, BenchError
from core.extensions import bind_migrations, db
from core.tenancy import tenant_scope
from ingest.listings.apikeys import create_key
from ingest.listings.service import save
from ingest.reference.communes import load_communes
from tenants.provisioning import TenantSpec, create_tenant

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
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
    with Bench("api") as bench:
        url = bench.database()
        env = bench.env(url)
        app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": env["REDIS_URL"], "LOG_LEVEL": "WARNING"}
        )
        bind_migrations(app)
        with app.app_context():
            upgrade()
            load_communes(["15"])
            ref = create_tenant(TenantSpec("bench_api", "Saint-Flour", "commune", "15187")).ref()
            db.session.commit()
            with tenant_scope(ref):
                _key, plaintext = create_key("bench", ["listings:read", "listings:write"])
                db.session.commit()
        grant_site(bench, env, "bench_api")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {plaintext}"}

        def post(batch: list[dict], expected: str) -> float:
            body = json.dumps({"items": batch})
            started = time.perf_counter()
            response = client.post(
                "/api/v1/listings/bulk",
                data=body,
                content_type="application/json",
                headers=headers,
                base_url="http://bench-api.vivrau.localhost",
            )
            elapsed = time.perf_counter() - started
            summary = (response.get_json() or {}).get("summary", {})
            if response.status_code != 200 or summary.get(expected) != ITEMS:
                raise BenchError(f"unexpected answer {response.status_code}: {summary}")
            return elapsed

        def direct(batch: list[dict], expected: str) -> float:
            """The same write in-process, without HTTP, JSON or the key."""
            batch = [{k: v for k, v in i.items() if k != "kind"} for i in batch]
            with app.app_context(), tenant_scope(ref):
                started = time.perf_counter()
                saved = save("real_estate", batch, source="api")
                db.session.commit()
                elapsed = time.perf_counter() - started
            if getattr(saved.outcome, expected) != ITEMS:
                raise BenchError(f"service.save: {saved.outcome} ({saved.errors[:3]})")
            return elapsed

        # Each case goes over the same sets of items, one per run: created, then the same again,
        # then changed.
        for expected in ("created", "unchanged", "updated"):
            price = 99000 if expected == "updated" else 149000
            ours, theirs = itertools.count(), itertools.count()
            values, base = bench.interleave(
                lambda e=expected, p=price, n=ours: post(items(f"api{next(n)}", p), e),
                lambda e=expected, p=price, n=theirs: direct(items(f"save{next(n)}", p), e),
                runs=RUNS,
            )
            bench.figure(
                f"bulk POST of {ITEMS} items, {expected}",
                values,
                "s",
                at_most=TARGET_S,
                baseline=base,
                baseline_name=f"service.save of {ITEMS} items, {expected}, without HTTP",
                note="the ratio is what HTTP, JSON, the key and the rate limit add",
            )
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
