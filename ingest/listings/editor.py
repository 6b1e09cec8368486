"""The editor console's listing work: forms derived from the declarations, search, status changes.

Views stay thin: they parse the request, call these functions and render. Saving goes through
`service.save(..., strict=False)`, so a form is held to exactly the API's and the file's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.extensions import db
from ingest.listings.declaration import CHOICE_LABELS, KIND_TITLES, Field, fields_of
from ingest.listings.models import SOURCES, STATUSES, Listing, ListingEvent
from ingest.listings.rules import french_number, iso_date
from ingest.listings.store import WRITABLE_STATUSES, change_status

PAGE_SIZE = 50
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
STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "unpublished": _l("Unpublished"),
    "expired": _l("Expired"),
}
SOURCE_LABELS = {"manual": _l("Console"), "file": _l("File"), "api": _l("API")}
ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("updated"),
    "publish": _l("published"),
    "unpublish": _l("unpublished"),
    "expire": _l("expired"),
    "import": _l("imported"),
}
_INPUT_TYPES = {
    "contact_email": "email",
    "contact_phone": "tel",
    "url": "url",
    "photo_url": "url",
    "application_url": "url",
    "website": "url",
}
_AUTOCOMPLETE = {"postcode": "postal-code", "address": "street-address"}
#: Coordinates need their decimals; other numbers are stored with two.
_FINE_STEP = {"latitude", "longitude", "lambert_x", "lambert_y"}


def french(locale=None) -> bool:
    return str(locale or get_locale()) == "fr"


def label(f: Field) -> str:
    return f.title_fr if french() else f.title_en


def kind_title(kind: str) -> str:
    fr, en = KIND_TITLES[kind]
    return fr if french() else en


def choice_label(name: str, value) -> str:
    pair = CHOICE_LABELS.get(name, {}).get(value)
    if pair is None:
        return "" if value is None else str(value)
    return pair[0] if french() else pair[1]


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
    if f.name == "description":
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
            help=f.description_fr if french() else "",
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


def kept_status(listing: Listing | None) -> str:
    """The status a form save keeps: a new listing starts as a draft; publishing is a button."""
    if listing is None:
        return "draft"
    return listing.status if listing.status in WRITABLE_STATUSES else "published"


# --- the list ------------------------------------------------------------------------------------


@dataclass
class Filters:
    kind: str | None = None
    status: str | None = None
    commune: str | None = None
    source: str | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        from ingest.listings.declaration import KINDS

        def pick(name, allowed):
            value = args.get(name) or None
            return value if value in allowed else None

        try:
            page = max(1, min(int(args.get("page", 1)), 100000))
        except ValueError:
            page = 1
        commune = (args.get("commune") or "").strip().upper()[:5] or None
        return cls(
            kind=pick("kind", KINDS),
            status=pick("status", STATUSES),
            commune=commune,
            source=pick("source", SOURCES),
            q=(args.get("q") or "").strip()[:200],
            page=page,
        )

    def args(self, **over) -> dict:
        values = {
            "kind": self.kind,
            "status": self.status,
            "commune": self.commune,
            "source": self.source,
            "q": self.q or None,
            "page": self.page if self.page > 1 else None,
        } | over
        return {k: v for k, v in values.items() if v is not None}


def like_pattern(text: str) -> str:
    """`text` as a literal inside ILIKE: its own %, _ and \\ match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(filters: Filters, with_status: bool = True) -> list:
    conditions = []
    if filters.kind:
        conditions.append(Listing.kind == filters.kind)
    if with_status and filters.status:
        conditions.append(Listing.status == filters.status)
    if filters.commune:
        conditions.append(Listing.commune_insee == filters.commune)
    if filters.source:
        conditions.append(Listing.source == filters.source)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                Listing.title.ilike(pattern, escape="\\"),
                Listing.external_id.ilike(pattern, escape="\\"),
            )
        )
    return conditions


@dataclass
class Page:
    rows: list
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def search(filters: Filters) -> Page:
    """A page of listings (most recently changed first) and the count per status."""
    counts = dict(
        db.session.execute(
            select(Listing.status, func.count())
            .where(*_conditions(filters, with_status=False))
            .group_by(Listing.status)
        ).all()
    )
    total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    rows = (
        db.session.execute(
            select(Listing)
            .where(*_conditions(filters))
            .order_by(Listing.updated_at.desc(), Listing.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    return Page(rows, total, page, pages, {s: counts.get(s, 0) for s in STATUSES})


# --- publishing --------------------------------------------------------------------------------


@dataclass
class StatusChange:
    changed: list[Listing] = field(default_factory=list)
    expired: list[Listing] = field(default_factory=list)


def set_status(listings: list[Listing], status: str, account_id: int | None) -> StatusChange:
    """Publish or unpublish, logged as such with who did it; a listing past its expiry date
    cannot be published (it would be expired at once) and is reported instead."""
    if status not in ("published", "unpublished"):
        raise ValueError(f"status {status!r}: published or unpublished")
    result = StatusChange()
    today = date.today()
    for listing in listings:
        if listing.status == status:
            continue
        if status == "published" and listing.expires_on is not None and listing.expires_on < today:
            result.expired.append(listing)
            continue
        result.changed.append(listing)
    if not result.changed:
        return result
    db.session.flush()
    change_status(
        [(x.id, x.external_id, x.kind, x.status) for x in result.changed],
        status,
        source="manual",
        account_id=account_id,
    )
    for x in result.changed:
        db.session.expire(x)  # changed in SQL: read again when next used
    return result


# --- the activity log --------------------------------------------------------------------------


def activity(
    *, listing_id: int | None = None, kind: str | None = None, page: int = 1
) -> tuple[list[ListingEvent], int, int]:
    """A page of the activity log, newest first: (events, page, pages)."""
    conditions = []
    if listing_id is not None:
        conditions.append(ListingEvent.listing_id == listing_id)
    if kind:
        conditions.append(ListingEvent.kind == kind)
    total = db.session.execute(
        select(func.count()).select_from(ListingEvent).where(*conditions)
    ).scalar()
    pages = max(1, -(-total // PAGE_SIZE))
    page = max(1, min(page, pages))
    events = (
        db.session.execute(
            select(ListingEvent)
            .where(*conditions)
            .order_by(ListingEvent.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    return list(events), page, pages


def account_names(ids) -> dict[int, str]:
    """Display names of accounts (public schema), read apart from the territory's rows."""
    from core.auth.models import Account

    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        db.session.execute(
            select(Account.id, Account.display_name).where(Account.id.in_(wanted))
        ).all()
    )


def territory_communes() -> list[tuple[str, str]]:
    """(INSEE code, name) of the communes of the bound territory, for the commune field."""
    from ingest.reference.models import Commune
    from ingest.reference.territory import TerritoryCell

    codes = list(
        db.session.execute(
            select(TerritoryCell.commune_insee)
            .where(TerritoryCell.commune_insee.is_not(None))
            .distinct()
        ).scalars()
    )
    if not codes:
        return []
    return list(
        db.session.execute(
            select(Commune.insee, Commune.name)
            .where(Commune.insee.in_(codes))
            .order_by(Commune.name)
        ).all()
    )
