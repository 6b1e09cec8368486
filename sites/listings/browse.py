"""The public list's filters per kind: read from the query string, checked, turned into SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from core.extensions import db
from core.i18n import pick
from ingest.listings.declaration import CHOICE_LABELS, all_fields
from ingest.listings.labels import choice_label, label
from ingest.listings.models import Listing
from ingest.reference.rome import DOMAINS
from sites.listings import labels
from sites.listings.public import visible

_ROME_PREFIX = re.compile(r"^[A-N]\d{0,4}$")
#: Filter names per kind, in the order of the form (the commune and the sort are everyone's).
BY_KIND = {
    "real_estate": (
        "transaction",
        "property_type",
        "price_min",
        "price_max",
        "area_min",
        "rooms_min",
    ),
    "job": ("contract_type", "rome", "full_time"),
    "business": ("transfer_type", "price_max"),
    "leisure": ("category", "date_from", "date_to"),
    "poi": ("theme",),
}
#: Kinds that can be sorted by price (they have a price column).
PRICED = ("real_estate", "business")
SORTS = ("newest", "price_asc", "price_desc")
_MAX_AMOUNT = Decimal("1000000000")


@dataclass
class Control:
    """One control of the filter form, ready for the template."""

    name: str
    label: str
    control: str  # select | number | text | date | checkbox
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    error: str = ""
    step: str | None = None


@dataclass
class Filters:
    kind: str
    values: dict = field(default_factory=dict)  # clean values, by filter name
    raw: dict = field(default_factory=dict)  # what the reader typed, shown back
    errors: dict = field(default_factory=dict)
    sort: str = "newest"
    controls: list[Control] = field(default_factory=list)

    def args(self, **over) -> dict:
        """The query string of this view (valid or not, as typed), with some values replaced."""
        out = {k: v for k, v in self.raw.items() if v not in ("", None)}
        if self.sort != "newest":
            out["sort"] = self.sort
        out.update({k: v for k, v in over.items() if v is not None})
        return out


def names(kind: str) -> tuple[str, ...]:
    return ("commune", *BY_KIND[kind], "sort")


def _label(name: str) -> str:
    fields = all_fields()
    labels = {
        "commune": _("Commune"),
        "price_min": _("Minimum price (€)"),
        "price_max": _("Maximum price (€)"),
        "area_min": _("Minimum living area (m²)"),
        "rooms_min": _("Minimum number of rooms"),
        "rome": _("Line of work"),
        "full_time": _("Full time only"),
        "date_from": _("Taking place from"),
        "date_to": _("Taking place until"),
        "sort": _("Sort by"),
    }
    return labels.get(name) or label(fields[name])


def _distinct(column, kind: str) -> list[str]:
    """The values a free-text column takes among the kind's visible listings (for a select)."""

    return list(
        db.session.execute(
            select(column)
            .where(visible(), Listing.kind == kind, column.is_not(None), column != "")
            .distinct()
            .order_by(column)
            .limit(200)
        ).scalars()
    )


def _amount(text: str) -> Decimal:
    value = Decimal(
        text.replace(" ", "").replace("\u202f", "").replace("\xa0", "").replace(",", ".")
    )
    if not value.is_finite() or value < 0 or value > _MAX_AMOUNT:
        raise InvalidOperation
    return value


