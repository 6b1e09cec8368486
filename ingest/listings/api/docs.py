"""The content of the API docs page, taken from the OpenAPI document and the field declarations."""

from __future__ import annotations

import json

from flask import request
from flask_babel import lazy_gettext as _l

from core.i18n import english, pick
from core.problems import API_PREFIX, TYPES
from ingest.listings.api.bulk import BULK_MAX
from ingest.listings.api.views import PAGE_MAX
from ingest.listings.declaration import KIND_TITLES, KINDS, fields_of
from ingest.listings.schemas import schema_name

#: What each operation does, in the reader's language (the document itself is in English).
SUMMARIES = {
    "listListings": _l("List listings, with filters and a stable cursor."),
    "getListing": _l("Read one listing (any status)."),
    "putListing": _l("Create or replace a listing (idempotent)."),
    "patchListing": _l("Change some fields of a listing; the result is validated as a whole."),
    "unpublishListing": _l("Unpublish a listing: it leaves the site but is kept."),
    "bulkUpsert": _l("Create or replace up to 1,000 listings of any kinds in one transaction."),
}
TYPE_NAMES = {
    "string": _l("text"),
    "integer": _l("whole number"),
    "number": _l("number"),
    "boolean": _l("true/false"),
    "date": _l("date (YYYY-MM-DD)"),
}
_METHODS = ("get", "put", "patch", "delete", "post")


def _example_value(field):
    if not field.example:
        return None
    if field.type == "integer":
        return int(field.example)
    if field.type == "number":
        number = float(field.example)
        return int(number) if number.is_integer() else number
    return field.example


def example(kind: str) -> dict:
    """A PUT body of the kind from the declared examples (required fields always present)."""
    body = {}
    for f in fields_of(kind):
        value = _example_value(f)
        if value is None and f.required:
            value = f.enum[0] if f.enum else "…"
        if value is not None and f.name not in ("lambert_x", "lambert_y", "external_id"):
            body[f.name] = value
    return body


def _constraints(prop: dict) -> list[str]:
    out = []
    if "enum" in prop:
        out.append(" | ".join(str(v) for v in prop["enum"]))
    if "pattern" in prop:
        out.append(prop["pattern"])
    if "minimum" in prop or "maximum" in prop:
        out.append(f"{prop.get('minimum', '…')} – {prop.get('maximum', '…')}")
    if "maxLength" in prop:
        out.append(f"≤ {prop['maxLength']}")
    return out


def page(spec: dict) -> dict:
    """Everything the template shows: operations, kinds (fields and examples), problems."""
    french = not english()
    base = f"{request.host_url}{API_PREFIX.lstrip('/')}"
    operations = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = [p for p in shared + op.get("parameters", []) if "$ref" not in p]
            operations.append(
                {
                    "id": op.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": SUMMARIES.get(op.get("operationId"), op.get("summary", "")),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": p.get("schema", {}).get("type", ""),
                            "constraints": _constraints(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in parameters
                    ],
                    "responses": [
                        (code, response.get("description", ""))
                        for code, response in sorted(op.get("responses", {}).items())
                        if code != "default"
                    ],
                }
            )
    schemas = spec["components"]["schemas"]
    kinds = []
    for kind in KINDS:
        props = schemas[f"{schema_name(kind)}Input"]["properties"]
        required = set(schemas[f"{schema_name(kind)}Input"].get("required", []))
        rows = []
        for f in fields_of(kind):
            prop = props[f.name]
            rows.append(
                {
                    "name": f.name,
                    "title": pick(f.title_fr, f.title_en),
                    "type": TYPE_NAMES[f.type],
                    "required": f.name in required,
                    "constraints": _constraints(prop),
                    "description": f.description_fr,
                }
            )
        body = example(kind)
        kinds.append(
            {
                "kind": kind,
                "title": KIND_TITLES[kind][0 if french else 1],
                "schema": schema_name(kind),
                "fields": rows,
                "example": json.dumps(body, ensure_ascii=False, indent=2),
                "external_id": fields_of(kind)[0].example or "ID-1",
            }
        )
    first = kinds[0]
    bulk = {
        "items": [
            {"kind": first["kind"], "external_id": first["external_id"]} | example(first["kind"])
        ]
    }
    return {
        "lang": "fr" if french else "en",
        "base": base,
        "openapi_url": f"{base}/openapi.json",
        "version": spec["info"]["version"],
        "operations": operations,
        "kinds": kinds,
        "bulk_example": json.dumps(bulk, ensure_ascii=False, indent=2),
        "problems": [(status, name, title) for status, (name, title) in sorted(TYPES.items())],
        "bulk_max": BULK_MAX,
        "page_max": PAGE_MAX,
    }
