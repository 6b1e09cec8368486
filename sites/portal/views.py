"""The portal's pages: home, the France-wide search (its answer by département, by commune and
by partner territory, as tables the map will draw), the partner territories, privacy."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import format_percent, get_locale
from flask_babel import gettext as _

from core.auth.service import territory_link
from core.fanout import read_in
from core.maps import local_map, map_parts
from core.registry import kind_label
from core.themes import render_site
from sites.audience import count_search, entered
from sites.campaigns.views import follow
from sites.content import home_content
from sites.home import amenity_lines, key_figures
from sites.portal import partners as partner_list
from sites.portal.leads import record_national_search
from sites.project.stages import criteria_allowed, hold_to_stage
from sites.search import national
from sites.search.form import (
    criterion_labels,
    preset_description,
    preset_name,
    query_args,
    read_form,
    run_form,
)
from sites.search.layer import page_map
from sites.search.national import NationalMatrixError
from sites.search.presets import BY_PRESET
from sites.search.table import STATUS_LABELS
from tenants.entitlements import Feature, entitled

log = logging.getLogger("vivrau.portal")
bp = Blueprint("portal", __name__, static_folder="static", static_url_path="/portail/static")

#: Partner territories featured on the home page.
FEATURED = 6
#: Communes listed for one département (the most green cells first).
COMMUNES_SHOWN = 100


@bp.app_context_processor
def portal_helpers():
    return {
        "on_portal": bool(g.get("portal")),
        "percent": lambda share: format_percent(share, format="#,##0 %"),
    }


def _presets() -> list[tuple[str, str, str]]:
    return [(k, preset_name(p), preset_description(p)) for k, p in BY_PRESET.items()]


def _partner_entry(ref) -> dict:
    """A partner as the pages list it: its name, its kind in words, its site when it has one."""
    has_site = entitled(ref, Feature.site)
    return {
        "territory": ref,
        "kind": kind_label(ref.kind),
        "site": territory_link(ref) if has_site else None,
        "search": territory_link(ref, "search.page") if has_site else None,
        "page": url_for("portal.partner", slug=ref.slug),
    }


def france_map():
    """The national map: France at first, drawn by the page's script from the search API."""
    return map_parts(
        local_map(
            location=[46.6, 2.4], zoom_start=6, zoom_snap=0.5, prefer_canvas=True,
            control_scale=True,
        )
    )  # fmt: skip


def _matrix_or_none():
    try:
        return national.national_matrix()
    except NationalMatrixError:
        log.exception("the portal's search has no national matrix")
        return None


@bp.get("/")
def home():
    matrix = _matrix_or_none()
    territories = partner_list.partner_territories()
    return render_site(
        "portal/home.html",
        presets=_presets(),
        featured=[_partner_entry(r) for r in territories[:FEATURED]],
        partner_count=len(territories),
        cell_count=len(matrix) if matrix is not None else 0,
    )


def _departements(result) -> list[dict]:
    names = result.matrix.mapped.departement_places["names"]
    rows = [{"area": a, "name": names[a.index]} for a in national.by_departement(result)]
    rows.sort(key=lambda r: (-r["area"].green, -r["area"].green_share, r["area"].code))
    return rows


def _communes(result, departement: str) -> list[dict]:
    names = result.matrix.mapped.commune_places["names"]
    areas = national.by_commune(result, departement)
    areas.sort(key=lambda a: (-a.green, -a.green_share, a.code))
    return [{"area": a, "name": names[a.index]} for a in areas[:COMMUNES_SHOWN]]


@bp.get("/recherche")
def search():
    form = read_form(request.args)
    hold_to_stage(form)
    matrix = _matrix_or_none()
    result, problem = (None, None) if matrix is None else run_form(form, national.national_search)
    departement = request.args.get("departement", "")[:3]
    context = {"departements": [], "communes": [], "holding": [], "departement": None}
    args = query_args(form.query()) if form.valid else []
    if result is not None:
        count_search()
        record_national_search(result.query, result)
        context["departements"] = _departements(result)
        known = {row["area"].code: row["name"] for row in context["departements"]}
        if departement in known:
            context["departement"] = {"code": departement, "name": known[departement]}
            context["communes"] = _communes(result, departement)
        context["holding"] = [
            {**_partner_entry(h.partner.territory), "holding": h}
            for h in partner_list.holding(result)
        ]
    return render_site(
        "portal/search.html",
        form=form,
        result=result,
        problem=problem,
        unavailable=matrix is None,
        presets=_presets(),
        labels=criterion_labels(),
        query_string=urlencode(args),
        query=form.query() if result is not None else None,
        fmap=france_map() if result is not None else None,
        criteria_allowed=criteria_allowed(),
        status_labels=STATUS_LABELS,
        **context,
    )


@bp.get("/territoires")
def partners():
    return render_site(
        "portal/partners.html",
        partners=[_partner_entry(r) for r in partner_list.partner_territories()],
    )


def _partner_or_404(slug: str):
    found = next((r for r in partner_list.partner_territories() if r.slug == slug), None)
    if found is None:
        abort(404)
    return found


@bp.get("/c/<slug>/<code>")
def campaign(slug: str, code: str):
    """A partner's short campaign link on the portal: on to its page (an unknown code, or a
    territory that is no partner, is counted as no campaign)."""
    ref = next((r for r in partner_list.partner_territories() if r.slug == slug), None)
    if ref is None:
        return redirect(url_for(".home"))
    read_in(ref, lambda: follow(ref, code, visit=entered(request.referrer, request.host)))
    return redirect(url_for(".partner", slug=ref.slug))


@bp.get("/territoires/<slug>")
def partner(slug: str):
    """A partner territory presented on the portal: its own words, its three axes, key figures
    computed from its squares, its listings by kind, a small map; then on to its own site."""
    ref = _partner_or_404(slug)
    if code := request.args.get("utm_campaign"):
        read_in(ref, lambda: follow(ref, code, visit=entered(request.referrer, request.host)))
    locale = str(get_locale())

    def read():
        return key_figures(ref), home_content(locale), page_map(ref)

    figures, content, fmap = read_in(ref, read)
    entry = _partner_entry(ref)
    listings = [
        (
            kind,
            count,
            territory_link(ref, "listings_site.by_kind", kind=kind) if entry["site"] else None,
        )
        for kind, count in figures.listings.items()
    ]
    return render_site(
        "portal/partner.html",
        partner=entry,
        content=content,
        figures=figures,
        amenities=amenity_lines(figures),
        listings=listings,
        fmap=fmap,
    )


@bp.get("/confidentialite")
def privacy():
    return render_site("portal/privacy.html", title=_("Privacy"))
