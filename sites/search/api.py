"""The public search endpoints of /api/v1: score the territory's cells, explain one, presets.

Anonymous visitors may call them. The body must be `application/json` (415 otherwise): a
cross-site HTML form cannot send that type without the browser asking first, which is why no
CSRF token is needed. Requests are rate-limited per territory and client address; results carry
`Cache-Control: no-store` (they may depend on the person).
"""

from __future__ import annotations

import json
import math
import time
from functools import cache

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from limits import parse as parse_limit

from core.extensions import csrf, limiter
from core.problems import ApiProblem, read_json
from core.tenancy import current_tenant
from sites.audience import count_search
from sites.leads.capture import record_click, record_search
from sites.project.stages import hold_query_to_stage
from sites.search import engine
from sites.search.presets import PRESETS, for_household
from sites.search.query import MAX_CRITERIA, MAX_PEOPLE, Query, QueryError, parse_query
from tenants.entitlements import Feature
from tenants.entitlements import guard as entitled_to

#: A search body is a few hundred bytes; anything much larger is not one.
BODY_MAX = 16 * 1024
FORMATS = ("full", "compact")
#: The `scores` query parameter, as a boolean is written in a URL.
SCORES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

blp = Blueprint(
    "search_api",
    __name__,
    url_prefix="/api/v1/search",
    description="Criteria search over the territory's 1 km cells (public).",
)
csrf.exempt(blp)  # JSON only: see the module's docstring
blp.before_request(entitled_to(Feature.site))  # the dedicated site: option 2


# --- guard and helpers --------------------------------------------------------------------------


@cache
def _parsed_limit(value: str):
    return parse_limit(value)


@blp.before_request
def guard():
    """A territory's host only; rate limit per client address; small JSON bodies."""
    tenant = current_tenant()
    if tenant is None:
        raise ApiProblem(404, _("Nothing exists at this address."))
    limit_searches(tenant.slug)


def limit_searches(scope: str) -> None:
    """At most SEARCH_RATE_LIMIT searches per client address and scope (a territory, the
    portal); a POST's body small and JSON."""
    item = _parsed_limit(current_app.config["SEARCH_RATE_LIMIT"])
    ids = ("vivrau-search", scope, request.remote_addr or "-")
    if not limiter.limiter.hit(item, *ids):
        reset, _remaining = limiter.limiter.get_window_stats(item, *ids)
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiProblem(
            429,
            _("Too many searches from this address: try again in %(seconds)s s.", seconds=retry),
            headers={"Retry-After": str(retry)},
        )
    if request.method == "POST":
        if (request.content_length or 0) > BODY_MAX:
            raise ApiProblem(413, _("The body is larger than %(size)s KB.", size=BODY_MAX // 1024))
        if not request.is_json:
            raise ApiProblem(415, _("Send the body as application/json."))


def search_body():
    return read_json(BODY_MAX)


def search_query(data, extra=()) -> Query:
    try:
        return parse_query(data, extra)
    except QueryError as error:
        raise ApiProblem(
            400, _("Some criteria are invalid: see errors."), errors=error.errors
        ) from None


def json_answer(body: dict | str, cache_control: str = "no-store"):
    """A JSON answer; `body` already written as JSON text is sent as it is."""
    text = (
        body
        if isinstance(body, str)
        else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    )
    response = current_app.response_class(text, mimetype="application/json")
    response.headers["Cache-Control"] = cache_control
    return response


# --- documentation schemas --------------------------------------------------------------------


class CriterionWanted(ma.Schema):
    id = ma.fields.String(
        required=True, metadata={"description": "A criterion id of GET /api/v1/criteria"}
    )
    threshold = ma.fields.Float(
        metadata={"description": "In the criterion's unit; default: the criterion's own"}
    )
    importance = ma.fields.String(
        validate=ma.validate.OneOf(("must", "nice")),
        metadata={"description": "must: the cell must meet it; nice: it adds to the score"},
    )


class Household(ma.Schema):
    adults = ma.fields.Integer(validate=ma.validate.Range(1, MAX_PEOPLE))
    children = ma.fields.Integer(validate=ma.validate.Range(0, MAX_PEOPLE))


class SearchRequest(ma.Schema):
    criteria = ma.fields.List(
        ma.fields.Nested(CriterionWanted),
        validate=ma.validate.Length(max=MAX_CRITERIA),
        metadata={"description": "Each criterion at most once"},
    )
    budget = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Purchase budget in euros: homes_count counts the sales ≤ budget and "
            "the rentals whose monthly cost ≤ budget / 240; asked prices per m² are capped at "
            "budget / (20 m² + 15 m² per person)"
        },
    )
    household = ma.fields.Nested(Household, allow_none=True)


