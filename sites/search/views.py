"""The resident's search page: criteria form, map layer, table of cells, saved searches."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from core.extensions import db, limiter
from core.security import apply_headers
from core.tenancy import require_tenant
from core.themes import render_site
from ingest.listings.declaration import KINDS
from ingest.listings.labels import kind_title
from ingest.reference.criteria import BY_ID, CRITERIA, Criterion
from sites.search import engine, layer
from sites.search.models import SavedSearch
from sites.search.presets import BY_PRESET

bp = Blueprint("search", __name__, static_folder="static", static_url_path="/recherche/static")

#: The form's fieldsets, in the order a mover thinks of them; each lists catalogue themes.
GROUPS = (
    ("health", _l("Health"), ("health",)),
    ("education", _l("Childhood and education"), ("education",)),
    ("shops", _l("Shops and services"), ("shops", "services")),
    ("mobility", _l("Transport"), ("mobility",)),
    ("housing", _l("Housing"), ("housing",)),
    ("territory", _l("Jobs and economy"), ("territory",)),
    ("leisure", _l("Leisure and tourism"), ("leisure",)),
    ("population", _l("Population"), ("population",)),
)
UNITS = {
    "km": _l("km"),
    "count": _l("within reach"),
    "€/m²": _l("€/m²"),
    "inh./km²": _l("inhabitants/km²"),
    "%": _l("%"),
    "€/year": _l("€/year"),
}
STATUS_LABELS = {
    "g": _l("All must-haves met"),
    "o": _l("One must-have missing"),
    "y": _l("Several must-haves missing"),
}


def args_without(*names: str) -> list[tuple[str, str]]:
    """This request's query string less some parameters (the table's own form repeats it)."""
    return [(k, v) for k, v in request.args.items(multi=True) if k not in names]


STATUS_NAMES = {"green": "g", "orange": "o", "yellow": "y"}
PAGE_SIZE = 100
#: How many searches one person may keep on one territory.
MAX_SAVED = 50
SORTS = ("status", "score", "commune")


def criterion_label(c: Criterion) -> str:
    return c.label_fr if str(get_locale()) == "fr" else c.label_en


def _number(raw: str | None) -> float | None:
    """A number as typed in France or elsewhere: `12,5`, `12.5`, `180 000`."""
    if raw is None:
        return None
    text = raw.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(raw) from None
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf
        raise ValueError(raw)
    return value


def _plain(value: float) -> str:
    """12.0 → "12", 2.5 → "2.5": thresholds as a person would type them."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class Row:
    """One criterion of the form: used or not, its threshold (as typed), its importance."""

    criterion: Criterion
    used: bool = False
    threshold: str = ""
    importance: str = "must"
    error: str | None = None

    @property
    def label(self) -> str:
        return criterion_label(self.criterion)

    @property
    def unit(self) -> str:
        return str(UNITS.get(self.criterion.unit, self.criterion.unit))

    @property
    def default(self) -> str:
        return format_decimal(self.criterion.threshold)

    @property
    def bound(self) -> str:
        return _("at most") if self.criterion.direction == "lower" else _("at least")


@dataclass
class SearchForm:
    """The search as the form holds it, and as the API takes it (`query`)."""

    rows: list[Row]
    budget: str = ""
    adults: str = ""
    children: str = ""
    preset: str = ""
    searched: bool = False
    errors: list[str] = field(default_factory=list)

    def groups(self):
        by_theme = {}
        for row in self.rows:
            by_theme.setdefault(row.criterion.theme, []).append(row)
        for key, title, themes in GROUPS:
            rows = [r for t in themes for r in by_theme.get(t, [])]
            if rows:
                yield key, title, rows

    def query(self) -> dict:
        """The request body of `POST /api/v1/search` for this form (numbers already checked)."""
        body: dict = {
            "criteria": [
                {
                    "id": r.criterion.id,
                    "threshold": _number(r.threshold)
                    if r.threshold.strip()
                    else r.criterion.threshold,
                    "importance": r.importance,
                }
                for r in self.rows
                if r.used
            ]
        }
        if self.budget.strip():
            body["budget"] = int(_number(self.budget))
        household = {}
        for key in ("adults", "children"):
            raw = getattr(self, key).strip()
            if raw:
                household[key] = int(_number(raw))
        if household:
            body["household"] = household
        return body


