"""`GET /api/v1/cells/<cell_id>/listings`: public listings in and near a 1 km cell (map panel)."""

from __future__ import annotations

import math
from decimal import Decimal

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import and_, select

from core import grid
from core.api import json_response, plain
from core.extensions import db, limiter
from core.problems import ApiProblem
from ingest.listings.api.representation import page_url
from ingest.listings.declaration import KINDS
from ingest.listings.models import Listing
from ingest.reference.communes import names_of
from ingest.reference.territory import TerritoryCell
from sites.listings import nearby
from sites.listings.public import KEY_FIELDS, summary, visible
from sites.project.stages import listings_api_gate
from tenants.entitlements import Feature, guard

#: How far around the cell's centre listings are shown, after those in the cell.
NEAR_KM = 5
PER_PAGE_MAX = 50
#: Per client address and territory: a map panel asks once per click and kind.
RATE = "120 per minute"

blp = Blueprint(
    "cells_api",
    __name__,
    url_prefix="/api/v1/cells",
    description="Public: the published listings in and near a 1 km cell of the territory.",
)
blp.before_request(guard(Feature.site))  # the dedicated site: option 2
blp.before_request(listings_api_gate)  # a staged site: a complete project opens the listings


class CellListingsQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    kind = ma.fields.String(
        validate=ma.validate.OneOf(KINDS), metadata={"description": "Type d'annonce (tous sinon)"}
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10000))
    per_page = ma.fields.Integer(
        load_default=10, validate=ma.validate.Range(min=1, max=PER_PAGE_MAX)
    )


class NearListing(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    external_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    commune_insee = ma.fields.String()
    commune = ma.fields.String(allow_none=True, metadata={"description": "Nom de la commune"})
    in_cell = ma.fields.Boolean(metadata={"description": "Dans le carreau lui-même"})
    distance_km = ma.fields.Float(
        allow_none=True, metadata={"description": "Depuis le centre du carreau, à vol d'oiseau"}
    )
    location_approximate = ma.fields.Boolean(
        metadata={"description": "Placée au centre de sa commune, faute de coordonnées"}
    )
    fields = ma.fields.Dict(metadata={"description": "Champs clés du type (prix, contrat…)"})
    summary = ma.fields.List(
        ma.fields.String(), metadata={"description": "Les mêmes, lisibles, dans la langue"}
    )
    url = ma.fields.Url(metadata={"description": "Page publique de l'annonce"})


class CellListingsPage(ma.Schema):
    cell = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True)
    radius_km = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    pages = ma.fields.Integer()
    total = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(NearListing))


def _fields(listing: Listing) -> dict:
    out = {}
    for name in KEY_FIELDS[listing.kind]:
        value = getattr(listing, name)
        if isinstance(value, Decimal):
            value = plain(value)
        out[name] = plain(value)
    return out


@blp.route("/<cell_id>/listings")
@blp.arguments(CellListingsQuery, location="query", as_kwargs=True, unknown=ma.RAISE)
@blp.response(200, CellListingsPage)
@blp.doc(operationId="cellListings", security=[])
@limiter.limit(RATE)
def cell_listings(cell_id: str, page: int, per_page: int, kind: str | None = None):
    """Published listings in a cell, then within 5 km of its centre, nearest first.

    Public (no key). Distances are straight lines from the cell's centre; a listing without
    coordinates stands at its commune's centre (`location_approximate`).
    """
    try:
        grid.parse(cell_id)
    except grid.CellIdError:
        raise ApiProblem(404, _("This cell is not one of the territory's.")) from None
    known = db.session.execute(
        select(TerritoryCell.cell_id).where(TerritoryCell.cell_id == cell_id)
    ).scalar()
    if known is None:
        raise ApiProblem(404, _("This cell is not one of the territory's."))
    lon, lat = nearby.cell_centre(cell_id)
    where = and_(visible(), Listing.kind == kind) if kind else visible()
    total, rows = nearby.around(
        lon,
        lat,
        NEAR_KM,
        where,
        first_cell=cell_id,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    names = names_of(x.commune_insee for x, *_rest in rows)
    items = [
        {
            "id": x.id,
            "kind": x.kind,
            "external_id": x.external_id,
            "title": x.title,
            "commune_insee": x.commune_insee,
            "commune": names.get(x.commune_insee),
            "in_cell": x.cell_id == cell_id,
            "distance_km": round(distance, 2) if distance is not None else None,
            "location_approximate": x.location_approximate,
            "fields": _fields(x),
            "summary": summary(x),
            "url": page_url(x.kind, x.external_id),
        }
        for x, distance, _x, _y in rows
    ]
    body = {
        "cell": cell_id,
        "kind": kind,
        "radius_km": NEAR_KM,
        "page": page,
        "per_page": per_page,
        "pages": max(1, math.ceil(total / per_page)),
        "total": total,
        "items": items,
    }
    response = json_response(CellListingsPage().dump(body))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Accept-Language"
    return response
