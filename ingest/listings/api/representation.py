"""A listing as the API shows it: its JSON, its ETag, its documented output schema, the address
of its public page."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from urllib.parse import quote

import marshmallow as ma
from flask import request
from sqlalchemy import func, select

from core.api import json_response, plain
from core.extensions import db
from ingest.listings.declaration import fields_of
from ingest.listings.models import LOCATION_FIELDS, SOURCES, STATUSES, Listing
from ingest.listings.schemas import schema_name


def page_url(kind: str, external_id: str) -> str:
    """The listing's public page on the territory's host (the request's host)."""
    return f"{request.host_url}annonces/{kind}/{quote(external_id, safe='')}"


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


def with_point():
    """Listings with the (lon, lat) of their point, as `as_json` takes them."""
    return select(Listing, func.ST_X(Listing.geom), func.ST_Y(Listing.geom))


def fetch(kind: str, external_id: str, *, lock: bool = False):
    """(listing, lon, lat) or None; locked for the rest of the transaction when writing."""
    statement = with_point().where(Listing.kind == kind, Listing.external_id == external_id)
    if lock:
        statement = statement.with_for_update(of=Listing)
    return db.session.execute(statement.execution_options(populate_existing=True)).first()


def listing_response(row, status: int = 200):
    """One listing's answer: its JSON, its ETag, never cached unchecked; Location when new."""
    response = json_response(as_json(*row), status)
    response.set_etag(etag_of(row[0]))
    response.headers["Cache-Control"] = "private, no-cache"
    if status == 201:
        response.headers["Location"] = request.base_url
    return response


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
        "source": ma.fields.String(required=True, validate=ma.validate.OneOf(SOURCES)),
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
    return type(schema_name(kind), (ma.Schema,), attrs)
