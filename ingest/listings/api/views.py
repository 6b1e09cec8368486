"""The listings endpoints of /api/v1: list, read, upsert, patch, unpublish, bulk; keys, ETags."""

from __future__ import annotations

import base64
import binascii
import math
import time
from datetime import UTC
from functools import cache
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from limits import parse as parse_limit
from sqlalchemy import func, select

from core.api import json_response, plain
from core.extensions import csrf, db, limiter
from core.problems import ApiProblem, read_json
from core.tenancy import require_tenant
from ingest.listings.api import page_url
from ingest.listings.apikeys import authenticate
from ingest.listings.declaration import KIND_TITLES, KINDS, fields_of
from ingest.listings.models import LOCATION_FIELDS, STATUSES, Listing
from ingest.listings.schemas import input_schema
from ingest.listings.service import as_input, save, validate
from ingest.listings.store import change_status, upsert

#: Items per bulk request; a larger batch is refused whole (413) rather than cut.
BULK_MAX = 1000
PAGE_MAX = 500
PAGE_DEFAULT = 100
READ, WRITE = "listings:read", "listings:write"
ACTIONS = {"create": "created", "update": "updated", "unchanged": "unchanged"}

blp = Blueprint(
    "listings_api",
    __name__,
    url_prefix="/api/v1/listings",
    description="A territory's listings: read, upsert by external id, unpublish, bulk.",
)
csrf.exempt(blp)  # API clients authenticate with keys, never with cookies


# --- guard: body size, key, rate limit, scope ---------------------------------------------------


@blp.before_request
def guard():
    """Refuse early: oversized body (before reading it), no valid key, too many requests, scope."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and (request.content_length or 0) > limit:
        raise ApiProblem(413, _("The body is larger than %(size)s MB.", size=limit // 2**20))
    header = request.headers.get("Authorization")
    key = authenticate(header)
    if key is None:
        challenge = 'Bearer realm="api"' + (', error="invalid_token"' if header else "")
        detail = (
            _("This API key is unknown or revoked.")
            if header
            else _("Send an API key: Authorization: Bearer <key>.")
        )
        raise ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})
    _rate_limit(key)
    needed = READ if request.method in ("GET", "HEAD", "OPTIONS") else WRITE
    if needed not in key.scopes:
        raise ApiProblem(403, _("This key lacks the %(scope)s scope.", scope=needed))
    g.api_key = key


@cache
def _parsed_limit(value: str):
    return parse_limit(value)


def _rate_limit(key) -> None:
    item = _parsed_limit(current_app.config["API_RATE_LIMIT"])
    ids = ("vivrau-api", require_tenant().slug, str(key.id))
    if not limiter.limiter.hit(item, *ids):
        reset, _remaining = limiter.limiter.get_window_stats(item, *ids)
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiProblem(
            429,
            _("Too many requests with this key: try again in %(seconds)s s.", seconds=retry),
            headers={"Retry-After": str(retry)},
        )


# --- representation ---------------------------------------------------------------------------


@cache
def stored_fields(kind: str) -> tuple[str, ...]:
    """The kind's declared fields as stored (location inputs become latitude/longitude)."""
    return tuple(f.name for f in fields_of(kind) if f.name not in LOCATION_FIELDS)


def as_json(listing, lon, lat) -> dict:
    """A listing as the API shows it: system fields, its kind's fields, its point, its page."""
    out = {
        "id": listing.id,
        "kind": listing.kind,
        "external_id": listing.external_id,
        "status": listing.status,
        "source": listing.source,
    }
    for name in stored_fields(listing.kind):
        if name not in out:
            out[name] = plain(getattr(listing, name))
    out["latitude"] = round(lat, 6) if lat is not None else None
    out["longitude"] = round(lon, 6) if lon is not None else None
    out["location_approximate"] = listing.location_approximate
    out["cell_id"] = listing.cell_id
    out["created_at"] = listing.created_at.astimezone(UTC).isoformat()
    out["updated_at"] = listing.updated_at.astimezone(UTC).isoformat()
    out["page_url"] = page_url(listing.kind, listing.external_id)
    return out


def etag_of(listing) -> str:
    """Changes exactly when the listing does (an unchanged upsert keeps `updated_at`)."""
    return f"{listing.id}-{int(listing.updated_at.timestamp() * 1_000_000):x}"


_OUT_TYPES = {
    "string": ma.fields.String,
    "integer": ma.fields.Integer,
    "number": ma.fields.Float,
    "boolean": ma.fields.Boolean,
    "date": ma.fields.Date,
}


