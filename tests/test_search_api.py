"""POST /api/v1/search and /search/cell over HTTP: formats, problems naming the field, content
type, rate limit, headers, OpenAPI, and the compact answer's size for a département."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from sqlalchemy import insert, text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.criteria import CRITERIA
from ingest.reference.models import CellProfile
from sites.search import freshness, matrix
from sites.search.presets import PRESETS
from sites.search.query import parse_query
from tests.support import host
from tests.test_search_engine import CELLS, PROFILES, QUERY, cell, place, profile


@pytest.fixture
def hand(ctx, make_tenant):
    ref = make_tenant()
    place(ref, CELLS, commune="15187")
    profile({cell(c): v for c, v in PROFILES.items()})
    yield ref
    db.session.rollback()
    db.session.execute(text("DELETE FROM cell_profiles WHERE departement = '00'"))
    db.session.commit()


def post(client, ref, path, body, **kwargs):
    return client.post(
        path,
        base_url=f"http://{host(ref)}",
        data=json.dumps(body) if not isinstance(body, bytes | str) else body,
        content_type=kwargs.pop("content_type", "application/json"),
        **kwargs,
    )


def test_search_full_and_compact(client, hand):
    response = post(client, hand, "/api/v1/search", QUERY)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["counts"] == {"green": 2, "orange": 1, "yellow": 2}
    assert body["precise"] is True and body["total"] == 5
    assert [c["status"] for c in body["cells"]] == ["green", "green", "orange", "yellow", "yellow"]
    assert body["cells"][2] == {
        "id": CELLS[1],
        "status": "orange",
        "score": 0.667,
        "failed": [{"id": "gp_km", "value": 12.0, "threshold": 10.0}],
    }

    assert "scores" not in post(client, hand, "/api/v1/search?format=compact", QUERY).get_json()
    compact = post(client, hand, "/api/v1/search?format=compact&scores=1", QUERY).get_json()
    assert compact == {
        "version": body["version"],
        "counts": body["counts"],
        "precise": True,
        "total": 5,
        "statuses": "goyyg",
        "scores": [100, 67, 98, 0, 42],
    }


def test_invalid_criteria_answer_400_naming_the_field(client, hand):
    body = {
        "criteria": [
            {"id": "gp_km", "threshold": 10, "importance": "must"},
            {"id": "nope_km"},
            {"id": "bank_km", "threshold": "far"},
            {"id": "gp_km", "importance": "nice"},
        ]
    }
    response = post(client, hand, "/api/v1/search", body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert set(problem["errors"]) == {"criteria[1].id", "criteria[2].threshold", "criteria[3].id"}
    english = post(
        client, hand, "/api/v1/search", body, headers={"Accept-Language": "en"}
    ).get_json()
    assert english["errors"]["criteria[1].id"] == ["Unknown criterion nope_km."]
    assert english["errors"]["criteria[2].threshold"] == ["Must be a number."]

    response = post(client, hand, "/api/v1/search?format=xml", QUERY)
    assert response.status_code == 400 and "format" in response.get_json()["errors"]
    response = post(client, hand, "/api/v1/search", b"{criteria: 1}")
    assert response.status_code == 400 and response.get_json()["detail"]
    # Deeper than Python's JSON parser goes: a 400 saying so, not a RecursionError.
    response = post(client, hand, "/api/v1/search", b"[" * 3000 + b"]" * 3000)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_only_json_is_accepted(client, hand):
    response = post(
        client,
        hand,
        "/api/v1/search",
        "criteria=gp_km",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert post(client, hand, "/api/v1/search", "{}", content_type="text/plain").status_code == 415
    response = post(client, hand, "/api/v1/search", {"criteria": [], "x": "a" * 20_000})
    assert response.status_code == 413


def test_cell_panel(client, hand, cantal):
    body = QUERY | {"cell": CELLS[1]}
    response = post(client, hand, "/api/v1/search/cell", body, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)
    evaluation = response.get_json()
    assert evaluation["status"] == "orange"
    assert evaluation["communes"][0] == {"insee": "15187", "name": "Saint-Flour"}
    assert evaluation["criteria"][0]["label"] == "Nearest GP"
    assert [c["ok"] for c in evaluation["criteria"]] == [False, True, False, True]

    outside = post(client, hand, "/api/v1/search/cell", QUERY | {"cell": cell(40, 40)})
    assert outside.status_code == 404 and "cell" in outside.get_json()["errors"]
    missing = post(client, hand, "/api/v1/search/cell", QUERY)
    assert missing.status_code == 400 and "cell" in missing.get_json()["errors"]


def test_rate_limit_per_address(app, client, hand):
    app.config["SEARCH_RATE_LIMIT"] = "3/minute"
    try:
        codes = [post(client, hand, "/api/v1/search", QUERY).status_code for _ in range(4)]
        other = post(
            client, hand, "/api/v1/search", QUERY, environ_base={"REMOTE_ADDR": "10.0.0.9"}
        )
    finally:
        app.config["SEARCH_RATE_LIMIT"] = "120/minute"
    assert codes == [200, 200, 200, 429]
    assert other.status_code == 200


def test_presets_and_openapi(client, hand):
    response = client.get("/api/v1/search/presets", base_url=f"http://{host(hand)}")
    body = response.get_json()
    assert [p["id"] for p in body["presets"]] == [p.id for p in PRESETS]
    for preset in body["presets"]:  # every preset is a valid search
        parse_query({"criteria": preset["criteria"]})
    assert {c["id"] for c in body["with_children"]} >= {"primary_school_km", "college_km"}

    spec = client.get("/api/v1/openapi.json", base_url=f"http://{host(hand)}").get_json()
    assert {"/api/v1/search", "/api/v1/search/cell", "/api/v1/search/presets"} <= set(spec["paths"])
    assert spec["paths"]["/api/v1/search"]["post"]["security"] == []
    assert "SearchResultCompact" in spec["components"]["schemas"]


def test_compact_answer_of_a_departement_is_small(client, ctx, cantal, make_tenant):
    ref = make_tenant(kind="departement", code="15")
    db.session.rollback()
    with tenant_scope(ref):
        version, cells = matrix.cell_order(ref)
        db.session.rollback()
    assert len(cells) > 5000
    rng = np.random.default_rng(0)
    stored = [c for c in CRITERIA if c.stored]
    rows = [
        {"cell_id": c, "departement": "00"}
        | {
            k.id: float(v)
            for k, v in zip(
                stored, rng.uniform(0, 2 * np.array([k.threshold for k in stored])), strict=True
            )
        }
        for c in cells
    ]
    db.session.execute(insert(CellProfile), rows)
    db.session.commit()
    freshness.profiles_changed()
    try:
        body = {
            "criteria": [
                {"id": c.id, "threshold": c.threshold, "importance": "must" if i < 3 else "nice"}
                for i, c in enumerate(CRITERIA)
            ]
        }
        response = post(
            client,
            ref,
            "/api/v1/search?format=compact&scores=1",
            body,
            headers={"Accept-Encoding": "gzip"},
        )
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert len(response.data) <= 20 * 1024, len(response.data)
        result = json.loads(gzip.decompress(response.data))
        assert len(result["statuses"]) == len(cells) and len(result["scores"]) == len(cells)
        assert set(result["statuses"]) == {"g", "o", "y"}
        assert result["version"] == version
    finally:
        db.session.rollback()
        db.session.execute(text("DELETE FROM cell_profiles WHERE departement = '00'"))
        db.session.commit()
