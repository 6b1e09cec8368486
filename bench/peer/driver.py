"""Run inside the peer's virtualenv, in its project: `python driver.py create PREFIX START COUNT`
creates COUNT tenants the way django-tenants users do (the tenant model's save, with
auto_create_schema, then its domain) and prints each one's seconds as a JSON list."""

import json
import sys
import time

import django

django.setup()

from customers.models import Client, Domain  # noqa: E402 - after django.setup()


def create(prefix: str, start: int, count: int) -> list[float]:
    seconds = []
    for i in range(start, start + count):
        began = time.perf_counter()
        client = Client(schema_name=f"{prefix}{i:04d}", name=f"Commune {i}")
        client.save()
        Domain(domain=f"{prefix}{i:04d}.peer.localhost", tenant=client, is_primary=True).save()
        seconds.append(time.perf_counter() - began)
    return seconds


if __name__ == "__main__":
    command, prefix, start, count = sys.argv[1:5]
    if command != "create":
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(create(prefix, int(start), int(count))))