def _presets() -> dict:
    return BY_PRESET


def preset_query(preset) -> dict:
    return {"criteria": preset.as_json()["criteria"]}


def preset_name(preset) -> str:
    return preset.name_fr if str(get_locale()) == "fr" else preset.name_en


def preset_description(preset) -> str:
    return preset.description_fr if str(get_locale()) == "fr" else preset.description_en


def read_form(args) -> SearchForm:
    """The form from a query string (the page's GET, a shared link, a saved search)."""
    used = set(args.getlist("c"))
    rows = []
    for c in CRITERIA:
        importance = args.get(f"{c.id}_i", "must")
        rows.append(
            Row(
                c,
                used=c.id in used,
                threshold=(args.get(c.id) or _plain(c.threshold)).strip()[:20],
                importance=importance if importance in ("must", "nice") else "must",
            )
        )
    form = SearchForm(
        rows,
        budget=(args.get("budget") or "").strip()[:20],
        adults=(args.get("adults") or "").strip()[:3],
        children=(args.get("children") or "").strip()[:3],
        preset=args.get("preset", "")[:40],
    )
    preset = _presets().get(form.preset)
    if preset is not None and not used:
        fill_from_query(form, preset_query(preset))
        used = {r.criterion.id for r in form.rows if r.used}
    form.searched = bool(used) or preset is not None or "budget" in args
    _check(form)
    return form


def fill_from_query(form: SearchForm, query: dict) -> None:
    """Put an API body (a preset's, a saved search's) into the form."""
    wanted = {c["id"]: c for c in query.get("criteria", []) if c.get("id") in BY_ID}
    for row in form.rows:
        item = wanted.get(row.criterion.id)
        row.used = item is not None
        if item is not None:
            threshold = item.get("threshold", row.criterion.threshold)
            row.threshold = _plain(threshold) if isinstance(threshold, int | float) else ""
            row.importance = "nice" if item.get("importance") == "nice" else "must"
    if query.get("budget") is not None:
        form.budget = str(query["budget"])
    household = query.get("household") or {}
    form.adults = str(household.get("adults", "") or "")
    form.children = str(household.get("children", "") or "")


def _check(form: SearchForm) -> None:
    """Numbers that are not numbers are said beside their field; the engine checks the rest."""
    for row in form.rows:
        if row.used:
            try:
                _number(row.threshold)
            except ValueError:
                row.error = _("“%(value)s” is not a number.", value=row.threshold)
    for name, label in (
        ("budget", _("Budget")),
        ("adults", _("Adults")),
        ("children", _("Children")),
    ):
        try:
            _number(getattr(form, name))
        except ValueError:
            form.errors.append(
                _("%(field)s: “%(value)s” is not a number.", field=label, value=getattr(form, name))
            )


def query_args(query: dict) -> list[tuple[str, str]]:
    """The query string of a search (only what it uses): shared links, saved searches."""
    out = []
    for item in query.get("criteria", []):
        if item.get("id") not in BY_ID:
            continue
        out.append(("c", item["id"]))
        if item.get("threshold") is not None:
            out.append((item["id"], _plain(item["threshold"])))
        out.append((f"{item['id']}_i", "nice" if item.get("importance") == "nice" else "must"))
    if query.get("budget") is not None:
        out.append(("budget", str(query["budget"])))
    for key in ("adults", "children"):
        value = (query.get("household") or {}).get(key)
        if value is not None:
            out.append((key, str(value)))
    return out


def search_url(query: dict) -> str:
    return url_for("search.page") + "?" + urlencode(query_args(query))


# --- results (no JavaScript needed) --------------------------------------------------------


@dataclass
class TableRow:
    cell: str
    commune: str
    status: str  # g / o / y
    score: float | None
    failed: list[dict]


def run_search(tenant, form: SearchForm):
    """(result, error message): the engine's answer to the form, or why there is none."""

    if any(r.error for r in form.rows) or form.errors:
        return None, None
    try:
        query = engine.parse_query(form.query())
    except engine.QueryError as exc:
        return None, _attach(form, exc)
    return engine.score(tenant, query), None