@cache
def output_schema(kind: str) -> type[ma.Schema]:
    """The kind's listing as returned (documents `as_json`; a test checks they agree)."""
    attrs = {
        "id": ma.fields.Integer(required=True),
        "kind": ma.fields.String(required=True, metadata={"enum": [kind]}),
        "external_id": ma.fields.String(required=True),
        "status": ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES)),
        "source": ma.fields.String(
            required=True, validate=ma.validate.OneOf(("manual", "file", "api"))
        ),
    }
    for f in fields_of(kind):
        if f.name in LOCATION_FIELDS or f.name in attrs:
            continue
        meta = {"title": f.title_en, "description": f.description_fr or f.title_fr}
        attrs[f.name] = _OUT_TYPES[f.type](allow_none=True, metadata=meta)
    attrs |= {
        "latitude": ma.fields.Float(allow_none=True, metadata={"description": "WGS 84"}),
        "longitude": ma.fields.Float(allow_none=True, metadata={"description": "WGS 84"}),
        "location_approximate": ma.fields.Boolean(
            metadata={"description": "Centre de la commune, faute de coordonnées"}
        ),
        "cell_id": ma.fields.String(
            allow_none=True, metadata={"description": "Carreau INSPIRE de 1 km"}
        ),
        "created_at": ma.fields.AwareDateTime(),
        "updated_at": ma.fields.AwareDateTime(),
        "page_url": ma.fields.Url(metadata={"description": "Page publique de l'annonce"}),
    }
    name = "".join(part.title() for part in kind.split("_"))
    return type(name, (ma.Schema,), attrs)


def _select():
    return select(Listing, func.ST_X(Listing.geom), func.ST_Y(Listing.geom))


def _fetch(kind: str, external_id: str, *, lock: bool = False):
    """(listing, lon, lat) or None; locked for the rest of the transaction when writing."""
    statement = _select().where(Listing.kind == kind, Listing.external_id == external_id)
    if lock:
        statement = statement.with_for_update(of=Listing)
    return db.session.execute(statement.execution_options(populate_existing=True)).first()


def _known_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ApiProblem(
            404, _("Unknown kind %(kind)s: one of %(kinds)s.", kind=kind, kinds=", ".join(KINDS))
        )


def _listing_response(kind, external_id, status=200):
    row = _fetch(kind, external_id)
    response = json_response(as_json(*row), status)
    response.set_etag(etag_of(row[0]))
    response.headers["Cache-Control"] = "private, no-cache"
    if status == 201:
        response.headers["Location"] = request.base_url
    return response


def _json_object():
    body = read_json()
    if not isinstance(body, dict):
        raise ApiProblem(400, _("The body must be a JSON object."))
    return body


def _identified(body: dict, kind: str, external_id: str) -> dict:
    """The body with the URL's identity; a different one in the body is an error, not a move."""
    errors = {}
    if body.get("kind", kind) != kind:
        errors["kind"] = [_("Does not match the URL (%(value)s).", value=kind)]
    if body.get("external_id", external_id) != external_id:
        errors["external_id"] = [_("Does not match the URL (%(value)s).", value=external_id)]
    if errors:
        raise _invalid(errors)
    item = {k: v for k, v in body.items() if k != "kind"}
    item["external_id"] = external_id
    return item


def _invalid(errors: dict[str, list[str]]) -> ApiProblem:
    return ApiProblem(422, _("Some values are invalid: see errors."), errors=errors)


def _check_preconditions(row) -> None:
    """If-Match (the client's copy is current) and If-None-Match: * (create only)."""
    current = etag_of(row[0]) if row else None
    if "If-Match" in request.headers:
        wanted = request.if_match
        if current is None or not (wanted.star_tag or wanted.contains(current)):
            raise ApiProblem(
                412, _("The listing has changed since you read it (If-Match): read it again.")
            )
    if "If-None-Match" in request.headers and current is not None:
        refused = request.if_none_match
        if refused.star_tag or refused.contains_weak(current):
            raise ApiProblem(412, _("The listing already exists (If-None-Match)."))


# --- endpoints --------------------------------------------------------------------------------


