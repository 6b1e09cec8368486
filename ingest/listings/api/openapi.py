"""The OpenAPI fragments of the listings API: component schemas, shared parameters and headers,
the documented problems."""

from __future__ import annotations

from ingest.listings.api.bulk import BULK_MAX, RESULT_STATUSES
from ingest.listings.api.representation import output_schema
from ingest.listings.declaration import KIND_TITLES, KINDS
from ingest.listings.schemas import input_schema, schema_name


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def kinds_of(suffix: str) -> dict:
    """One of the kinds' schemas: output (""), "Input" or "Patch"."""
    return {"oneOf": [ref(schema_name(k) + suffix) for k in KINDS]}


KIND_PARAMETERS = [
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
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "schema": {"type": "string"},
    "description": "ETag lu : 412 si l'annonce a changé depuis",
}
CREATE_ONLY = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string", "enum": ["*"]},
    "description": "* : créer seulement (412 si elle existe)",
}
ETAG_HEADER = {"ETag": {"description": "Version of the listing", "schema": {"type": "string"}}}

_PROBLEM = {"application/problem+json": {"schema": ref("Problem")}}
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


def problems(*codes) -> dict:
    """The responses of these error statuses, each a problem+json."""
    return {str(c): {"description": _PROBLEM_TEXT[c], "content": _PROBLEM} for c in codes}


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
                "items": {"type": "array", "items": kinds_of("")},
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
                            kinds_of("Input"),
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
            "status": {"type": "string", "enum": list(RESULT_STATUSES)},
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
