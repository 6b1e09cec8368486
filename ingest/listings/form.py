"""The editor console's listing form, derived from the declarations: controls grouped and filled,
a submitted form read back as an input item. Saving goes through `service.save(..., strict=False)`,
so a form is held to exactly the API's and the file's rules."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import english
from ingest.listings.declaration import Field, fields_of
from ingest.listings.labels import choice_label, kind_title, label
from ingest.listings.models import Listing
from ingest.listings.rules import french_number, iso_date
from ingest.listings.spellings import folded
from ingest.listings.store import WRITABLE_STATUSES

#: Where each common field sits in the form; the kind's own fields follow in their own group.
GROUPS = (
    ("identity", _l("The listing"), ("external_id", "title", "description")),
    (
        "place",
        _l("Location"),
        (
            "commune_insee",
            "address",
            "postcode",
            "latitude",
            "longitude",
            "lambert_x",
            "lambert_y",
        ),
    ),
    ("dates", _l("Publication"), ("published_on", "expires_on")),
    ("contact", _l("Contact and links"), ("url", "contact_email", "contact_phone", "photo_url")),
)
_INPUT_TYPES = {
    "contact_email": "email",
    "contact_phone": "tel",
    "url": "url",
    "application_url": "url",
    "website": "url",
}
_AUTOCOMPLETE = {"postcode": "postal-code", "address": "street-address"}
#: Coordinates need their decimals; other numbers are stored with two.
_FINE_STEP = {"latitude", "longitude", "lambert_x", "lambert_y"}
#: Shown folded under "advanced": few editors have Lambert-93 coordinates at hand.
ADVANCED = {"lambert_x", "lambert_y"}
#: The start of an identifier made for a listing saved without one, per kind.
ID_PREFIXES = {
    "real_estate": "IMMO",
    "job": "EMPLOI",
    "business": "REPRISE",
    "leisure": "LOISIR",
    "poi": "LIEU",
}


@dataclass
class Input:
    """One form control, with everything its template needs (label, help, value, errors)."""

    name: str
    label: str
    help: str
    control: str  # text | textarea | number | date | email | url | tel | select
    value: str = ""
    required: bool = False
    step: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    readonly: bool = False
    autocomplete: str | None = None
    #: Folded away under "advanced" in the form.
    advanced: bool = False

    @property
    def id(self) -> str:
        return f"f-{self.name}"


@dataclass
class Group:
    key: str
    legend: str
    inputs: list[Input]


def _control(f: Field) -> str:
    if f.enum or f.type == "boolean":
        return "select"
    if f.type in ("integer", "number"):
        return "number"
    if f.type == "date":
        return "date"
    if f.multiline:
        return "textarea"
    return _INPUT_TYPES.get(f.name, "text")


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def build_form(
    kind: str,
    values: Mapping | None = None,
    errors: Mapping[str, list[str]] | None = None,
    *,
    locked: frozenset[str] = frozenset(),
) -> list[Group]:
    """The kind's form, grouped, filled with `values` and the errors of a refused save."""
    values, errors = values or {}, errors or {}
    by_name: dict[str, Input] = {}
    for f in fields_of(kind):
        control = _control(f)
        choices: list[tuple[str, str]] = []
        if f.type == "boolean":
            # Three states: a file or the API may leave it unsaid, and saving must not invent it.
            choices = [
                ("", str(_l("Not stated"))),
                ("true", str(_l("Yes"))),
                ("false", str(_l("No"))),
            ]
        elif f.enum:
            choices = [("", "—")] if not f.required else [("", str(_l("Choose…")))]
            choices += [(v, choice_label(f.name, v)) for v in f.enum]
        step = None
        if f.type == "integer":
            step = "1"
        elif f.type == "number":
            step = "any" if f.name in _FINE_STEP else "0.01"
        by_name[f.name] = Input(
            name=f.name,
            label=label(f),
            help="" if english() else f.description_fr,
            control=control,
            value=_shown(values.get(f.name)),
            required=f.required,
            step=step,
            minimum=f.minimum,
            maximum=f.maximum,
            max_length=f.max_length,
            choices=choices,
            errors=list(errors.get(f.name, [])),
            readonly=f.name in locked,
            autocomplete=_AUTOCOMPLETE.get(f.name),
            advanced=f.name in ADVANCED,
        )
    if "external_id" not in locked:  # a new listing: its identifier may be left to us
        made = by_name["external_id"]
        made.required = False
        made.help = str(
            _l(
                "Your own reference, used by files and the API to update this listing. Leave it "
                "empty and one is made for it (for example %(example)s).",
                example=f"{ID_PREFIXES.get(kind, 'ANNONCE')}-{date.today():%Y%m%d}-3f9c1a",
            )
        )
    groups = []
    placed: set[str] = set()
    for key, legend, names in GROUPS:
        inputs = [by_name[n] for n in names if n in by_name]
        placed.update(n for n in names)
        groups.append(Group(key, str(legend), inputs))
    own = [i for n, i in by_name.items() if n not in placed]
    groups.insert(1, Group(kind, kind_title(kind), own))
    return groups


def form_fields(kind: str) -> list[str]:
    """Names of the form's controls, in order (checked against the file and the API)."""
    return [i.name for g in build_form(kind) for i in g.inputs]


def parse_form(kind: str, form: Mapping[str, str]) -> dict:
    """A submitted form as an input item: blanks become None, French numbers and dates are
    read as in a normed file; typing and rules are left to the schema."""
    item: dict = {}
    for f in fields_of(kind):
        raw = (form.get(f.name) or "").strip()
        if f.name == "description":
            raw = (form.get(f.name) or "").replace("\r\n", "\n").strip()
        if raw == "":
            item[f.name] = None
        elif f.type in ("integer", "number"):
            item[f.name] = french_number(raw)
        elif f.type == "date":
            item[f.name] = iso_date(raw)
        else:
            item[f.name] = raw
    return item


def error_summary(groups: list[Group]) -> list[Input]:
    return [i for g in groups for i in g.inputs if i.errors]


def exists(kind: str, external_id: str | None) -> bool:
    if not external_id:
        return False
    return (
        db.session.execute(
            select(Listing.id).where(Listing.kind == kind, Listing.external_id == external_id)
        ).first()
        is not None
    )


def new_external_id(kind: str) -> str:
    """An identifier for a listing saved without one: its kind, the day, six random hex digits
    (`IMMO-20261207-3f9c1a`), never one the territory already uses for that kind."""
    while True:
        made = f"{ID_PREFIXES.get(kind, 'ANNONCE')}-{date.today():%Y%m%d}-{secrets.token_hex(3)}"
        if not exists(kind, made):
            return made


def commune_code(value: str | None, communes: list[tuple[str, str]]) -> str | None:
    """The commune typed by its name ("saint flour") as its INSEE code, when exactly one commune
    of the territory is called so; anything else is returned as typed, for the rules to judge."""
    if not value or any(value == code for code, _name in communes):
        return value
    wanted = folded(value)
    found = [code for code, name in communes if folded(name) == wanted]
    return found[0] if len(found) == 1 else value


def kept_status(listing: Listing | None) -> str:
    """The status a form save keeps: a new listing starts as a draft; publishing is a button."""
    if listing is None:
        return "draft"
    return listing.status if listing.status in WRITABLE_STATUSES else "published"