def parse(kind: str, args, communes: list[tuple[str, str]]) -> Filters:
    """Read and check the filters of a kind; a bad value is reported and left out."""
    filters = Filters(kind)
    commune_codes = {code for code, _name in communes}
    choices: dict[str, list[tuple[str, str]]] = {
        "commune": [(c, n) for c, n in communes],
        "sort": [
            ("newest", _("Newest first")),
            *(
                [("price_asc", _("Lowest price first")), ("price_desc", _("Highest price first"))]
                if kind in PRICED
                else []
            ),
        ],
    }
    for name in ("transaction", "property_type", "contract_type", "transfer_type"):
        choices[name] = [(code, choice_label(name, code)) for code in CHOICE_LABELS.get(name, {})]
    if kind == "leisure":
        choices["category"] = [(v, labels.category(v)) for v in _distinct(Listing.category, kind)]
    if kind == "poi":
        choices["theme"] = [(v, v) for v in _distinct(Listing.theme, kind)]

    for name in names(kind):
        raw = (args.get(name) or "").strip()
        filters.raw[name] = raw
        if not raw:
            continue
        try:
            if name in choices:
                allowed = {code for code, _label in choices[name]}
                if name == "commune":
                    allowed = commune_codes
                if raw not in allowed:
                    raise ValueError(_("Choose one of the values of the list."))
                filters.values[name] = raw
            elif name in ("price_min", "price_max", "area_min"):
                try:
                    filters.values[name] = _amount(raw)
                except InvalidOperation:
                    raise ValueError(_("Enter a positive number, for example 150000.")) from None
            elif name == "rooms_min":
                if not raw.isdigit() or int(raw) > 200:
                    raise ValueError(_("Enter a whole number between 0 and 200."))
                filters.values[name] = int(raw)
            elif name == "rome":
                code = raw.upper()
                if not _ROME_PREFIX.match(code):
                    raise ValueError(
                        _("A ROME code is a letter A to N and up to 4 digits, for example K21.")
                    )
                filters.values[name] = code
            elif name == "full_time":
                if raw not in ("1", "on", "true"):
                    raise ValueError(_("Tick the box or leave it empty."))
                filters.values[name] = True
            elif name in ("date_from", "date_to"):
                try:
                    filters.values[name] = date.fromisoformat(raw)
                except ValueError:
                    raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
        except ValueError as exc:
            filters.errors[name] = str(exc)
    low, high = filters.values.get("price_min"), filters.values.get("price_max")
    if low is not None and high is not None and low > high:
        filters.errors["price_max"] = _("The maximum price is below the minimum price.")
        del filters.values["price_max"]
    start, end = filters.values.get("date_from"), filters.values.get("date_to")
    if start and end and start > end:
        filters.errors["date_to"] = _("The end date is before the start date.")
        del filters.values["date_to"]
    filters.sort = filters.values.pop("sort", "newest")

    hints = {
        "date_from": _("YYYY-MM-DD"),
        "date_to": _("YYYY-MM-DD"),
    }
    # Jobs are looked for by their domain (the ROME's first letter; a longer prefix still works
    # in a link), named: a person does not know the codes.
    domains = [(letter, pick(*pair)) for letter, pair in DOMAINS.items()]
    for name in names(kind):
        control = (
            "select"
            if name in choices or name == "rome"
            else "checkbox"
            if name == "full_time"
            else "date"
            if name.startswith("date_")
            else "text"
            if name == "rome"
            else "number"
        )
        filters.controls.append(
            Control(
                name=name,
                label=_label(name),
                control=control,
                value=filters.raw.get(name, ""),
                choices=domains if name == "rome" else choices.get(name, []),
                hint=hints.get(name, ""),
                error=filters.errors.get(name, ""),
                step="1" if name == "rooms_min" else ("any" if control == "number" else None),
            )
        )
    return filters


def conditions(filters: Filters) -> list:
    """SQL conditions of the valid filters."""
    v = filters.values
    out = []
    if "commune" in v:
        out.append(Listing.commune_insee == v["commune"])
    for name in ("transaction", "property_type", "contract_type", "transfer_type"):
        if name in v:
            out.append(getattr(Listing, name) == v[name])
    if "category" in v:
        out.append(Listing.category == v["category"])
    if "theme" in v:
        out.append(Listing.theme == v["theme"])
    if "price_min" in v:
        out.append(Listing.price >= v["price_min"])
    if "price_max" in v:
        out.append(Listing.price <= v["price_max"])
    if "area_min" in v:
        out.append(Listing.living_area_m2 >= v["area_min"])
    if "rooms_min" in v:
        out.append(Listing.rooms >= v["rooms_min"])
    if "rome" in v:
        out.append(Listing.rome_code.startswith(v["rome"], autoescape=True))
    if v.get("full_time"):
        out.append(Listing.full_time.is_(True))
    # An activity takes place in the asked period when it overlaps it (open ends: always).
    if "date_from" in v:
        out.append(or_(Listing.end_on.is_(None), Listing.end_on >= v["date_from"]))
    if "date_to" in v:
        out.append(or_(Listing.start_on.is_(None), Listing.start_on <= v["date_to"]))
    return out


def order(filters: Filters) -> list:
    if filters.sort == "price_asc":
        return [Listing.price.asc().nulls_last(), Listing.id]
    if filters.sort == "price_desc":
        return [Listing.price.desc().nulls_last(), Listing.id.desc()]
    return [
        func.coalesce(Listing.published_on, func.date(Listing.created_at)).desc(),
        Listing.updated_at.desc(),
        Listing.id.desc(),
    ]
