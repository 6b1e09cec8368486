"""The OpenAPI fragments of the listings API: component schemas, shared parameters and headers,
the documented problems."""

from __future__ import annotations

import copy

from ingest.listings.api.bulk import BULK_MAX, RESULT_STATUSES
from ingest.listings.api.representation import PhotoSchema, output_schema
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
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "string"},
    }
}
_PROBLEM_TEXT = {
    400: "Bad request (malformed JSON, nested deeper than 32 levels, invalid cursor)",
    401: "No valid API key",
    403: "The key lacks the scope",
    404: "Unknown kind, listing or photo",
    409: "The listing's state forbids it (10 photos already; a photo fetched from photo_url)",
    412: "If-Match / If-None-Match not satisfied (checked after the body: a bad body is a 422)",
    413: "Body larger than 8 MB (chunked bodies too), more than 1,000 items, or a photo over 7 MB",
    415: "Body not application/json",
    422: "Invalid values: `errors` names each field (`items[3].price` in a bulk request)",
    429: "Rate limit of the key reached (Retry-After)",
    503: "Territory suspended, or a service it needs briefly away (Retry-After)",
}
#: Every operation may answer these: no key, a key without the scope, too many requests, away.
ALWAYS = (401, 403, 429, 503)


def problems(*codes) -> dict:
    """The responses of these error statuses and of ALWAYS, each a problem+json."""
    out = {}
    for code in sorted({*codes, *ALWAYS}):
        out[str(code)] = {"description": _PROBLEM_TEXT[code], "content": _PROBLEM}
        if code in (429, 503):
            out[str(code)]["headers"] = _RETRY_AFTER
    return out


#: What the document says of `external_id` and `kind` in a body, beside the URL's.
IDENTITY_NOTE = (
    " Sur PUT et PATCH, `external_id` et `kind` sont facultatifs dans le corps : s'ils sont "
    "donnés, ils doivent être égaux à ceux de l'URL (422 sinon), une annonce ne change pas "
    "d'identifiant."
)


def register_components(spec) -> None:
    """One input, patch, bulk item and output schema per kind, with French titles, and the
    envelopes. Every input refuses unknown properties (`additionalProperties: false`)."""
    # Named before the outputs that nest it, which then refer to it by this name.
    spec.components.schema("ListingPhoto", schema=PhotoSchema)
    for kind in KINDS:
        title_fr, title_en = KIND_TITLES[kind]
        name = schema_name(kind)
        spec.components.schema(
            f"{name}Input",
            {"title": title_fr, "description": f"{title_en}: PUT body"},
            schema=input_schema(kind),
        )
        spec.components.schema(
            f"{name}Patch",
            {"title": title_fr, "description": f"{title_en}: PATCH body (any subset)"},
            schema=input_schema(kind)(partial=True),
        )
        for suffix in ("Input", "Patch"):
            identity = spec.components.schemas[f"{name}{suffix}"]["properties"]["external_id"]
            identity["description"] = identity.get("description", "") + IDENTITY_NOTE
        spec.components.schema(f"{name}BulkItem", _bulk_item(spec, kind))
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
                "items": {"type": "array", "maxItems": BULK_MAX, "items": kinds_of("BulkItem")}
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


def _bulk_item(spec, kind: str) -> dict:
    """The kind's PUT body with its `kind`: one item of a bulk request."""
    title_fr, title_en = KIND_TITLES[kind]
    body = copy.deepcopy(spec.components.schemas[f"{schema_name(kind)}Input"])
    body["title"], body["description"] = title_fr, f"{title_en}: a bulk item"
    body["properties"] = {"kind": {"type": "string", "enum": [kind]}} | body["properties"]
    body["required"] = ["kind", *body.get("required", [])]
    return body
