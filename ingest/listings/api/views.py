"""The listings endpoints of /api/v1: list, read, upsert, patch, unpublish, bulk."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from werkzeug.routing import PathConverter

from core import grid
from core.api import json_response
from core.extensions import csrf, db
from core.problems import ApiProblem, read_json
from ingest.listings.api.bulk import BULK_MAX, save_items
from ingest.listings.api.guard import guard
from ingest.listings.api.openapi import (
    CREATE_ONLY,
    ETAG_HEADER,
    IF_MATCH,
    KIND_PARAMETERS,
    kinds_of,
    problems,
    ref,
)
from ingest.listings.api.representation import (
    as_json,
    etag_of,
    fetch,
    listing_response,
    photos_of,
    with_point,
)
from ingest.listings.declaration import KINDS
from ingest.listings.models import STATUSES, Listing
from ingest.listings.service import as_input, contract_errors, validate, write_apart
from ingest.listings.statuses import change_status
from tenants.entitlements import Feature
from tenants.entitlements import guard as entitled_to

PAGE_MAX = 500
PAGE_DEFAULT = 100

blp = Blueprint(
    "listings_api",
    __name__,
    url_prefix="/api/v1/listings",
    description="A territory's listings: read, upsert by external id, unpublish, bulk.",
)
csrf.exempt(blp)  # API clients authenticate with keys, never with cookies
blp.before_request(guard)  # a caller without a valid key learns nothing, its subscription neither
blp.before_request(entitled_to(Feature.base))


class ExternalId(PathConverter):
    """A listing's identifier in a path: slashes allowed, but not the tail of its photos' routes
    (`…/photos`, `…/photos/<id>`), which would otherwise answer as a listing (a PUT on
    `R-1/photos` is a 405, not a listing named so)."""

    regex = r"(?!.*/photos(?:/\d+)?$)[^/].*?"


# Before the routes that use it: the blueprint's deferred work runs in order.
blp.record_once(lambda state: state.app.url_map.converters.setdefault("external_id", ExternalId))


# --- reading the request ------------------------------------------------------------------------


def _known_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ApiProblem(
            404, _("Unknown kind %(kind)s: one of %(kinds)s.", kind=kind, kinds=", ".join(KINDS))
        )


def _existing(kind: str, external_id: str, *, lock: bool = False):
    row = fetch(kind, external_id, lock=lock)
    if row is None:
        raise ApiProblem(404, _("No %(kind)s listing has this identifier.", kind=kind))
    return row


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


def _valid(kind: str, item: dict):
    """One listing checked whole (fields, location, territory); refused values are a 422."""
    saved = validate(kind, [item])
    if saved.errors:
        raise _invalid(saved.errors[0])
    return saved


def _valid_changes(kind: str, changes: dict) -> None:
    """A PATCH body's own fields, before anything is read: unknown or refused ones are a 422."""
    errors = contract_errors(kind, changes, partial=True)
    if errors:
        raise _invalid(errors)


def _written(kind: str, saved):
    """Write one checked listing; one the database still refuses is a 422, never a 500."""
    saved = write_apart(kind, saved, source="api", api_key_id=g.api_key.id)
    if saved.errors:
        raise _invalid(saved.errors[0])
    return saved


# --- list ---------------------------------------------------------------------------------------


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
        validate=[ma.validate.Length(max=40), ma.validate.Regexp(grid.ID_PATTERN)],
        metadata={"description": "Carreau INSPIRE"},
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
                "content": {"application/json": {"schema": ref("ListingPage")}},
            },
            **problems(400, 422),
        },
    )
    def get(self, limit, cursor=None, **filters):
        """List listings, with filters and a stable cursor.

        Pages follow the listing id: a listing created while a client pages through appears
        on a later page, and one updated keeps its place, so no listing is skipped or repeated.
        """
        statement = with_point().order_by(Listing.id).limit(limit + 1)
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
        photos = photos_of([row[0] for row in rows])
        body = {
            "items": [as_json(*row, photos[row[0].id]) for row in rows],
            "next_cursor": None,
            "next": None,
        }
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


# --- one listing --------------------------------------------------------------------------------