class CellRequest(SearchRequest):
    cell = ma.fields.String(required=True, metadata={"description": "A cell of the territory"})


class Counts(ma.Schema):
    green = ma.fields.Integer()
    orange = ma.fields.Integer()
    yellow = ma.fields.Integer()


class _Head(ma.Schema):
    version = ma.fields.String(
        metadata={"description": "Version of the cell layer (its order) the result follows"}
    )
    counts = ma.fields.Nested(Counts)
    precise = ma.fields.Boolean(metadata={"description": "At most 200 green cells"})
    total = ma.fields.Integer(metadata={"description": "Cells of the territory"})


class FailedCriterion(ma.Schema):
    id = ma.fields.String()
    value = ma.fields.Float(allow_none=True, metadata={"description": "null: unknown"})
    threshold = ma.fields.Float()


class ScoredCell(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(engine.STATUS_NAMES))
    score = ma.fields.Float(
        allow_none=True, metadata={"description": "0 to 1 from the nice-to-haves; null: none"}
    )
    failed = ma.fields.List(ma.fields.Nested(FailedCriterion))


class SearchResult(_Head):
    cells = ma.fields.List(
        ma.fields.Nested(ScoredCell),
        metadata={"description": "Every cell, best first (status, score, id)"},
    )


class SearchResultCompact(_Head):
    statuses = ma.fields.String(
        metadata={"description": "One character per cell (g, o, y) in the layer's order"}
    )
    scores = ma.fields.List(
        ma.fields.Integer(),
        metadata={"description": "Score per cell in whole percents, layer order (nice-to-haves)"},
    )


class Commune(ma.Schema):
    insee = ma.fields.String()
    name = ma.fields.String()


class EvaluatedCriterion(ma.Schema):
    id = ma.fields.String()
    label = ma.fields.String(metadata={"description": "In the request's language"})
    unit = ma.fields.String()
    value = ma.fields.Float(
        allow_none=True, metadata={"description": "As shown and compared; null: unknown"}
    )
    threshold = ma.fields.Float(metadata={"description": "As compared"})
    value_text = ma.fields.String(
        metadata={"description": "The value and unit in the request's language; empty: unknown"}
    )
    threshold_text = ma.fields.String(
        metadata={"description": "The threshold with its unit in the request's language"}
    )
    importance = ma.fields.String()
    ok = ma.fields.Boolean()


class CellEvaluation(ma.Schema):
    cell = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(engine.STATUS_NAMES))
    score = ma.fields.Float(allow_none=True)
    communes = ma.fields.List(
        ma.fields.Nested(Commune), metadata={"description": "Main commune first"}
    )
    criteria = ma.fields.List(ma.fields.Nested(EvaluatedCriterion))


class PresetCriterion(CriterionWanted):
    pass


class Preset(ma.Schema):
    id = ma.fields.String()
    name_fr = ma.fields.String()
    name_en = ma.fields.String()
    description_fr = ma.fields.String()
    description_en = ma.fields.String()
    criteria = ma.fields.List(ma.fields.Nested(PresetCriterion))


class Presets(ma.Schema):
    presets = ma.fields.List(ma.fields.Nested(Preset))
    with_children = ma.fields.List(
        ma.fields.Nested(PresetCriterion),
        metadata={"description": "Offered as nice-to-haves to a household with children"},
    )


SCHEMAS = {
    "SearchRequest": SearchRequest,
    "SearchCellRequest": CellRequest,
    "SearchResult": SearchResult,
    "SearchResultCompact": SearchResultCompact,
    "CellEvaluation": CellEvaluation,
    "SearchPresets": Presets,
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}
_TEXT = {
    400: "Invalid body: `errors` names each field by its JSON path (criteria[2].threshold)",
    404: "Not a territory's host, or a cell outside the territory",
    413: "Body too large",
    415: "Body not application/json",
    429: "Too many searches from this address (Retry-After)",
}