class ListQuery(ma.Schema):
    """Filters and page of `GET /api/v1/listings`."""

    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    commune = ma.fields.String(
        validate=ma.validate.Regexp(r"^(\d{5}|2[AB]\d{3})$"),
        metadata={"description": "Code INSEE de la commune"},
    )
    cell = ma.fields.String(
        validate=ma.validate.Length(max=40), metadata={"description": "Carreau INSPIRE"}
    )
    updated_since = ma.fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "ISO 8601; sans fuseau : UTC. Inclus."},
    )
    limit = ma.fields.Integer(
        load_default=PAGE_DEFAULT, validate=ma.validate.Range(min=1, max=PAGE_MAX)
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=100),
        metadata={"description": "`next_cursor` de la page précédente"},
    )


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        version, _sep, value = (
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        )
        if version == "1" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiProblem(400, _("Invalid cursor."), errors={"cursor": [_("Invalid cursor.")]})


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _kinds_of(suffix: str) -> dict:
    names = ["".join(p.title() for p in k.split("_")) + suffix for k in KINDS]
    return {"oneOf": [_ref(n) for n in names]}


_KIND_PARAMETERS = [
    {
        "in": "path",
        "name": "kind",
        "required": True,
        "description": "real_estate, job, business, leisure ou poi",
        "schema": {"type": "string", "enum": list(KINDS)},
    },
    {
        "in": "path",
        "name": "external_id",
        "required": True,
        "description": "Votre identifiant de l'annonce (encodé pour l'URL)",
        "schema": {"type": "string", "maxLength": 100},
    },
]
_PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}


def _problems(*codes) -> dict:
    return {str(c): {"description": str(_PROBLEM_TEXT[c]), "content": _PROBLEM} for c in codes}


_PROBLEM_TEXT = {
    400: "Bad request (malformed JSON, invalid cursor)",
    401: "No valid API key",
    403: "The key lacks the scope",
    404: "Unknown kind or listing",
    412: "If-Match / If-None-Match not satisfied",
    413: "Body or batch too large",
    415: "Body not application/json",
    422: "Invalid values: `errors` names each field",
    429: "Rate limit of the key reached (Retry-After)",
}
_IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "schema": {"type": "string"},
    "description": "ETag lu : 412 si l'annonce a changé depuis",
}
_CREATE_ONLY = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string", "enum": ["*"]},
    "description": "* : créer seulement (412 si elle existe)",
}
_ETAG_HEADER = {"ETag": {"description": "Version of the listing", "schema": {"type": "string"}}}


@blp.route("")
class Listings(MethodView):
    @blp.arguments(ListQuery, location="query", as_kwargs=True, unknown=ma.RAISE)
    @blp.doc(
        operationId="listListings",
        responses={
            "200": {
                "description": "A page of listings, oldest first (by id)",
                "headers": {
                    "Link": {
                        "description": 'rel="next": the next page, when there is one',
                        "schema": {"type": "string"},
                    }
                },
                "content": {"application/json": {"schema": _ref("ListingPage")}},
            },
            **_problems(400, 401, 403, 422, 429),
        },
    )
    def get(self, limit, cursor=None, **filters):
        """List listings, with filters and a stable cursor.

        Pages follow the listing id: a listing created while a client pages through appears
        on a later page, and one updated keeps its place, so no listing is skipped or repeated.
        """
        statement = _select().order_by(Listing.id).limit(limit + 1)
        if cursor:
            statement = statement.where(Listing.id > decode_cursor(cursor))
        if filters.get("kind"):
            statement = statement.where(Listing.kind == filters["kind"])
        if filters.get("status"):
            statement = statement.where(Listing.status == filters["status"])
        if filters.get("commune"):
            statement = statement.where(Listing.commune_insee == filters["commune"])
        if filters.get("cell"):
            statement = statement.where(Listing.cell_id == filters["cell"])
        if filters.get("updated_since"):
            statement = statement.where(Listing.updated_at >= filters["updated_since"])
        rows = db.session.execute(statement).all()
        more = len(rows) > limit
        rows = rows[:limit]
        body = {"items": [as_json(*row) for row in rows], "next_cursor": None, "next": None}
        if more:
            body["next_cursor"] = encode_cursor(rows[-1][0].id)
            params = {k: v for k, v in request.args.items() if k != "cursor"}
            body["next"] = (
                f"{request.base_url}?{urlencode({**params, 'cursor': body['next_cursor']})}"
            )
        response = json_response(body)
        if body["next"]:
            response.headers["Link"] = f'<{body["next"]}>; rel="next"'
        response.headers["Cache-Control"] = "private, no-cache"
        return response


