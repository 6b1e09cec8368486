"""The API bridge: keys and scopes, idempotent upserts, ETags, bulk, pagination, problems, docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from openapi_spec_validator import validate
from sqlalchemy import select, text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.api.representation import output_schema
from ingest.listings.apikeys import authenticate, revoke
from ingest.listings.declaration import KINDS, fields_of
from ingest.listings.models import ApiKey, Listing, ListingEvent
from tests import listing_api_helpers
from tests.listing_api_helpers import (
    READ,
    WRITE,
    Client,
    house,
    in_territory,
    is_problem,
    new_key,
)
from tests.support import host

territory = listing_api_helpers.territory
api = listing_api_helpers.api


# --- keys ----------------------------------------------------------------------------------------


def test_requests_need_a_live_key_of_this_territory(app, territory, make_tenant):
    other = make_tenant()
    path = "/api/v1/listings"
    missing = Client(app, territory, None).get(path)
    is_problem(missing, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    good = new_key(app, territory)
    wrong = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    assert is_problem(Client(app, territory, wrong).get(path), 401)
    assert is_problem(Client(app, territory, "not-a-key").get(path), 401)
    assert Client(app, territory, good).get(path).status_code == 200
    # Territory B's key names nothing on A's host.
    assert is_problem(Client(app, territory, new_key(app, other)).get(path), 401)
    with app.app_context(), tenant_scope(territory):
        key = authenticate(f"Bearer {good}")
        revoke(key)
        db.session.commit()
    revoked = Client(app, territory, good).get(path)
    assert is_problem(revoked, 401) and "invalid_token" in revoked.headers["WWW-Authenticate"]


def test_keys_are_hashed_and_record_their_last_use_once_a_minute(app, territory):
    plaintext = new_key(app, territory, (READ,))
    assert plaintext.startswith("vvk_") and len(plaintext.split("_", 2)[2]) >= 43
    reader = Client(app, territory, plaintext)
    assert reader.get("/api/v1/listings").status_code == 200
    with app.app_context(), tenant_scope(territory):
        key = db.session.execute(select(ApiKey)).scalar_one()
        assert plaintext not in key.secret_hash and len(key.secret_hash) == 64
        first = key.last_used_at
        assert first is not None and datetime.now(UTC) - first < timedelta(seconds=30)
        db.session.rollback()
    assert reader.get("/api/v1/listings").status_code == 200
    with app.app_context(), tenant_scope(territory):
        assert db.session.execute(select(ApiKey.last_used_at)).scalar_one() == first
        db.session.execute(text("UPDATE api_keys SET last_used_at = now() - interval '2 minutes'"))
        db.session.commit()
    assert reader.get("/api/v1/listings").status_code == 200
    with app.app_context(), tenant_scope(territory):
        assert db.session.execute(select(ApiKey.last_used_at)).scalar_one() > first
        db.session.rollback()


def test_scopes(app, territory):
    reader = Client(app, territory, new_key(app, territory, (READ,)))
    writer = Client(app, territory, new_key(app, territory, (WRITE,)))
    assert reader.get("/api/v1/listings").status_code == 200
    is_problem(reader.put("/api/v1/listings/real_estate/R-1", json=house()), 403)
    is_problem(reader.post("/api/v1/listings/bulk", json={"items": []}), 403)
    is_problem(reader.delete("/api/v1/listings/real_estate/R-1"), 403)
    assert writer.put("/api/v1/listings/real_estate/R-1", json=house()).status_code == 201
    is_problem(writer.get("/api/v1/listings/real_estate/R-1"), 403)


def test_cli_creates_lists_and_revokes_a_working_key(app, runner, territory):
    result = runner.invoke(
        args=["apikeys", "create", "--tenant", territory.slug, "--name", "SIRH",
              "--scope", READ, "--scope", WRITE]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plaintext = next(w for w in result.stdout.split() if w.startswith("vvk_"))
    api = Client(app, territory, plaintext)
    assert api.put("/api/v1/listings/real_estate/R-1", json=house()).status_code == 201
    listed = runner.invoke(args=["apikeys", "list", "--tenant", territory.slug])
    prefix = plaintext.split("_")[1]
    assert prefix in listed.output and "SIRH" in listed.output and plaintext not in listed.output
    revoked = runner.invoke(
        args=["apikeys", "revoke", "--tenant", territory.slug, "--prefix", prefix]
    )
    assert revoked.exit_code == 0, revoked.output
    is_problem(api.get("/api/v1/listings"), 401)
    unknown = runner.invoke(args=["apikeys", "create", "--tenant", "nowhere", "--name", "x",
                                  "--scope", READ])  # fmt: skip
    assert unknown.exit_code == 1 and "nowhere" in unknown.output


def test_cli_names_a_key_by_its_day_when_no_name_is_given(app, runner, territory):
    result = runner.invoke(args=["apikeys", "create", "--tenant", territory.slug,
                                 "--scope", READ])  # fmt: skip
    assert result.exit_code == 0, result.output
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert f'"Key of {today}"' in result.stdout
    with app.app_context(), tenant_scope(territory):
        assert db.session.execute(select(ApiKey.name)).scalar_one() == f"Key of {today}"
        db.session.rollback()
    missing = runner.invoke(args=["apikeys", "revoke", "--tenant", territory.slug,
                                  "--prefix", "nope"])  # fmt: skip
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert missing.output.strip().splitlines() == ["Error: no key with prefix 'nope' in "
                                                   f"{territory.slug}"]  # fmt: skip


def test_rate_limit_per_key(app, territory):
    first = Client(app, territory, new_key(app, territory))
    second = Client(app, territory, new_key(app, territory))
    previous = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "3/minute"
    try:
        for _ in range(3):
            assert first.get("/api/v1/listings").status_code == 200
        refused = first.get("/api/v1/listings")
        is_problem(refused, 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert second.get("/api/v1/listings").status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = previous


# --- single listings -----------------------------------------------------------------------------


def test_put_is_an_idempotent_upsert_and_logs_the_key(app, territory, api):
    path = "/api/v1/listings/real_estate/R-1"
    created = api.put(path, json=house())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(path) and created.headers["ETag"]
    assert body["kind"] == "real_estate" and body["status"] == "published"
    assert body["source"] == "api" and body["price"] == 149000
    assert (body["latitude"], body["longitude"]) == (45.0337, 3.0928)
    assert body["cell_id"].startswith("CRS3035RES1000m") and not body["location_approximate"]
    assert body["page_url"] == f"http://{host(territory)}/annonces/real_estate/R-1"
    assert "rome_code" not in body  # only the kind's own fields
    again = api.put(path, json=house())
    assert again.status_code == 200
    assert again.get_json()["updated_at"] == body["updated_at"]
    assert again.headers["ETag"] == created.headers["ETag"]
    changed = api.put(path, json=house(price=139000, latitude=None, longitude=None))
    assert changed.status_code == 200 and changed.headers["ETag"] != created.headers["ETag"]
    assert changed.get_json()["location_approximate"] and changed.get_json()["price"] == 139000
    read = api.get(path)
    assert read.status_code == 200 and read.get_json() == changed.get_json()
    events = in_territory(
        app, territory, "SELECT action, api_key_id FROM listing_events ORDER BY id"
    )
    key_id = in_territory(app, territory, "SELECT id FROM api_keys")[0][0]
    assert [tuple(e) for e in events] == [("create", key_id), ("update", key_id)]


def test_put_refuses_bad_bodies_naming_the_field(app, territory, api):
    path = "/api/v1/listings/real_estate/R-1"
    unknown = is_problem(api.put(path, json=house(colour="blue")), 422, "colour")
    assert unknown["errors"]["colour"]
    is_problem(api.put(path, json=house(price="cheap")), 422, "price")
    is_problem(api.put(path, json=house(rooms="5")), 422, "rooms")
    is_problem(api.put(path, json=house(transaction="swap")), 422, "transaction")
    is_problem(api.put(path, json=house(commune_insee="99999")), 422, "commune_insee")
    is_problem(api.put(path, json=house(external_id="R-2")), 422, "external_id")
    is_problem(api.put(path, json=house(kind="job")), 422, "kind")
    malformed = api.put(path, data='{"title": ', content_type="application/json")
    assert "ligne 1, colonne" in is_problem(malformed, 400)["detail"]  # French by default
    is_problem(api.put(path, data="title=x", content_type="text/plain"), 415)
    is_problem(api.put(path, json=[house()]), 400)
    is_problem(api.put("/api/v1/listings/castle/R-1", json=house()), 404)
    english = api.put(path, json=house(price="cheap"), headers={"Accept-Language": "en"})
    assert is_problem(english, 422)["errors"]["price"] == ["Must be a number."]
    assert in_territory(app, territory, "SELECT count(*) FROM listings")[0][0] == 0


def test_patch_merges_then_validates_the_whole(app, territory, api):
    path = "/api/v1/listings/real_estate/R-1"
    api.put(path, json=house(rooms=5, energy_class="D"))
    patched = api.patch(path, json={"price": 120000})
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert (body["price"], body["rooms"], body["energy_class"]) == (120000, 5, "D")
    assert (body["latitude"], body["longitude"]) == (45.0337, 3.0928)
    assert api.patch(path, json={"price": 120000}).get_json()["updated_at"] == body["updated_at"]
    is_problem(api.patch(path, json={"price": -1}), 422, "price")
    is_problem(api.patch(path, json={"title": None}), 422, "title")
    is_problem(api.patch("/api/v1/listings/real_estate/nope", json={"price": 1}), 404)
    assert api.get(path).get_json()["price"] == 120000


def test_delete_unpublishes_and_logs(app, territory, api):
    path = "/api/v1/listings/real_estate/R-1"
    api.put(path, json=house())
    gone = api.delete(path)
    assert gone.status_code == 204 and gone.get_data() == b""
    assert api.get(path).get_json()["status"] == "unpublished"
    assert api.delete(path).status_code == 204  # idempotent
    is_problem(api.delete("/api/v1/listings/real_estate/nope"), 404)
    events = in_territory(
        app, territory, "SELECT action, changes, api_key_id FROM listing_events ORDER BY id"
    )
    assert [e[0] for e in events] == ["create", "unpublish"]
    assert events[1][1] == {"status": ["published", "unpublished"]} and events[1][2]
    assert in_territory(app, territory, "SELECT count(*) FROM listings")[0][0] == 1


def test_etags_and_preconditions(app, territory, api):
    path = "/api/v1/listings/real_estate/R-1"
    etag = api.put(path, json=house()).headers["ETag"]
    assert api.get(path, headers={"If-None-Match": etag}).status_code == 304
    stale = '"0-0"'
    is_problem(api.put(path, json=house(price=1), headers={"If-Match": stale}), 412)
    is_problem(api.patch(path, json={"price": 1}, headers={"If-Match": stale}), 412)
    is_problem(api.delete(path, headers={"If-Match": stale}), 412)
    is_problem(api.put(path, json=house(), headers={"If-None-Match": "*"}), 412)
    is_problem(api.put("/api/v1/listings/real_estate/R-9", json=house("R-9"),
                       headers={"If-Match": etag}), 412)  # fmt: skip
    updated = api.patch(path, json={"price": 2}, headers={"If-Match": etag})
    assert updated.status_code == 200 and updated.headers["ETag"] != etag
    assert api.get(path, headers={"If-None-Match": etag}).status_code == 200
    assert api.get(path).get_json()["price"] == 2
    fresh = api.put("/api/v1/listings/real_estate/R-2", json=house("R-2"),
                    headers={"If-None-Match": "*"})  # fmt: skip
    assert fresh.status_code == 201


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_writes_valid_items_and_reports_the_others(app, territory, api):
    items = [
        {"kind": "real_estate", **house("R-1")},
        {"kind": "real_estate", **house("R-2", commune_insee="99999")},
        {"kind": "job", "external_id": "J-1", "title": "Boulanger", "commune_insee": "15187",
         "rome_code": "D1102", "contract_type": "CDI"},
        {"kind": "real_estate", **house("R-1", title="Doublon")},
        {"kind": "job", "external_id": "J-2", "title": "Boulanger", "commune_insee": "15187",
         "rome_code": "D1102", "contract_type": "CDI", "siret": "73282932000075"},
    ]  # fmt: skip
    response = api.post("/api/v1/listings/bulk", json={"items": items})
    assert response.status_code == 207, response.get_json()
    body = response.get_json()
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 3}
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == ["created", "error", "created", "error", "error"]
    assert "commune_insee" in results[1]["errors"] and "external_id" in results[3]["errors"]
    assert "siret" in results[4]["errors"]
    assert results[0]["id"] and results[2]["kind"] == "job"
    again = api.post("/api/v1/listings/bulk", json={"items": [items[0], items[2]]})
    assert again.status_code == 200
    assert again.get_json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "error": 0}
    keys = in_territory(app, territory, "SELECT DISTINCT api_key_id FROM listing_events")
    assert len(keys) == 1 and keys[0][0] is not None
    # An item that breaks the document refuses the request whole, naming each field.
    broken = [items[0], {"kind": "real_estate", **house("R-9", price="cheap")},
              {"kind": "castle", **house("R-3")}, "not an object",
              {"kind": "real_estate", **house("R-4", colour="red")}]  # fmt: skip
    refused = is_problem(api.post("/api/v1/listings/bulk", json={"items": broken}), 422)
    assert set(refused["errors"]) == {"items[1].price", "items[2].kind", "items[3]",
                                      "items[4].colour"}  # fmt: skip
    assert in_territory(app, territory, "SELECT count(*) FROM listings")[0][0] == 2


def test_bulk_refuses_too_many_items_and_too_large_bodies(app, territory, api):
    items = [{"kind": "real_estate", **house(f"R-{i}")} for i in range(1001)]
    too_many = is_problem(api.post("/api/v1/listings/bulk", json={"items": items}), 413, "items")
    assert "1000" in too_many["detail"] and "1001" in too_many["detail"]
    huge = json.dumps({"items": [{"kind": "real_estate", **house(description="x" * 10_000_000)}]})
    is_problem(api.post("/api/v1/listings/bulk", data=huge, content_type="application/json"), 413)
    no_key = Client(app, territory, None)
    is_problem(no_key.post("/api/v1/listings/bulk", data=huge, content_type="application/json"),
               413)  # fmt: skip
    is_problem(api.post("/api/v1/listings/bulk", json={"listings": []}), 400, "items")
    assert in_territory(app, territory, "SELECT count(*) FROM listings")[0][0] == 0


# --- list ----------------------------------------------------------------------------------------


def test_pagination_is_stable_while_listings_change(app, territory, api):
    items = [{"kind": "real_estate", **house(f"R-{i:02}")} for i in range(25)]
    api.post("/api/v1/listings/bulk", json={"items": items})
    seen, pages, url = [], 0, "/api/v1/listings?limit=10&kind=real_estate"
    while url:
        response = api.get(url)
        assert response.status_code == 200
        body = response.get_json()
        seen.extend(item["external_id"] for item in body["items"])
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
            assert "kind=real_estate" in body["next"] and body["next_cursor"] in body["next"]
        pages += 1
        if pages == 1:  # between pages: one new listing, one already read and one not yet read
            api.put("/api/v1/listings/real_estate/NEW", json=house("NEW"))
            api.patch("/api/v1/listings/real_estate/R-03", json={"price": 1})
            api.patch("/api/v1/listings/real_estate/R-20", json={"price": 1})
        url = body["next"] and body["next"].split(host(territory), 1)[1]
    assert len(seen) == len(set(seen)) == 26 and pages == 3
    assert set(seen) == {f"R-{i:02}" for i in range(25)} | {"NEW"}
    is_problem(api.get("/api/v1/listings?cursor=garbage!"), 400, "cursor")
    is_problem(api.get("/api/v1/listings?limit=501"), 422, "limit")
    is_problem(api.get("/api/v1/listings?knd=job"), 422, "knd")


def test_filters(app, make_tenant, cantal):
    cantal_territory = make_tenant(kind="departement", code="15")  # Saint-Flour and Aurillac
    api = Client(app, cantal_territory, new_key(app, cantal_territory))
    territory = cantal_territory
    api.put("/api/v1/listings/real_estate/R-1", json=house())
    elsewhere = house("R-2", commune_insee="15014", latitude=None, longitude=None)
    api.put("/api/v1/listings/real_estate/R-2", json=elsewhere)
    job = {"title": "Boulanger", "commune_insee": "15187", "rome_code": "D1102",
           "contract_type": "CDI"}  # fmt: skip
    api.put("/api/v1/listings/job/J-1", json=job)
    api.delete("/api/v1/listings/real_estate/R-2")

    def ids(query):
        response = api.get(f"/api/v1/listings?{query}")
        assert response.status_code == 200, response.get_json()
        return sorted(item["external_id"] for item in response.get_json()["items"])

    assert ids("") == ["J-1", "R-1", "R-2"]
    assert ids("kind=job") == ["J-1"]
    assert ids("status=published") == ["J-1", "R-1"]
    assert ids("commune=15014") == ["R-2"]
    cell = api.get("/api/v1/listings/real_estate/R-1").get_json()["cell_id"]
    assert "R-1" in ids(f"cell={cell}") and "R-2" not in ids(f"cell={cell}")
    in_territory(app, territory, "SELECT 1")  # no open transaction is left behind
    with app.app_context(), tenant_scope(territory):
        db.session.execute(
            text(
                "UPDATE listings SET updated_at = now() - interval '2 days' "
                "WHERE external_id <> 'J-1'"
            )
        )
        db.session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert ids("updated_since=" + since.replace("+", "%2B")) == ["J-1"]
    assert ids("updated_since=2000-01-01T00:00:00") == ["J-1", "R-1", "R-2"]
    is_problem(api.get("/api/v1/listings?kind=castle"), 422, "kind")
    is_problem(api.get("/api/v1/listings?updated_since=yesterday"), 422, "updated_since")


# --- errors, OpenAPI, docs -----------------------------------------------------------------------


def test_every_error_under_api_is_a_problem(app, territory, api):
    is_problem(api.get("/api/v1/nothing-here"), 404)
    not_allowed = is_problem(api.call("DELETE", "/api/v1/listings"), 405)
    assert not_allowed
    is_problem(api.get("/api/v1/listings/bulk"), 405)
    # Elsewhere the HTML error pages stay.
    page = api.client.get("/nothing-here", base_url=api.base)
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_openapi_document_is_valid_and_describes_each_kind(app, territory, api):
    response = api.client.get("/api/v1/openapi.json", base_url=api.base)
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"/api/v1/listings", "/api/v1/listings/bulk",
            "/api/v1/listings/{kind}/{external_id}"} <= set(spec["paths"])  # fmt: skip
    one = spec["paths"]["/api/v1/listings/{kind}/{external_id}"]
    assert {"get", "put", "patch", "delete"} <= set(one)
    for kind in KINDS:
        name = "".join(p.title() for p in kind.split("_"))
        schema = spec["components"]["schemas"][f"{name}Input"]
        assert set(schema["properties"]) == {f.name for f in fields_of(kind)} | {"status"}
        assert schema["title"]  # French title of the kind
    assert spec["components"]["schemas"]["RealEstateInput"]["properties"]["price"]["minimum"] == 0


def test_docs_page_renders_without_scripts_or_cdn(app, territory, api):
    response = api.client.get("/api/v1/docs", base_url=api.base)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[2].split("'")[0]
    assert f'<style nonce="{nonce}">' in page and "<script" not in page
    assert "http" not in page.split("<body>")[0].replace(f"http://{host(territory)}", "")
    for needle in ("/api/v1/listings/bulk", "Bearer", "problem-validation", "commune_insee",
                   "Annonces immobilières", "Code ROME", "If-Match"):  # fmt: skip
        assert needle in page, needle
    english = api.client.get("/api/v1/docs", base_url=api.base,
                             headers={"Accept-Language": "en"})  # fmt: skip
    assert "Real-estate listings" in english.get_data(as_text=True)


def test_output_matches_its_documented_schema(app, territory, api):
    body = api.put("/api/v1/listings/real_estate/R-1", json=house()).get_json()
    assert list(body) == list(output_schema("real_estate")().fields)
    with app.app_context(), tenant_scope(territory):
        listing = db.session.execute(select(Listing)).scalar_one()
        events = db.session.execute(select(ListingEvent)).scalars().all()
        assert listing.source == "api" and events[0].api_key_id is not None
        db.session.rollback()
