"""The portal's search API for its map (`POST /api/v1/france/search`): the same request body
as a territory's search, answered at the map's zoom — by département, by commune within one
département, or square by square within a bounded view — with the counts over France and the
partner territories where the search holds; and one square explained (`/search/cell`). A
signed-in person's precise search makes them a contact of those partners, opening a partner's
green square its prospect (sites/portal/leads.py)."""

from __future__ import annotations

import math

from flask import Blueprint, request
from flask_babel import gettext as _

from core import grid
from core.auth.service import link_on
from core.extensions import csrf
from core.problems import ApiProblem
from sites.portal import partners as partner_list
from sites.portal.leads import record_national_click, record_national_search
from sites.portal.listings import listings_around
from sites.project.stages import hold_query_to_stage, listings_open
from sites.search import national
from sites.search.api import json_answer, limit_searches, search_body, search_query
from sites.search.engine import STATUS_NAMES
from tenants.entitlements import Feature, entitled

bp = Blueprint("portal_api", __name__, url_prefix="/api/v1/france")
csrf.exempt(bp)  # JSON only, like the territories' search API
LEVELS = ("departements", "communes", "cells")
#: Partners named in an answer (the most green squares first).
PARTNERS_SHOWN = 20


@bp.before_request
def guard():
    limit_searches("portal")


def _bbox() -> tuple[float, float, float, float]:
    """`bbox=west,south,east,north` in degrees, within metropolitan France's reach."""
    raw = request.args.get("bbox", "")
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        message = _("Give the view as bbox=west,south,east,north in degrees.")
        raise ApiProblem(400, message, errors={"bbox": [message]}) from None
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not finite or not (-10 <= west < east <= 15 and 38 <= south < north <= 55):
        message = _("The view must lie around metropolitan France, west before east.")
        raise ApiProblem(400, message, errors={"bbox": [message]})
    return west, south, east, north


def _areas(result, level: str, departement: str | None) -> list[dict]:
    mapped = result.matrix.mapped
    if level == "departements":
        places, areas = mapped.departement_places, national.by_departement(result)
    else:
        places, areas = mapped.commune_places, national.by_commune(result, departement)
    names, points = places["names"], places["points"]
    return [
        {
            "code": area.code,
            "name": names[area.index],
            "point": points[area.index],
            "cells": area.cells,
            "green": area.green,
            "orange": area.orange,
            "yellow": area.yellow,
        }
        for area in areas
    ]


def _cells(result, box) -> list[dict]:
    try:
        picked = national.viewport(result, *box)
    except national.ViewportTooLarge as error:
        raise ApiProblem(400, _("This view is too wide to show squares: zoom in."),
                         errors={"bbox": [str(error)]}) from None  # fmt: skip
    codes = result.matrix.ids[picked]
    in_partner = partner_list.partner_mask(result.matrix)[picked].tolist()
    statuses = result.fails[picked].tolist()
    return [
        {"id": cell, "status": STATUS_NAMES[s], "partner": p, "corners": c}
        for cell, s, p, c in zip(
            national.ids_of(codes), statuses, in_partner, national.corners(codes), strict=True
        )
    ]


def _partners(result) -> list[dict]:
    out = []
    for held in partner_list.holding(result, PARTNERS_SHOWN):
        ref = held.partner.territory
        out.append(
            {
                "slug": ref.slug,
                "name": ref.name,
                "green": held.green,
                "cells": held.cells,
                "site": _site(held.partner),
            }
        )
    return out


def _site(partner) -> str | None:
    """The partner's own site, while option 2 covers it."""
    return link_on(partner.host) if entitled(partner.territory, Feature.site) else None


@bp.post("/search")
def search():
    level = request.args.get("level", "departements")
    if level not in LEVELS:
        message = _("One of: %(values)s.", values=", ".join(LEVELS))
        raise ApiProblem(400, message, errors={"level": [message]})
    departement = request.args.get("departement") if level == "communes" else None
    box = _bbox() if level == "cells" else None
    query = search_query(search_body())
    hold_query_to_stage(query)
    try:
        result = national.national_search(query)
    except national.NationalMatrixError:
        raise ApiProblem(503, _("The France-wide search is not available right now.")) from None
    if departement is not None and departement not in result.matrix.mapped.departement_codes:
        message = _("No such département: %(code)s.", code=departement[:3])
        raise ApiProblem(400, message, errors={"departement": [message]})
    record_national_search(query, result)
    body = {
        "version": result.version,
        "counts": result.counts,
        "precise": result.precise,
        "total": result.total,
        "level": level,
        "partners": _partners(result),
    }
    if level == "cells":
        body["cells"] = _cells(result, box)
    else:
        body["areas"] = _areas(result, level, departement)
    return json_answer(body)


@bp.post("/search/cell")
def cell():
    """One square explained against the search, the partners whose land holds it; opening a
    partner's green square of a precise search makes a signed-in person its prospect."""
    data = search_body()
    query = search_query(data, extra=("cell",))
    hold_query_to_stage(query)
    cell_id = data.get("cell")
    if not isinstance(cell_id, str) or not cell_id or len(cell_id) > 40:
        message = _("A square's id is needed.")
        raise ApiProblem(400, message, errors={"cell": [message]})
    try:
        evaluation = national.explain_cell(query, cell_id)
    except grid.CellIdError:
        message = _("Not a square of metropolitan France: %(cell)s.", cell=cell_id)
        raise ApiProblem(400, message, errors={"cell": [message]}) from None
    except LookupError:
        raise ApiProblem(404, _("This square holds no data yet.")) from None
    except national.NationalMatrixError:
        raise ApiProblem(503, _("The France-wide search is not available right now.")) from None
    matrix = national.national_matrix()
    partners = partner_list.holding_cell(matrix, matrix.index_of(cell_id))
    record_national_click(query, cell_id, evaluation, [p.territory for p in partners])
    # A complete project opens the listings (a person below it is told how to see them).
    evaluation["listings_open"] = listings_open()
    evaluation["listings"] = listings_around(matrix, cell_id) if listings_open() else []
    evaluation["partners"] = [
        {"slug": p.territory.slug, "name": p.territory.name, "site": _site(p)} for p in partners
    ]
    return json_answer(evaluation)