@blp.route("/<kind>/<path:external_id>", parameters=_KIND_PARAMETERS)
class OneListing(MethodView):
    @blp.doc(
        operationId="getListing",
        parameters=[
            {
                "in": "header",
                "name": "If-None-Match",
                "schema": {"type": "string"},
                "description": "ETag d'une copie : 304 si elle est à jour",
            }
        ],
        responses={
            "200": {
                "description": "The listing",
                "headers": _ETAG_HEADER,
                "content": {"application/json": {"schema": _kinds_of("")}},
            },
            "304": {"description": "Not modified (If-None-Match)"},
            **_problems(401, 403, 404, 429),
        },
    )
    def get(self, kind, external_id):
        """Read one listing (any status)."""
        _known_kind(kind)
        row = _fetch(kind, external_id)
        if row is None:
            raise ApiProblem(404, _("No %(kind)s listing has this identifier.", kind=kind))
        etag = etag_of(row[0])
        if request.if_none_match.contains_weak(etag):
            response = current_app.response_class(status=304)
            response.set_etag(etag)
            return response
        response = json_response(as_json(*row))
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        return response

    @blp.doc(
        operationId="putListing",
        parameters=[_IF_MATCH, _CREATE_ONLY],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": _kinds_of("Input")}},
        },
        responses={
            "200": {
                "description": "Updated, or unchanged (same values: updated_at kept)",
                "headers": _ETAG_HEADER,
                "content": {"application/json": {"schema": _kinds_of("")}},
            },
            "201": {
                "description": "Created",
                "headers": _ETAG_HEADER,
                "content": {"application/json": {"schema": _kinds_of("")}},
            },
            **_problems(400, 401, 403, 404, 412, 413, 415, 422, 429),
        },
    )
    def put(self, kind, external_id):
        """Create or replace a listing (idempotent).

        Fields left out are emptied; `status` defaults to published. Sending the same values
        again changes nothing, not even `updated_at`.
        """
        _known_kind(kind)
        item = _identified(_json_object(), kind, external_id)
        row = _fetch(kind, external_id, lock=True)
        _check_preconditions(row)
        saved = save(kind, [item], source="api", api_key_id=g.api_key.id)
        if saved.errors:
            db.session.rollback()
            raise _invalid(saved.errors[0])
        action = saved.outcome.results[external_id][1]
        db.session.commit()
        return _listing_response(kind, external_id, 201 if action == "create" else 200)

    @blp.doc(
        operationId="patchListing",
        parameters=[_IF_MATCH],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": _kinds_of("Patch")}},
        },
        responses={
            "200": {
                "description": "Updated or unchanged",
                "headers": _ETAG_HEADER,
                "content": {"application/json": {"schema": _kinds_of("")}},
            },
            **_problems(400, 401, 403, 404, 412, 413, 415, 422, 429),
        },
    )
    def patch(self, kind, external_id):
        """Change some fields of a listing; the result is validated as a whole."""
        _known_kind(kind)
        changes = _identified(_json_object(), kind, external_id)
        row = _fetch(kind, external_id, lock=True)
        if row is None:
            raise ApiProblem(404, _("No %(kind)s listing has this identifier.", kind=kind))
        _check_preconditions(row)
        item = as_input(row[0])
        if {"lambert_x", "lambert_y"} & changes.keys():  # a new point replaces the stored one
            item.pop("latitude", None)
            item.pop("longitude", None)
        item |= changes
        saved = save(kind, [item], source="api", api_key_id=g.api_key.id)
        if saved.errors:
            db.session.rollback()
            raise _invalid(saved.errors[0])
        db.session.commit()
        return _listing_response(kind, external_id)

    @blp.doc(
        operationId="unpublishListing",
        parameters=[_IF_MATCH],
        responses={
            "204": {"description": "Unpublished (kept, never deleted)"},
            **_problems(401, 403, 404, 412, 429),
        },
    )
    def delete(self, kind, external_id):
        """Unpublish a listing: it leaves the site but is kept (status unpublished)."""
        _known_kind(kind)
        row = _fetch(kind, external_id, lock=True)
        if row is None:
            raise ApiProblem(404, _("No %(kind)s listing has this identifier.", kind=kind))
        _check_preconditions(row)
        listing = row[0]
        change_status(
            [(listing.id, external_id, kind, listing.status)],
            "unpublished",
            source="api",
            api_key_id=g.api_key.id,
        )
        db.session.commit()
        return current_app.response_class(status=204)