@blp.route("/<kind>/<external_id:external_id>", parameters=KIND_PARAMETERS)
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
                "headers": ETAG_HEADER,
                "content": {"application/json": {"schema": kinds_of("")}},
            },
            "304": {"description": "Not modified (If-None-Match)"},
            **problems(404),
        },
    )
    def get(self, kind, external_id):
        """Read one listing (any status)."""
        _known_kind(kind)
        row = _existing(kind, external_id)
        etag = etag_of(row[0])
        if request.if_none_match.contains_weak(etag):
            response = current_app.response_class(status=304)
            response.set_etag(etag)
            return response
        return listing_response(row)

    @blp.doc(
        operationId="putListing",
        parameters=[IF_MATCH, CREATE_ONLY],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": kinds_of("Input")}},
        },
        responses={
            "200": {
                "description": "Updated, or unchanged (same values: updated_at kept)",
                "headers": ETAG_HEADER,
                "content": {"application/json": {"schema": kinds_of("")}},
            },
            "201": {
                "description": "Created",
                "headers": ETAG_HEADER,
                "content": {"application/json": {"schema": kinds_of("")}},
            },
            **problems(400, 404, 412, 413, 415, 422),
        },
    )
    def put(self, kind, external_id):
        """Create or replace a listing (idempotent).

        Fields left out are emptied; `status` defaults to published. Sending the same values
        again changes nothing, not even `updated_at`. The body's `external_id` and `kind` may be
        left out; when given they must equal the URL's (422 otherwise: a listing never changes
        its identifier). Unknown properties are refused (422, naming each). The body is checked
        before If-Match / If-None-Match: a bad body is a 422 whatever the preconditions. The
        listing must lie in the territory: its point near its communes (PERIMETER_MARGIN_M, 2 km
        by default), or, without a point, in one of them (422 on `latitude` or `commune_insee`).
        """
        _known_kind(kind)
        item = _identified(_json_object(), kind, external_id)
        saved = _valid(kind, item)  # a bad body is refused whatever its preconditions
        _check_preconditions(fetch(kind, external_id, lock=True))
        action = _written(kind, saved).outcome.results[external_id][1]
        return listing_response(fetch(kind, external_id), 201 if action == "create" else 200)

    @blp.doc(
        operationId="patchListing",
        parameters=[IF_MATCH],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": kinds_of("Patch")}},
        },
        responses={
            "200": {
                "description": "Updated or unchanged",
                "headers": ETAG_HEADER,
                "content": {"application/json": {"schema": kinds_of("")}},
            },
            **problems(400, 404, 412, 413, 415, 422),
        },
    )
    def patch(self, kind, external_id):
        """Change some fields of a listing; the result is validated as a whole.

        The body's own fields are checked first (unknown properties, types, bounds: 422 whatever
        If-Match says); `external_id` and `kind`, when given, must equal the URL's.
        """
        _known_kind(kind)
        changes = _identified(_json_object(), kind, external_id)
        _valid_changes(kind, changes)  # a bad body is refused whatever its preconditions
        row = _existing(kind, external_id, lock=True)
        _check_preconditions(row)
        item = as_input(row[0])
        if {"lambert_x", "lambert_y"} & changes.keys():  # a new point replaces the stored one
            item.pop("latitude", None)
            item.pop("longitude", None)
        _written(kind, _valid(kind, item | changes))
        return listing_response(fetch(kind, external_id))

    @blp.doc(
        operationId="unpublishListing",
        parameters=[IF_MATCH],
        responses={
            "204": {"description": "Unpublished (kept, never deleted)"},
            **problems(404, 412),
        },
    )
    def delete(self, kind, external_id):
        """Unpublish a listing: it leaves the site but is kept (status unpublished)."""
        _known_kind(kind)
        row = _existing(kind, external_id, lock=True)
        _check_preconditions(row)
        listing = row[0]
        change_status(
            [(listing.id, external_id, kind, listing.status)],
            "unpublished",
            source="api",
            api_key_id=g.api_key.id,
        )
        return current_app.response_class(status=204)


# --- bulk ---------------------------------------------------------------------------------------


@blp.route("/bulk")
class Bulk(MethodView):
    @blp.doc(
        operationId="bulkUpsert",
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": ref("BulkRequest")}},
        },
        responses={
            "200": {
                "description": "Every item was written (created, updated or unchanged)",
                "content": {"application/json": {"schema": ref("BulkResult")}},
            },
            "207": {
                "description": "Some items were refused (status error, with errors); "
                "the others were written",
                "content": {"application/json": {"schema": ref("BulkResult")}},
            },
            **problems(400, 413, 415, 422),
        },
    )
    def post(self):
        """Create or replace up to 1 000 listings of any kinds in one transaction.

        Each item is a PUT body with its `kind`. An item that breaks the document (no or an
        unknown `kind`, an unknown property, a wrong type, a value out of bounds) refuses the
        whole request: 422, `errors` naming each as `items[3].price`, nothing written. Items the
        territory's rules refuse (unknown commune, outside the territory, the same identifier
        twice, a SIRET's check digits) are reported with their errors and change nothing; the
        others are written together. 200 when all items were written, 207 when some were
        refused.
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
        # 207 is a success: the request commits the items written, as 200 does.
        answer = save_items(items, api_key_id=g.api_key.id)
        return json_response(answer, 207 if answer["summary"]["error"] else 200)