def _problems(*codes) -> dict:
    return {str(c): {"description": _TEXT[c], "content": _PROBLEM} for c in codes}


def register(api) -> None:
    """Document the schemas and mount the blueprint on the /api/v1 Api (the application)."""

    def describe(spec) -> None:
        for name, schema in SCHEMAS.items():
            if name not in spec.components.schemas:
                spec.components.schema(name, schema=schema)

    api.document(describe)
    api.register_blueprint(blp)


# --- endpoints ----------------------------------------------------------------------------------


@blp.route("")
class Search(MethodView):
    @blp.doc(
        operationId="search",
        security=[],
        parameters=[
            {
                "in": "query",
                "name": "format",
                "schema": {"type": "string", "enum": list(FORMATS), "default": "full"},
                "description": "compact: statuses as one character per cell, in layer order",
            },
            {
                "in": "query",
                "name": "scores",
                "schema": {"type": "boolean", "default": False},
                "description": "compact only: add each cell's score (whole percents)",
            },
        ],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": _ref("SearchRequest")}},
        },
        responses={
            "200": {
                "description": "Counts per status and every cell (full) or the statuses (compact)",
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [_ref("SearchResult"), _ref("SearchResultCompact")]}
                    }
                },
            },
            **_problems(400, 404, 413, 415, 429),
        },
    )
    def post(self):
        """Score every cell of the territory.

        A cell is green when all its must-haves hold, orange when one fails, yellow when more
        fail; its score (0 to 1) grows with the nice-to-haves met or nearly met. `precise` is
        false when more than 200 cells are green.
        """
        wanted = request.args.get("format", "full")
        if wanted not in FORMATS:
            message = _("One of: %(values)s.", values=", ".join(FORMATS))
            raise ApiProblem(400, message, errors={"format": [message]})
        scores = request.args.get("scores", "false").lower()
        if scores not in SCORES:
            message = _("One of: %(values)s.", values="true, false")
            raise ApiProblem(400, message, errors={"scores": [message]})
        query = search_query(search_body())
        hold_query_to_stage(query)
        result = engine.score(current_tenant(), query)
        count_search()
        if current_user.is_authenticated:  # leads: never fails the search
            record_search(query, result)
        if wanted == "compact":
            # The map needs only the statuses; scores are asked for explicitly.
            return json_answer(result.compact(with_scores=SCORES[scores]))
        return json_answer(result.full_json())


@blp.route("/cell")
class SearchCell(MethodView):
    @blp.doc(
        operationId="searchCell",
        security=[],
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": _ref("SearchCellRequest")}},
        },
        responses={
            "200": {
                "description": "The cell: communes, status, score, each criterion's value",
                "content": {"application/json": {"schema": _ref("CellEvaluation")}},
            },
            **_problems(400, 404, 413, 415, 429),
        },
    )
    def post(self):
        """Explain one cell for a search: why it is green, orange or yellow."""
        data = search_body()
        query = search_query(data, extra=("cell",))
        cell = data.get("cell")
        if not isinstance(cell, str) or not cell or len(cell) > 40:
            message = _("A cell id is needed.")
            raise ApiProblem(400, message, errors={"cell": [message]})
        try:
            evaluation = engine.evaluate_cell(current_tenant(), query, cell)
        except LookupError:
            message = _("This cell is not in the territory.")
            raise ApiProblem(404, message, errors={"cell": [message]}) from None
        if current_user.is_authenticated:  # leads: never fails the answer
            record_click(query, cell, evaluation)
        return json_answer(evaluation)


@blp.route("/presets")
class SearchPresets(MethodView):
    @blp.doc(
        operationId="searchPresets",
        security=[],
        responses={
            "200": {
                "description": "Ready-made sets of criteria",
                "content": {"application/json": {"schema": _ref("SearchPresets")}},
            },
            **_problems(404, 429),
        },
    )
    def get(self):
        """The presets the search form offers (family, remote worker, retired…)."""
        body = {
            "presets": [p.as_json() for p in PRESETS],
            "with_children": for_household(children=1),
        }
        return json_answer(body, "public, max-age=3600")