def _attach(form: SearchForm, exc) -> str:
    """Put the engine's refusals beside their fields (`criteria[2].threshold` → the third
    criterion used); what has no field of its own is said at the top."""
    used = [r for r in form.rows if r.used]
    general = []
    for path, messages in exc.errors.items():
        text = " ".join(str(m) for m in messages)
        match = re.match(r"^criteria\[(\d+)\]", path)
        if match and int(match.group(1)) < len(used):
            used[int(match.group(1))].error = text
            continue
        names = {"budget": _("Budget"), "household.adults": _("Adults")}
        names["household.children"] = _("Children")
        general.append(f"{names.get(path, path)} : {text}")
    form.errors.extend(general)
    return " ".join(general) or _("Some criteria are not valid: see the form.")


def table_rows(tenant, result, sort: str, descending: bool) -> list[TableRow]:
    names = layer.cell_commune_names(tenant)
    rows = [
        TableRow(
            cell=c["id"],
            commune=names.get(c["id"], ""),
            status=STATUS_NAMES.get(c["status"], c["status"][:1]),
            score=c.get("score"),
            failed=c.get("failed") or [],
        )
        for c in result.full()["cells"]
    ]
    rank = {"g": 0, "o": 1, "y": 2}
    if sort == "commune":
        rows.sort(key=lambda r: (r.commune.casefold(), r.cell), reverse=descending)
    elif sort == "score":
        rows.sort(key=lambda r: (r.score or 0, -rank[r.status]), reverse=descending)
    else:  # status: green first, then the best scores
        rows.sort(key=lambda r: (rank[r.status], -(r.score or 0), r.cell), reverse=descending)
    return rows


def _table_state(args):
    """Sort as `score` (ascending) or `-score` (descending), and the page number."""
    # The table's own form repeats the current sort; a sort button's value comes last.
    raw = (args.getlist("sort") or ["status"])[-1]
    descending = raw.startswith("-")
    sort = raw.lstrip("-")
    if sort not in SORTS:
        sort, descending = "status", False
    page = max(1, args.get("page", 1, type=int) or 1)
    return sort, descending, page


def _table_context(tenant, result, args) -> dict:
    sort, descending, page = _table_state(args)
    rows = table_rows(tenant, result, sort, descending) if result is not None else []
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    return {
        "rows": rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "row_count": len(rows),
        "sort": sort,
        "descending": descending,
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1,
    }


def _labels() -> dict:
    return {c.id: criterion_label(c) for c in CRITERIA}


def _units() -> dict:
    """Units written after a value in the table (a count needs none)."""
    return {c.id: str(UNITS[c.unit]) for c in CRITERIA if c.unit in UNITS and c.unit != "count"}


def _cell_panel(tenant, form: SearchForm, cell: str):
    """The panel of one cell for the page without JavaScript (`?cell=`)."""

    if not cell or not form.searched or any(r.error for r in form.rows) or form.errors:
        return None
    try:
        query = engine.parse_query(form.query())
        return engine.evaluate_cell(tenant, query, cell)
    except (engine.QueryError, LookupError, ValueError):
        return None


@bp.get("/recherche")
def page():
    tenant = require_tenant()
    form = read_form(request.args)
    result, problem = run_search(tenant, form) if form.searched else (None, None)
    table = _table_context(tenant, result, request.args)
    panel = _cell_panel(tenant, form, request.args.get("cell", "")[:60])
    presets = _presets()
    valid = form.searched and not form.errors and not any(r.error for r in form.rows)
    save_form = SaveSearchForm(query=urlencode(query_args(form.query())) if valid else "")
    html = render_site(
        "search/page.html",
        form=form,
        result=result,
        counts=result.counts if result is not None else None,
        precise=result.precise if result is not None else None,
        problem=problem,
        table=table,
        panel=panel,
        labels=_labels(),
        units=_units(),
        status_labels=STATUS_LABELS,
        presets=[(k, preset_name(p), preset_description(p)) for k, p in presets.items()],
        preset_data={k: preset_query(p) for k, p in presets.items()},
        fmap=layer.page_map(tenant),
        kinds=[(k, kind_title(k)) for k in KINDS],
        save_form=save_form,
        basemap=_basemap(),
        args_without=lambda *names: [
            (k, v) for k, v in request.args.items(multi=True) if k not in names
        ],
    )
    response = current_app.make_response(html)
    if current_app.config.get("BASEMAP_URL"):
        _allow_basemap(response)
    return response


