"""Schemathesis against the OpenAPI document of a territory's host, with a key of every scope:
generated requests, valid and invalid, never get a server error nor an answer the document does
not describe (status, content type, headers, body schema)."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from sqlalchemy import text

from core.extensions import db
from ingest.reference.communes import load_communes
from tenants.provisioning import TenantSpec, create_tenant
from tests.listing_api_helpers import new_key
from tests.support import drop_tenants, entitle, host, unique_slug

#: Random requests per operation and mode: with the schema's own examples and the boundary
#: values, about 40 s for the whole document on 2 CPUs.
EXAMPLES = 25
#: The statuses that refuse a request breaking the document: schemathesis' own, and ours for a
#: batch over 1,000 items (413) and a stale ETag (412).
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429, "5xx"]


@pytest.fixture(scope="module")
def territory(app):
    """Saint-Flour with the Cantal's communes, its key allowed far more requests than the run
    makes (the rate limit is checked by its own test)."""
    with app.app_context():
        load_communes(["15"])
        tenant = create_tenant(TenantSpec(unique_slug(), "Saint-Flour", "commune", "15187"))
        entitle(tenant)
        db.session.commit()
        ref = tenant.ref()
    previous = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "100000/minute"
    yield ref, new_key(app, ref)
    app.config["API_RATE_LIMIT"] = previous
    drop_tenants([ref.slug])
    with app.app_context():
        db.session.execute(text("DELETE FROM communes WHERE departement = '15'"))
        db.session.commit()


# Hypothesis warns when it describes a 1,000-item bulk body; the warning is no failure.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_the_api_keeps_its_documented_contract(app, territory):
    """Schemathesis' own engine, as its command line runs it: the schema's examples, its
    boundary values (coverage), random valid and invalid requests (fuzzing), every check but
    two: `positive_data_acceptance` expects any schema-valid body to be accepted, where a
    listing must also name a commune that exists, in the territory (422 otherwise), and
    `ignored_auth`, whose probe the WSGI transport of schemathesis 4.32 cannot send (it passes
    `max_redirects` to Werkzeug): `test_every_operation_needs_a_key` does its work."""
    ref, key = territory
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261207,  # the same requests on every run
            "headers": {
                "Host": host(ref),
                "Authorization": f"Bearer {key}",
                # The WSGI client would hand the checks a compressed body; HTTP clients decode.
                "Accept-Encoding": "identity",
            },
            "generation": {"max-examples": EXAMPLES, "database": "none", "no-shrink": True},
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "negative_data_rejection": {"expected-statuses": REFUSALS},
                "ignored_auth": {"enabled": False},
            },
            "phases": {"stateful": {"enabled": False}},
            "cache": {"enabled": False},  # nothing kept between runs (nor written in the tree)
            # The boundary values of every field are requested once, on PUT, valid ones only;
            # PATCH and bulk bodies are the same fields, fuzzed (about 40 s for the document).
            "operations": [
                {
                    "include-operation-id": "putListing",
                    "phases": {"coverage": {"generation": {"mode": "positive"}}},
                },
                {
                    "include-operation-id": ["patchListing", "bulkUpsert"],
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=config, headers={"Host": host(ref)}
    )
    failures, tested = [], set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            for checks in event.recorder.checks.values():
                failures += [
                    f"{event.recorder.label}: {check.failure_info.failure.title}\n"
                    f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
                    for check in checks
                    if check.status == Status.FAILURE
                ]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            error = event.value if isinstance(event, events.NonFatalError) else event.exception
            failures.append(f"{getattr(event, 'label', 'engine')}: {error!r}")
    assert not failures, "\n\n".join(sorted(set(failures)))
    assert {"PUT /api/v1/listings/{kind}/{external_id}", "POST /api/v1/listings/bulk"} <= tested


def test_every_operation_needs_a_key(app, territory):
    """What `ignored_auth` checks: every operation the document secures refuses a request
    without a key, or with another's, before looking at anything else."""
    ref, key = territory
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json", headers={"Host": host(ref)}).get_json()
    secured = [
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "patch", "delete", "post")
        and operation.get("security", spec["security"])
    ]
    assert len(secured) >= 6
    for method, path in secured:
        url = path.replace("{kind}", "real_estate").replace("{external_id}", "R-1")
        for authorization in (None, f"Bearer {key[:-4]}AAAA", "Basic dXNlcjpwYXNz"):
            headers = {"Host": host(ref)}
            if authorization:
                headers["Authorization"] = authorization
            response = client.open(url, method=method.upper(), headers=headers, json={})
            assert response.status_code == 401, (method, path, authorization)
            assert response.mimetype == "application/problem+json"
