"""Saving listings from the API and the editor console: validate, locate, upsert, in one place.

The normed-file import reads and validates rows its own way (frictionless) but ends in the same
`rules.locate` and `store.upsert`, so a listing is held to the same rules whatever its source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

import psycopg
from flask_babel import format_decimal
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from core.extensions import db
from ingest.listings.declaration import fields_of
from ingest.listings.models import LOCATION_FIELDS, Listing
from ingest.listings.photo_fetch import schedule
from ingest.listings.rules import Problem, locate
from ingest.listings.schemas import french_rules, input_schema
from ingest.listings.store import Outcome, upsert

log = logging.getLogger(__name__)
#: A write the database refused: through SQLAlchemy, or the staging COPY on the raw connection.
REFUSED = (DBAPIError, psycopg.Error)


@dataclass
class Saved:
    """The outcome of a write, and per item index the field errors of the items refused."""

    outcome: Outcome = field(default_factory=Outcome)
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    records: dict[int, dict] = field(default_factory=dict)
    #: Of those errors, the ones breaking the kind's schema (what the OpenAPI document states).
    broken: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def validate(kind: str, items: list[dict], *, strict: bool = True) -> Saved:
    """Load and check items against the kind's schema and the location rules (no write)."""
    saved = Saved()
    schema = _schema(kind, strict)
    for index, item in enumerate(items):
        try:
            record, errors = schema.load(item), {}
        except ValidationError as error:  # the rules still run, to report everything at once
            record, errors = None, flat_messages(error.messages)
            saved.broken[index] = dict(errors)
        rules = french_rules(item if record is None else record)
        errors |= {name: messages for name, messages in rules.items() if name not in errors}
        if errors:
            saved.errors[index] = errors
        else:
            saved.records[index] = record
    loaded = sorted(saved.records)
    records = [saved.records[i] for i in loaded]
    for problem in locate(db.session, records):
        index = loaded[problem.index]
        saved.errors.setdefault(index, {}).setdefault(problem.column, []).append(
            describe_problem(problem)
        )
    for index in saved.errors:
        saved.records.pop(index, None)
    seen: dict[str, int] = {}
    for index in sorted(saved.records):
        external_id = saved.records[index]["external_id"]
        if external_id in seen:
            saved.errors[index] = {"external_id": [_("The same identifier appears twice.")]}
            del saved.records[index]
        else:
            seen[external_id] = index
    return saved


def contract_errors(kind: str, item, *, partial: bool = False) -> dict[str, list[str]]:
    """What in an API body breaks its kind's schema (the OpenAPI document's): per field, the
    messages; empty when the body keeps to it. Nothing is looked up."""
    try:
        _schema(kind, True, partial).load(item)
    except ValidationError as error:
        return flat_messages(error.messages)
    return {}


@cache
def _schema(kind: str, strict: bool, partial: bool = False):
    """One schema instance per kind, reused: building one costs more than loading an item."""
    return input_schema(kind, strict)(partial=partial)


def save(
    kind: str,
    items: list[dict],
    *,
    source: str,
    strict: bool = True,
    account_id: int | None = None,
    api_key_id: int | None = None,
) -> Saved:
    """Validate then upsert the valid items (the invalid ones are reported, never written)."""
    saved = validate(kind, items, strict=strict)
    return write(kind, saved, source=source, account_id=account_id, api_key_id=api_key_id)


def write(
    kind: str,
    saved: Saved,
    *,
    source: str,
    account_id: int | None = None,
    api_key_id: int | None = None,
) -> Saved:
    """Upsert the records `validate` accepted; `saved.outcome` then says what each became."""
    if saved.records:
        saved.outcome = upsert(
            db.session,
            kind,
            list(saved.records.values()),
            source=source,
            account_id=account_id,
            api_key_id=api_key_id,
        )
        # Addresses of photos are fetched by a worker once this commits; an emptied
        # column removes the photos fetched from it.
        schedule(
            [
                saved.outcome.results[r["external_id"]][0]
                for r in saved.records.values()
                if r.get("photo_url") or saved.outcome.results[r["external_id"]][1] == "update"
            ]
        )
    return saved