@blp.route("/bulk")
class Bulk(MethodView):
    @blp.doc(
        operationId="bulkUpsert",
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": _ref("BulkRequest")}},
        },
        responses={
            "200": {
                "description": "Every item was written (created, updated or unchanged)",
                "content": {"application/json": {"schema": _ref("BulkResult")}},
            },
            "207": {
                "description": "Some items were refused (status error, with errors); "
                "the others were written",
                "content": {"application/json": {"schema": _ref("BulkResult")}},
            },
            **_problems(400, 401, 403, 413, 415, 429),
        },
    )
    def post(self):
        """Create or replace up to 1 000 listings of any kinds in one transaction.

        Each item is a PUT body with its `kind`. Valid items are written together; invalid ones
        are reported with their errors and change nothing. 200 when all items were written,
        207 when some were refused.
        """
        body = _json_object()
        items = body.get("items")
        if set(body) != {"items"} or not isinstance(items, list):
            raise ApiProblem(
                400,
                _('The body must be {"items": [ … ]}.'),
                errors={"items": [_("A list of listings is expected.")]},
            )
        if len(items) > BULK_MAX:
            raise ApiProblem(
                413,
                _(
                    "At most %(max)s items per request; this one has %(count)s: split it.",
                    max=BULK_MAX,
                    count=len(items),
                ),
                errors={"items": [_("At most %(max)s items.", max=BULK_MAX)]},
            )
        results: list[dict] = [{} for _item in items]
        groups: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            kind = item.get("kind") if isinstance(item, dict) else None
            external_id = item.get("external_id") if isinstance(item, dict) else None
            results[index] = {
                "index": index,
                "kind": kind if isinstance(kind, str) else None,
                "external_id": external_id if isinstance(external_id, str) else None,
            }
            if not isinstance(item, dict):
                results[index] |= {
                    "status": "error",
                    "errors": {"_schema": [_("A JSON object is expected.")]},
                }
            elif kind not in KINDS:
                message = _("One of: %(choices)s.", choices=", ".join(KINDS))
                results[index] |= {"status": "error", "errors": {"kind": [message]}}
            else:
                groups.setdefault(kind, []).append(index)
        for kind, indices in groups.items():
            batch = [{k: v for k, v in items[i].items() if k != "kind"} for i in indices]
            saved = validate(kind, batch)
            for local, errors in saved.errors.items():
                results[indices[local]] |= {"status": "error", "errors": errors}
            if saved.records:
                outcome = upsert(
                    db.session,
                    kind,
                    list(saved.records.values()),
                    source="api",
                    api_key_id=g.api_key.id,
                )
                for local, record in saved.records.items():
                    listing_id, action = outcome.results[record["external_id"]]
                    results[indices[local]] |= {"id": listing_id, "status": ACTIONS[action]}
        db.session.commit()
        summary = {s: 0 for s in ("created", "updated", "unchanged", "error")}
        for result in results:
            summary[result["status"]] += 1
        return json_response(
            {"summary": summary, "results": results}, 207 if summary["error"] else 200
        )


# --- OpenAPI components ----------------------------------------------------------------------


def schema_name(kind: str) -> str:
    return "".join(part.title() for part in kind.split("_"))


def register_components(spec) -> None:
    """One input, patch and output schema per kind, with French titles, and the envelopes."""
    for kind in KINDS:
        title_fr, title_en = KIND_TITLES[kind]
        name = schema_name(kind)
        spec.components.schema(
            f"{name}Input",
            {"title": title_fr, "description": f"{title_en}: PUT body, or a bulk item with kind"},
            schema=input_schema(kind),
        )
        spec.components.schema(
            f"{name}Patch",
            {"title": title_fr, "description": f"{title_en}: PATCH body (any subset)"},
            schema=input_schema(kind)(partial=True),
        )
        spec.components.schema(
            name, {"title": title_fr, "description": title_en}, schema=output_schema(kind)
        )
    spec.components.schema(
        "ListingPage",
        {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _kinds_of("")},
                "next_cursor": {"type": "string", "nullable": True},
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
            "required": ["items", "next_cursor", "next"],
        },
    )
    spec.components.schema(
        "BulkRequest",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "maxItems": BULK_MAX,
                    "items": {
                        "allOf": [
                            {
                                "type": "object",
                                "required": ["kind"],
                                "properties": {"kind": {"type": "string", "enum": list(KINDS)}},
                            },
                            _kinds_of("Input"),
                        ]
                    },
                }
            },
        },
    )
    result = {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "kind": {"type": "string", "nullable": True},
            "external_id": {"type": "string", "nullable": True},
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["created", "updated", "unchanged", "error"]},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "required": ["index", "status"],
    }
    spec.components.schema(
        "BulkResult",
        {
            "type": "object",
            "properties": {
                "summary": {
                    "type": "object",
                    "additionalProperties": {"type": "integer"},
                },
                "results": {"type": "array", "items": result},
            },
        },
    )
