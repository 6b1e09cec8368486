"""The search form without script: its rows, query string and presets, and the engine's answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.i18n import pick
from core.tenancy import TenantRef
from ingest.reference.criteria import BY_ID, CRITERIA, Criterion
from sites.search.advice import advice
from sites.search.engine import Result, evaluate_cell, label_of, score
from sites.search.presets import BY_PRESET, Preset
from sites.search.query import QueryError, parse_query
from sites.search.values import UNIT_WORDS, threshold_text

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
#: A unit as the form writes it after a threshold (a count's: "within reach").
UNITS = {**UNIT_WORDS, "count": _l("within reach")}


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


def bound_of(criterion: Criterion) -> str:
    """How a threshold binds, in the reader's language: "at most" or "at least"."""
    return _("at most") if criterion.direction == "lower" else _("at least")


def criterion_labels() -> dict[str, str]:
    """Every criterion's name in the reader's language, by id."""
    return {c.id: label_of(c) for c in CRITERIA}


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
        return label_of(self.criterion)

    @property
    def unit(self) -> str:
        return str(UNITS.get(self.criterion.unit, self.criterion.unit))

    @property
    def default(self) -> str:
        return format_decimal(self.criterion.threshold)

    @property
    def bound(self) -> str:
        return bound_of(self.criterion)


@dataclass
class SearchForm:
    """The search as the form holds it, and as the API takes it (`query`)."""

    rows: list[Row]
    budget: str = ""
    adults: str = ""
    children: str = ""
    preset: str = ""
    #: The preset filled the criteria (none was chosen one by one).
    preset_applied: bool = False
    searched: bool = False
    errors: list[str] = field(default_factory=list)
    #: Said above the criteria without stopping the search (a stage applied a preset in part).
    notice: str = ""

    @property
    def valid(self) -> bool:
        """Searched, and every number typed is a number."""
        return self.searched and not self.errors and not any(r.error for r in self.rows)

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


def preset_query(preset: Preset) -> dict:
    return {"criteria": preset.as_json()["criteria"]}


def preset_name(preset: Preset) -> str:
    return pick(preset.name_fr, preset.name_en)


def preset_description(preset: Preset) -> str:
    return pick(preset.description_fr, preset.description_en)


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
    preset = BY_PRESET.get(form.preset)
    if preset is not None and not used:
        fill_from_query(form, preset_query(preset))
        form.preset_applied = True
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


def run_form(form: SearchForm, scorer) -> tuple[Result | None, str | None]:
    """(result, error message): `scorer(query)` for the form's query, or why there is none."""
    if not form.valid:
        return None, None
    try:
        query = parse_query(form.query())
    except QueryError as exc:
        return None, _attach(form, exc)
    return scorer(query), None


def run_search(tenant: TenantRef, form: SearchForm) -> tuple[Result | None, str | None]:
    """(result, error message): the territory's engine's answer to the form, or why none."""
    return run_form(form, lambda query: score(tenant, query))


def _attach(form: SearchForm, exc: QueryError) -> str:
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


def cell_panel(tenant: TenantRef, form: SearchForm, cell: str) -> dict | None:
    """The panel of one cell for the page without JavaScript (`?cell=`)."""
    if not cell or not form.valid:
        return None
    try:
        return evaluate_cell(tenant, parse_query(form.query()), cell)
    except (QueryError, LookupError, ValueError):
        return None


def advice_context(form: SearchForm, result: Result | None) -> dict | None:
    """The summary's advice (sites/search/advice.py) in words, with the link that applies it:
    the same search with the suggested threshold (the criterion made a must-have)."""
    found = advice(result)
    if found is None:
        return None
    c = found.criterion
    out = {
        "kind": found.kind,
        "advice": found,
        "label": label_of(c),
        "bound": bound_of(c),
        "threshold": threshold_text(c, found.threshold) if found.threshold is not None else "",
        "suggested": threshold_text(c, found.suggested) if found.suggested is not None else "",
        "has_must": bool(result.query.must),
        "url": None,
    }
    # "At least 0" asks nothing: relaxing it that far is dropping it.
    out["drop"] = found.kind == "relax" and found.suggested == 0 and c.direction == "higher"
    if found.suggested is not None and form.valid:
        threshold = None if out["drop"] else found.suggested
        out["url"] = _with_threshold(form.query(), c.id, threshold) + "#results-title"
    return out


def _with_threshold(query: dict, cid: str, threshold: float | None) -> str:
    """The search URL of `query` with this criterion a must-have at this threshold (None:
    without it)."""
    criteria = [dict(item) for item in query.get("criteria", []) if item.get("id") != cid]
    if threshold is not None:
        criteria.append({"id": cid, "threshold": threshold, "importance": "must"})
    order = [item.get("id") for item in query.get("criteria", [])]
    criteria.sort(key=lambda item: order.index(item["id"]) if item["id"] in order else len(order))
    return search_url({**query, "criteria": criteria})
