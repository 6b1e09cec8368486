"""Helpers of the listings API tests: a territory's API seen by one key, a valid house, problem
checks."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.apikeys import create_key
from tests.support import host

READ, WRITE = "listings:read", "listings:write"


def house(external_id="R-1", **over):
    return {
        "external_id": external_id,
        "title": "Maison de bourg",
        "commune_insee": "15187",
        "transaction": "sale",
        "property_type": "house",
        "price": 149000,
        "latitude": 45.0337,
        "longitude": 3.0928,
    } | over


class Client:
    """A territory's API seen by one key."""

    def __init__(self, app, ref, key: str | None):
        self.client, self.base = app.test_client(), f"http://{host(ref)}"
        self.key = key

    def call(self, method, path, *, headers=None, **kwargs):
        headers = dict(headers or {})
        if self.key is not None:
            headers.setdefault("Authorization", f"Bearer {self.key}")
        return self.client.open(path, method=method, base_url=self.base, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)


def new_key(app, ref, scopes=(READ, WRITE)) -> str:
    with app.app_context(), tenant_scope(ref):
        _key, plaintext = create_key("Logiciel de test", scopes)
        db.session.commit()
    return plaintext


def is_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].split("#")[1].startswith("problem-") and body["instance"]
    if field is not None:
        assert field in body["errors"], body
    return body


def in_territory(app, ref, statement, **params):
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(text(statement), params).all()
        db.session.rollback()
    return rows


@pytest.fixture
def territory(app, cantal, make_tenant):
    """A commune territory of the Cantal."""
    return make_tenant()


@pytest.fixture
def api(app, territory):
    """Its API, seen by a key that reads and writes."""
    return Client(app, territory, new_key(app, territory))


def job(external_id="J-1", **over):
    """A valid job offer in Saint-Flour (texts, as a file or a JSON body gives them)."""
    return {
        "external_id": external_id,
        "title": "Boulanger",
        "commune_insee": "15187",
        "rome_code": "D1102",
        "contract_type": "CDI",
    } | over