@bp.get("/recherche/tableau")
def table_fragment():
    """The table of cells alone, for the page's script after a search, sort or page change."""
    tenant = require_tenant()
    form = read_form(request.args)
    result, problem = run_search(tenant, form) if form.searched else (None, None)
    return render_site(
        "search/_fragment.html",
        form=form,
        counts=result.counts if result is not None else None,
        precise=result.precise if result is not None else None,
        table=_table_context(tenant, result, request.args),
        labels=_labels(),
        units=_units(),
        status_labels=STATUS_LABELS,
        problem=problem,
        args_without=lambda *names: [
            (k, v) for k, v in request.args.items(multi=True) if k not in names
        ],
    )


def _basemap() -> dict | None:
    url = current_app.config.get("BASEMAP_URL") or ""
    if not url:
        return None
    return {"url": url, "attribution": current_app.config.get("BASEMAP_ATTRIBUTION") or ""}


def _allow_basemap(response):
    """The basemap's tiles are the only outside images this page may show."""

    parts = urlsplit(current_app.config["BASEMAP_URL"].replace("{s}", "a"))
    origin = f"{parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
    policy = apply_headers(current_app.response_class()).headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        "img-src 'self' data:", f"img-src 'self' data: {origin}", 1
    )
    return response


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


class SaveSearchForm(FlaskForm):
    name = StringField(_l("Name of this search"), [InputRequired(), Length(max=100)])
    query = HiddenField()


class DeleteForm(FlaskForm):
    pass


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
    query = search.query()
    name = form.name.data.strip()
    existing = db.session.execute(
        select(SavedSearch).where(
            SavedSearch.account_id == current_user.id, SavedSearch.name == name
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.query = query
        existing.updated_at = func.now()
    else:
        count = db.session.execute(
            select(func.count())
            .select_from(SavedSearch)
            .where(SavedSearch.account_id == current_user.id)
        ).scalar()
        if count >= MAX_SAVED:
            flash(_("You keep %(n)d searches already: delete one first.", n=MAX_SAVED), "error")
            return redirect(url_for("search.saved"))
        db.session.add(SavedSearch(account_id=current_user.id, name=name, query=query))
    flash(_("The search “%(name)s” is saved.", name=name), "success")
    return redirect(url_for("search.saved"))


def _args_from(query_string: str) -> MultiDict:
    return MultiDict(parse_qsl(query_string[:4000], keep_blank_values=True))


@bp.get("/compte/recherches")
@login_required
def saved():
    tenant = require_tenant()
    rows = list(
        db.session.execute(
            select(SavedSearch)
            .where(SavedSearch.account_id == current_user.id)
            .order_by(SavedSearch.updated_at.desc(), SavedSearch.id.desc())
        ).scalars()
    )
    labels = _labels()
    items = [
        {
            "search": s,
            "url": search_url(s.query),
            "summary": [labels.get(c.get("id"), c.get("id")) for c in s.query.get("criteria", [])],
        }
        for s in rows
    ]
    return render_site("search/saved.html", tenant=tenant, items=items, delete_form=DeleteForm())


@bp.post("/compte/recherches/<int:search_id>/supprimer")
@login_required
def delete(search_id: int):
    require_tenant()
    if not DeleteForm().validate():
        abort(400)
    found = db.session.execute(
        select(SavedSearch).where(
            SavedSearch.id == search_id, SavedSearch.account_id == current_user.id
        )
    ).scalar_one_or_none()
    if found is None:  # someone else's, or gone: the same answer
        abort(404)
    db.session.delete(found)
    flash(_("The search “%(name)s” is deleted.", name=found.name), "success")
    return redirect(url_for("search.saved"))
