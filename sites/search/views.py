"""The resident's search page: criteria form, map layer, table of cells, saved searches."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from core.auth.service import portal_root
from core.extensions import limiter
from core.forms import ConfirmForm
from core.tenancy import require_tenant
from core.themes import render_site
from ingest.listings.declaration import KINDS
from ingest.listings.labels import kind_title
from sites.audience import count_search
from sites.project.stages import criteria_allowed, hold_to_stage
from sites.search import layer
from sites.search.form import (
    advice_context,
    cell_panel,
    criterion_labels,
    preset_description,
    preset_name,
    preset_query,
    query_args,
    read_form,
    run_search,
    search_url,
)
from sites.search.presets import BY_PRESET
from sites.search.saved import MAX_SAVED, TooManySaved, delete_search, save_search, searches_of
from sites.search.table import STATUS_LABELS, table_context
from tenants.entitlements import Feature, guard

bp = Blueprint("search", __name__, static_folder="static", static_url_path="/recherche/static")
bp.before_request(guard(Feature.site))  # the dedicated site: option 2


class SaveSearchForm(FlaskForm):
    name = StringField(_l("Name of this search"), [InputRequired(), Length(max=100)])
    query = HiddenField()


def _args_without(*names: str) -> list[tuple[str, str]]:
    """This request's query string less some parameters (the table's own form repeats it)."""
    return [(k, v) for k, v in request.args.items(multi=True) if k not in names]


@bp.get("/recherche")
def page():
    tenant = require_tenant()
    form = read_form(request.args)
    hold_to_stage(form)
    result, problem = run_search(tenant, form)
    if result is not None:
        count_search()
    table = table_context(tenant, result, request.args)
    panel = cell_panel(tenant, form, request.args.get("cell", "")[:60])
    save_form = SaveSearchForm(query=urlencode(query_args(form.query())) if form.valid else "")
    html = render_site(
        "search/page.html",
        form=form,
        result=result,
        counts=result.counts if result is not None else None,
        precise=result.precise if result is not None else None,
        advice=advice_context(form, result),
        problem=problem,
        table=table,
        panel=panel,
        labels=criterion_labels(),
        status_labels=STATUS_LABELS,
        presets=[(k, preset_name(p), preset_description(p)) for k, p in BY_PRESET.items()],
        preset_data={k: preset_query(p) for k, p in BY_PRESET.items()},
        fmap=layer.page_map(tenant),
        kinds=[(k, kind_title(k)) for k in KINDS],
        save_form=save_form,
        args_without=_args_without,
        criteria_allowed=criteria_allowed(),
        portal=portal_root(),
    )
    return html


@bp.get("/recherche/tableau")
def table_fragment():
    """The table of cells alone, for the page's script after a search, sort or page change."""
    tenant = require_tenant()
    form = read_form(request.args)
    result, problem = run_search(tenant, form)
    return render_site(
        "search/_fragment.html",
        form=form,
        counts=result.counts if result is not None else None,
        precise=result.precise if result is not None else None,
        advice=advice_context(form, result),
        table=table_context(tenant, result, request.args),
        status_labels=STATUS_LABELS,
        problem=problem,
        args_without=_args_without,
    )


@bp.get("/recherche/cellules.json")
def cells():
    """The territory's cells as one static layer, in the engine's order (statuses index it)."""
    tenant = require_tenant()
    version, body = layer.cell_layer(tenant)
    etag = f"cells-{version}"
    wanted = {tag.split(":", 1)[0] for tag in request.if_none_match.as_set()}
    if etag in wanted or request.if_none_match.star_tag:
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    # A day in caches; the ETag (the order's version) says when it changed before then.
    response.headers["Cache-Control"] = "public, max-age=300, stale-while-revalidate=86400"
    response.headers["Vary"] = "Accept-Encoding"
    return response


# --- saved searches -------------------------------------------------------------------------


@bp.post("/recherche/enregistrer")
@login_required
@limiter.limit("30 per minute")
def save():
    require_tenant()
    form = SaveSearchForm()
    search = read_form(_args_from(form.query.data or ""))
    if not form.validate() or not search.searched or search.errors:
        flash(_("Give the search a name (100 characters at most) and choose criteria."), "error")
        return redirect(url_for("search.page") + "?" + (form.query.data or "")[:4000])
    name = form.name.data.strip()
    try:
        save_search(current_user.id, name, search.query())
    except TooManySaved:
        flash(_("You keep %(n)d searches already: delete one first.", n=MAX_SAVED), "error")
        return redirect(url_for("search.saved"))
    flash(_("The search “%(name)s” is saved.", name=name), "success")
    return redirect(url_for("search.saved"))


def _args_from(query_string: str) -> MultiDict:
    return MultiDict(parse_qsl(query_string[:4000], keep_blank_values=True))


@bp.get("/compte/recherches")
@login_required
def saved():
    tenant = require_tenant()
    labels = criterion_labels()
    items = [
        {
            "search": s,
            "url": search_url(s.query),
            "summary": [labels.get(c.get("id"), c.get("id")) for c in s.query.get("criteria", [])],
        }
        for s in searches_of(current_user.id)
    ]
    return render_site("search/saved.html", tenant=tenant, items=items, delete_form=ConfirmForm())


@bp.post("/compte/recherches/<int:search_id>/supprimer")
@login_required
def delete(search_id: int):
    require_tenant()
    if not ConfirmForm().validate():
        abort(400)
    found = delete_search(current_user.id, search_id)
    if found is None:  # someone else's, or gone: the same answer
        abort(404)
    flash(_("The search “%(name)s” is deleted.", name=found.name), "success")
    return redirect(url_for("search.saved"))