def write_apart(kind: str, saved: Saved, **writer) -> Saved:
    """`write`, in a savepoint: should the database refuse the batch (a rule only it knows),
    each item is tried alone, so that one item loses only itself; the items it refused join
    `saved.errors`, and `saved.outcome.results` holds the others."""
    try:
        with db.session.begin_nested():
            return write(kind, saved, **writer)
    except REFUSED:
        pass
    outcome = Outcome()
    for index, record in list(saved.records.items()):
        alone = Saved(records={index: record})
        try:
            with db.session.begin_nested():
                write(kind, alone, **writer)
        except REFUSED as error:
            log.warning("a listing refused by the database: %s", getattr(error, "orig", error))
            saved.errors[index] = {"_schema": [_("The database refused this listing.")]}
            del saved.records[index]
        else:
            outcome.created += alone.outcome.created
            outcome.updated += alone.outcome.updated
            outcome.unchanged += alone.outcome.unchanged
            outcome.results |= alone.outcome.results
    saved.outcome = outcome
    return saved


def as_input(listing: Listing) -> dict:
    """A stored listing as input values (for PATCH, the edit form and duplication)."""
    values = {}
    for f in fields_of(listing.kind):
        if f.name in LOCATION_FIELDS:
            continue
        value = getattr(listing, f.name)
        if isinstance(value, Decimal):
            value = value.quantize(Decimal(1)) if value == value.to_integral() else value
        values[f.name] = value
    if listing.geom is not None and not listing.location_approximate:
        lon, lat = point_of(listing)
        values["latitude"], values["longitude"] = Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")
    if listing.status != "expired":
        values["status"] = listing.status
    return values


def point_of(listing: Listing) -> tuple[float, float]:
    """(lon, lat) of a listing's point."""
    lon, lat = db.session.execute(
        select(func.ST_X(Listing.geom), func.ST_Y(Listing.geom)).where(Listing.id == listing.id)
    ).one()
    return lon, lat


def _km(value) -> str:
    """A distance in km as the reader writes it: 14,2 in French, 14.2 in English."""
    return "?" if value is None else format_decimal(value, format="#,##0.#")


def describe_problem(problem: Problem) -> str:
    """A location problem in the reader's language."""
    params = problem.params or {}
    if problem.code == "unknown_commune":
        return _("No French commune has the INSEE code %(value)s.", value=problem.value)
    if problem.code == "outside_france":
        return _("The point (%(value)s) lies outside France.", value=problem.value)
    if problem.code == "far_from_commune":
        return _(
            "The point (%(value)s) is %(km)s km from the commune %(insee)s: at sea or misplaced?",
            value=problem.value,
            km=_km(params.get("km")),
            insee=params.get("insee"),
        )
    if problem.code == "outside_territory":
        return _(
            "The point (%(value)s) lies %(km)s km outside the territory, nearest commune of the "
            "territory: %(nearest)s (a point up to %(margin)s km outside is accepted).",
            value=problem.value,
            km=_km(params.get("km")),
            nearest=params.get("nearest"),
            margin=_km(params.get("margin_km")),
        )
    if problem.code == "commune_outside_territory":
        return _(
            "The commune %(name)s (%(value)s) is not part of this territory: it lies %(km)s km "
            "outside it, nearest commune of the territory: %(nearest)s. Give the listing's "
            "point, or list it on the commune's own territory.",
            name=params.get("name", problem.value),
            value=problem.value,
            km=_km(params.get("km")),
            nearest=params.get("nearest"),
        )
    if problem.code == "half_coordinates":
        return _("Give both coordinates, or neither.")
    return problem.code


def flat_messages(messages) -> dict[str, list[str]]:
    """marshmallow's nested messages as {field: [message, …]}, in the reader's language."""
    if isinstance(messages, list):
        return {"_schema": [str(m) for m in messages]}
    return {
        name: [str(m) for m in (value if isinstance(value, list) else [value])]
        for name, value in messages.items()
    }
