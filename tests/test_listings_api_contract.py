"""The listings API's contract under hostile or careless clients: values the database would
refuse, bodies too deep or too long, one behaviour on every endpoint, the territory's perimeter."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import text
from werkzeug.test import EnvironBuilder, TestResponse, run_wsgi_app
from werkzeug.wrappers import Request

from core.extensions import db
from core.problems import JSON_MAX_DEPTH, _too_deep
from core.tenancy import tenant_scope
from ingest.listings.imports import submit
from ingest.listings.service import save
from tenants.provisioning import add_member
from tests import listing_api_helpers
from tests import listing_import_helpers as files
from tests.listing_api_helpers import Client, house, in_territory, is_problem, job, new_key

ONE = "/api/v1/listings/real_estate/R-1"
BULK = "/api/v1/listings/bulk"


territory = listing_api_helpers.territory
api = listing_api_helpers.api


def count(app, territory) -> int:
    return in_territory(app, territory, "SELECT count(*) FROM listings")[0][0]


# --- values the database would refuse -------------------------------------------------------------


def test_bulk_items_out_of_their_bounds_are_named_and_nothing_is_written(app, territory, api):
    items = [
        {"kind": "real_estate", **house("R-1")},
        {"kind": "real_estate", **house("R-2", price=1e20)},
        {"kind": "job", **job(salary_min=1e30)},
        {"kind": "real_estate", **house("R-4", title="Maison\x00de bourg")},
        {"kind": "real_estate", **house("R-5", description="Belle\x1bvue")},
        {"kind": "real_estate", **house("R-6", rooms=2**40)},
        {"kind": "business", **job("B-1", staff=2**40)},
        {"kind": "real_estate", **house("R-7", description="Deux lignes\r\n\tet une tabulation")},
    ]
    body = is_problem(api.post(BULK, json={"items": items}), 422)
    assert set(body["errors"]) == {
        "items[1].price",
        "items[2].salary_min",
        "items[3].title",
        "items[4].description",
        "items[5].rooms",
        "items[6].staff",
        "items[6].rome_code",  # a job's field in a business
        "items[6].contract_type",
        "items[6].activity",
        "items[6].transfer_type",
    }, body["errors"]
    assert count(app, territory) == 0
    good = [items[0], items[7]]
    assert api.post(BULK, json={"items": good}).get_json()["summary"]["created"] == 2


def test_an_item_the_database_refuses_loses_only_itself(app, territory, api):
    # A rule only the database knows, on this throwaway territory's own table.
    with app.app_context(), tenant_scope(territory):
        db.session.execute(
            text("ALTER TABLE listings ADD CONSTRAINT price_not_13 CHECK (price <> 13)")
        )
        db.session.commit()
    items = [{"kind": "real_estate", **house(f"R-{i}", price=10 + i)} for i in range(5)]
    items.append({"kind": "job", **job()})
    response = api.post(BULK, json={"items": items})
    assert response.status_code == 207, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * 3 + ["error"] + ["created"] * 2
    assert results[3]["errors"] and "id" not in results[3]
    assert count(app, territory) == 5
    is_problem(api.put(ONE, json=house(price=13)), 422)


def test_one_listing_with_values_the_database_would_refuse_is_a_422(app, territory, api):
    is_problem(api.put(ONE, json=house(price=1e20)), 422, "price")
    is_problem(api.put(ONE, json=house(living_area_m2=-1e300)), 422, "living_area_m2")
    is_problem(api.put(ONE, json=house(title="a\x00b")), 422, "title")
    is_problem(api.put(ONE, json=house(address="rue\x7f")), 422, "address")
    is_problem(api.put("/api/v1/listings/job/J-1", json=job(salary_max=1e30)), 422, "salary_max")
    assert api.put(ONE, json=house()).status_code == 201
    is_problem(api.patch(ONE, json={"price": 1e20}), 422, "price")
    is_problem(api.patch(ONE, json={"title": "\x00"}), 422, "title")
    assert api.get(ONE).get_json()["price"] == 149000


# --- bodies ---------------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400(app, territory, api):
    for deep in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        for method, path in (("PUT", ONE), ("POST", BULK)):
            response = api.call(method, path, data=deep, content_type="application/json")
            assert "imbriqu" in is_problem(response, 400)["detail"]
    nested = house(title=[[[["x"]]]])
    is_problem(api.put(ONE, json=nested), 422, "title")


def test_json_nesting_is_refused_from_its_limit_on():
    """Arrays and objects nested JSON_MAX_DEPTH deep pass, one level more is refused; the plain
    values beside them, however many, count for nothing."""
    for opening, closing in (("[", "]"), ('{"a":', "}")):
        for depth, refused in ((JSON_MAX_DEPTH, False), (JSON_MAX_DEPTH + 1, True)):
            inner = "1" if opening != "[" else ""
            assert _too_deep(json.loads(opening * depth + inner + closing * depth)) is refused
    wide = {"criteria": [{"id": "gp_km", "threshold": 10, "importance": "must"}] * 30}
    assert _too_deep(wide) is False and _too_deep(3) is False and _too_deep("[[[") is False


def chunked(api, method: str, path: str, body: bytes):
    """A request whose body comes in chunks, without Content-Length, as gunicorn hands it over
    (it ends the stream itself and says so with `wsgi.input_terminated`)."""
    builder = EnvironBuilder(
        path,
        method=method,
        base_url=api.base,
        input_stream=io.BytesIO(body),
        headers={"Authorization": f"Bearer {api.key}", "Transfer-Encoding": "chunked"},
        content_type="application/json",
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    # Straight to the application: the test client would rebuild the environ without the flag.
    body_iter, status, headers = run_wsgi_app(api.client.application, environ)
    return TestResponse(b"".join(body_iter), status, headers, request=Request(environ))


def test_a_chunked_body_over_the_limit_is_a_413(app, territory, api):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"items": [' + b" " * limit + b"]}"
    for method, path in (("POST", BULK), ("PUT", ONE), ("PATCH", ONE)):
        response = chunked(api, method, path, body)
        assert response.request.content_length is None
        is_problem(response, 413)
    # At the limit exactly, a chunked body is read whole.
    exact = b'{"items": []' + b" " * (limit - 13) + b"}"
    assert len(exact) == limit
    response = chunked(api, "POST", BULK, exact)
    assert response.status_code == 200, response.get_data(as_text=True)


# --- one behaviour on every endpoint --------------------------------------------------------------


def test_a_bad_body_is_refused_whatever_the_preconditions(app, territory, api):
    etag = api.put(ONE, json=house()).headers["ETag"]
    stale = '"0-0"'
    for headers in ({"If-Match": stale}, {"If-Match": etag}, {"If-None-Match": "*"}):
        is_problem(api.put(ONE, json=house(price="cheap"), headers=headers), 422, "price")
        is_problem(api.put(ONE, json=house(external_id="R-2"), headers=headers), 422,
                   "external_id")  # fmt: skip
        is_problem(api.patch(ONE, json={"price": -1}, headers=headers), 422, "price")
        is_problem(api.patch(ONE, json={"colour": "red"}, headers=headers), 422, "colour")
    is_problem(api.put(ONE, json=house(price=1), headers={"If-Match": stale}), 412)
    is_problem(api.patch(ONE, json={"price": 1}, headers={"If-Match": stale}), 412)


def test_unknown_properties_and_empty_kinds_are_refused_on_every_endpoint(app, territory, api):
    is_problem(api.put(ONE, json=house(colour="blue")), 422, "colour")
    is_problem(api.put(ONE, json=house(kind="")), 422, "kind")
    is_problem(api.put(ONE, json=house(kind=None)), 422, "kind")
    api.put(ONE, json=house())
    is_problem(api.patch(ONE, json={"colour": "blue"}), 422, "colour")
    is_problem(api.patch(ONE, json={"kind": ""}), 422, "kind")
    items = [
        {"kind": "real_estate", **house("R-2", colour="blue")},
        {"kind": "", **house("R-3")},
        {"kind": None, **house("R-4")},
        house("R-5"),
        {"kind": "real_estate", **house("R-6", id=12)},
    ]
    body = is_problem(api.post(BULK, json={"items": items}), 422)
    assert set(body["errors"]) == {"items[0].colour", "items[1].kind", "items[2].kind",
                                   "items[3].kind", "items[4].id"}  # fmt: skip
    assert count(app, territory) == 1


def test_the_openapi_document_states_the_contract(app, territory, api):
    spec = api.client.get("/api/v1/openapi.json", base_url=api.base).get_json()
    one = spec["paths"]["/api/v1/listings/{kind}/{external_id}"]
    assert "external_id" in one["put"]["description"] and "URL" in one["put"]["description"]
    for name in ("RealEstateInput", "JobPatch"):
        schema = spec["components"]["schemas"][name]
        assert schema["additionalProperties"] is False
        assert "URL" in schema["properties"]["external_id"]["description"]
    item = spec["components"]["schemas"]["BulkRequest"]["properties"]["items"]["items"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in item["oneOf"]} >= {"JobBulkItem"}
    bulk_job = spec["components"]["schemas"]["JobBulkItem"]
    assert bulk_job["properties"]["kind"]["enum"] == ["job"] and "kind" in bulk_job["required"]
    assert bulk_job["additionalProperties"] is False
    for path in (p for name, p in spec["paths"].items() if name.startswith("/api/v1/listings")):
        for method, operation in path.items():
            if method in ("get", "put", "patch", "delete", "post"):
                assert {"401", "429", "503"} <= set(operation["responses"]), operation
    for code in ("413", "415"):
        assert code in one["put"]["responses"] and code in spec["paths"][BULK]["post"]["responses"]


# --- the territory's perimeter --------------------------------------------------------------------


def test_listings_outside_the_territory_are_refused(app, territory, api):
    # Aurillac (15014) is about 50 km from Saint-Flour, the territory's commune.
    elsewhere = house(commune_insee="15014", latitude=44.9264, longitude=2.4397)
    [said] = is_problem(api.put(ONE, json=elsewhere), 422, "latitude")["errors"]["latitude"]
    # How far and where, in the reader's language.
    assert re.search(r"est à \d+,\d km du territoire, commune du territoire la plus proche "
                     r": Saint-Flour", said), said  # fmt: skip
    english = api.put(ONE, json=elsewhere, headers={"Accept-Language": "en"})
    [said] = is_problem(english, 422, "latitude")["errors"]["latitude"]
    assert re.search(r"lies \d+\.\d km outside the territory, nearest commune of the territory: "
                     r"Saint-Flour", said), said  # fmt: skip
    centre = house(commune_insee="15014", latitude=None, longitude=None)
    detail = is_problem(api.put(ONE, json=centre), 422, "commune_insee")
    [said] = detail["errors"]["commune_insee"]
    assert (
        "Aurillac (15014)" in said and "commune du territoire la plus proche : Saint-Flour" in said
    )
    assert re.search(r"à \d+,\d km", said), said
    results = api.post(BULK, json={"items": [{"kind": "real_estate", **centre}]}).get_json()
    assert "commune_insee" in results["results"][0]["errors"]
    assert count(app, territory) == 0
    # Within the margin of its perimeter: a farm across the border, addressed to the next town.
    assert api.put(ONE, json=house()).status_code == 201


def test_an_umbrella_takes_its_members_perimeters(app, cantal, make_tenant):
    aurillac = make_tenant(code="15014")
    umbrella = make_tenant(kind="umbrella")
    with app.app_context():
        add_member(umbrella.slug, aurillac.slug)
    api = Client(app, umbrella, new_key(app, umbrella))
    there = house(commune_insee="15014", latitude=None, longitude=None)
    assert api.put(ONE, json=there).status_code == 201
    is_problem(api.put("/api/v1/listings/real_estate/R-2", json=house("R-2")), 422, "latitude")


def test_files_and_the_console_keep_to_the_territory_too(app, territory):
    """The same rule through `rules.locate` for a normed file (row and column in the report,
    in both languages) and for the editor's form."""
    rows = [
        files.house("F-1"),
        files.house("F-2", commune_insee="15014", latitude="44.9264", longitude="2.4397"),
        files.house("F-3", commune_insee="15014", latitude="", longitude=""),
    ]
    with app.app_context(), tenant_scope(territory):
        record = submit("real_estate", files.csv_file(rows), "ailleurs.csv")
        assert record.status == "rejected"
        found = {(i["code"], i["row"], i["column"]) for i in files.issues_of(record) if i["error"]}
        assert found == {("outside_territory", 3, "latitude"),
                         ("commune_outside_territory", 4, "commune_insee")}  # fmt: skip
        point = next(i for i in files.issues_of(record) if i["row"] == 3)["message"]
        french = r"^Ligne 3, colonne « latitude ».* est à \d+,\d km du territoire, commune du "
        english = r"^Row 3, column “latitude”.* lies \d+\.\d km outside the territory, nearest "
        assert re.search(french + r"territoire la plus proche : Saint-Flour", point["fr"])
        assert re.search(english + r"commune of the territory: Saint-Flour", point["en"])
        issue = next(i for i in files.issues_of(record) if i["row"] == 4)["message"]
        assert "Aurillac (15014)" in issue["fr"] and "Aurillac (15014)" in issue["en"]
        assert re.search(r"à \d+,\d km de celui-ci, commune du territoire la plus proche : "
                         r"Saint-Flour", issue["fr"])  # fmt: skip
        assert re.search(r"lies \d+\.\d km outside it, nearest commune of the territory: "
                         r"Saint-Flour", issue["en"])  # fmt: skip
        form = save("real_estate", [house("C-1", commune_insee="15014", latitude=None,
                                          longitude=None)], source="manual")  # fmt: skip
        assert list(form.errors[0]) == ["commune_insee"]
        [said] = form.errors[0]["commune_insee"]
        assert "Aurillac (15014)" in said and "la plus proche : Saint-Flour" in said
        db.session.rollback()
    assert count(app, territory) == 0
