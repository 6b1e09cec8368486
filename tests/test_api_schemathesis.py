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
from tests.support import drop_tenants, host, unique_slug

#: Examples per operation: with the schema's own examples and its boundary values, about 40 s
#: for the whole document on 2 CPUs.
EXAMPLES = 25


@pytest.fixture(scope="module")
def territory(app):
    """Saint-Flour with the Cantal's communes, its key allowed far more requests than the run
    makes (the rate limit is checked by its own test)."""
    with app.app_context():
        load_communes(["15"])
        ref = create_tenant(TenantSpec(unique_slug(), "Saint-Flour", "commune", "15187")).ref()
    previous = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "100000/minute"
    yield ref, new_key(app, ref)
    app.config["API_RATE_LIMIT"] = previous
    drop_tenants([ref.slug])
    with app.app_context():
        db.session.execute(text("DELETE FROM communes WHERE departement = '15'"))
        db.session.commit()


def test_the_api_keeps_its_documented_contract(app, territory):
    """Schemathesis' own engine, as its command line runs it: the schema's examples, its
    boundary values (coverage), random valid and invalid requests (fuzzing), every check but
    one: `positive_data_acceptance` expects any schema-valid body to be accepted, where a
    listing must also name a commune that exists, in the territory (422 otherwise)."""
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
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "checks": {"positive_data_acceptance": {"enabled": False}},
            "phases": {"stateful": {"enabled": False}},
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
            failures.append(
                f"{getattr(event, 'label', 'engine')}: {getattr(event, 'value', None) or event.exception!r}"
            )
    assert not failures, "\n\n".join(sorted(set(failures)))
    assert {"PUT /api/v1/listings/{kind}/{external_id}", "POST /api/v1/listings/bulk"} <= tested
