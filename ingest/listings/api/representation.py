"""A listing as the API shows it: its JSON (with its photos), its ETag, its documented output
schema, the address of its public page."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from urllib.parse import quote

import marshmallow as ma
from flask import request, url_for
from sqlalchemy import func, select

from core.api import json_response, plain
from core.extensions import db
from ingest.listings.declaration import fields_of
from ingest.listings.models import LOCATION_FIELDS, SOURCES, STATUSES, Listing, ListingPhoto
from ingest.listings.photos import file_name, refusal, source_urls
from ingest.listings.schemas import schema_name

#: A photo's status in the API: stored, refused (with its reason), or an address not yet fetched.
PHOTO_STATES = ("ready", "failed", "pending")


def page_url(kind: str, external_id: str) -> str:
    """The listing's public page on the territory's host (the request's host)."""
    return f"{request.host_url}annonces/{kind}/{quote(external_id, safe='')}"


@cache
def stored_fields(kind: str) -> tuple[str, ...]:
    """The kind's declared fields as stored (location inputs become latitude/longitude)."""
    return tuple(f.name for f in fields_of(kind) if f.name not in LOCATION_FIELDS)


def _photo_url(digest: str, size: str) -> str:
    return url_for("site.photo", name=file_name(digest, size), _external=True)


def photo_json(photo: ListingPhoto) -> dict:
    """One photo row as the API shows it; a failed fetch says why, in the client's language."""
    ready = photo.status == "ready"
    return {
        "id": photo.id,
        "status": photo.status,
        "source": photo.source,
        "source_url": photo.source_url,
        "thumb_url": _photo_url(photo.digest, "thumb") if ready else None,
        "large_url": _photo_url(photo.digest, "large") if ready else None,
        "alt": photo.alt,
        "width": photo.width,
        "height": photo.height,
        "error": None if ready else photo.error,
        "reason": None if ready else refusal(photo.error or ""),
    }


def _pending(url: str) -> dict:
    return {
        "id": None,
        "status": "pending",
        "source": None,
        "source_url": url,
        "thumb_url": None,
        "large_url": None,
        "alt": None,
        "width": None,
        "height": None,
        "error": None,
        "reason": None,
    }


def photos_of(listings) -> dict[int, list[dict]]:
    """Each listing's photos in one query: stored ones in order, then refused addresses, then
    addresses the worker has not fetched yet."""
    ids = [x.id for x in listings]
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    seen: dict[int, set[str]] = {i: set() for i in ids}
    for photo in db.session.execute(
        select(ListingPhoto)
        .where(ListingPhoto.listing_id.in_(ids))
        .order_by(ListingPhoto.listing_id, ListingPhoto.status.desc(), ListingPhoto.position)
        .order_by(ListingPhoto.id)
    ).scalars():
        out[photo.listing_id].append(photo_json(photo))
        if photo.source_url:
            seen[photo.listing_id].add(photo.source_url)
    for listing in listings:
        for url in source_urls(listing.photo_url):
            if url not in seen[listing.id]:
                out[listing.id].append(_pending(url))
    return out


def as_json(listing, lon, lat, photos: list[dict] | None = None) -> dict:
    """A listing as the API shows it: system fields, its kind's fields, its point, its page,
    its photos (`photos_of`, read here when not given)."""
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
    out["photos"] = photos if photos is not None else photos_of([listing])[listing.id]
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
        "photos": ma.fields.List(
            ma.fields.Nested(PhotoSchema),
            metadata={"description": "Photos : stockées, refusées (avec la raison), en attente"},
        ),
    }
    return type(schema_name(kind), (ma.Schema,), attrs)


class PhotoSchema(ma.Schema):
    """A listing's photo as returned (documents `photo_json`)."""

    id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Absent (null) tant que l'adresse attend"}
    )
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(PHOTO_STATES))
    source = ma.fields.String(allow_none=True)
    source_url = ma.fields.String(
        allow_none=True, metadata={"description": "L'adresse d'où elle vient (photo_url)"}
    )
    thumb_url = ma.fields.Url(allow_none=True, metadata={"description": "Vignette (JPEG)"})
    large_url = ma.fields.Url(allow_none=True, metadata={"description": "Grande taille (JPEG)"})
    alt = ma.fields.String(allow_none=True, metadata={"description": "Texte alternatif"})
    width = ma.fields.Integer(allow_none=True, metadata={"description": "Grande taille, px"})
    height = ma.fields.Integer(allow_none=True, metadata={"description": "Grande taille, px"})
    error = ma.fields.String(allow_none=True, metadata={"description": "Code du refus"})
    reason = ma.fields.String(
        allow_none=True, metadata={"description": "Le refus, dans la langue du client"}
    )
