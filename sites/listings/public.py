"""What the public sees of a listing: which listings are visible, and their values, key facts
and distances as a reader reads them (in their language)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, or_

from core.i18n import pick
from ingest.listings.declaration import Field, all_fields, fields_of
from ingest.listings.labels import choice_label, label
from ingest.listings.models import LOCATION_FIELDS, Listing
from sites.listings import labels

#: Shown in their own places on the page, not in the table of details.
_PLACED = LOCATION_FIELDS | {
    "external_id",
    "title",
    "description",
    "commune_insee",
    "address",
    "postcode",
    "url",
    "contact_email",
    "contact_phone",
    "photo_url",
    "published_on",
    "expires_on",
    # Codes for machines: the listing's job, equipment or activity is named instead (RENAMED),
    # and a NAF code names nothing a reader needs.
    "naf_code",
    "osm_tag",
    # Part of the price line of a rent (charges included).
    "charges",
}
_LINKS = {"application_url", "website"}
#: Fields whose value a reader sees through a catalogue: field → (French, English) line title.
RENAMED = {
    "rome_code": ("Métier", "Job"),
    "bpe_code": ("Équipement", "Facility"),
    "category": ("Catégorie", "Category"),
    "opening_hours": ("Horaires", "Opening hours"),
    # The value says its unit and period ("475 € / mois"): the file's "Prix (€)" would repeat it.
    "price": ("Prix", "Price"),
    # Beside the salary's figures, what the employer wrote of it.
    "salary_text": ("Précisions sur le salaire", "About the salary"),
}


def visible():
    """Published, not past its expiry date (even before the daily job marks it), not before
    its publication date."""
    today = date.today()
    return and_(
        Listing.status == "published",
        or_(Listing.expires_on.is_(None), Listing.expires_on >= today),
        or_(Listing.published_on.is_(None), Listing.published_on <= today),
    )


def shown_value(f: Field, value):
    """A stored value as a reader sees it, in their language (None: nothing to show)."""
    if value is None or value == "":
        return None
    if f.name == "rome_code":
        return labels.job(value)
    if f.name == "bpe_code":
        return labels.equipment(value)
    if f.name == "category":
        return labels.category(value)
    if f.name == "opening_hours":
        return labels.opening_hours(value)
    if f.enum:
        return choice_label(f.name, value)
    if f.type == "boolean":
        return _("Yes") if value else _("No")
    if f.type == "date":
        return format_date(value, "long")
    if f.type == "number" and "€" in f.title_en:
        return labels.per_period(value, f.title_en)
    if f.title_en.endswith("(m²)"):
        return _("%(area)s m²", area=format_decimal(value))
    if f.name == "year_built":
        return str(value)  # a year, never grouped as a number ("1 890")
    if f.type in ("number", "integer"):
        return format_decimal(value)
    return str(value)


@dataclass(frozen=True)
class Detail:
    """One line of a listing's details: its title, its value, and how to show it."""

    label: str
    value: str
    link: bool = False
    #: The energy or GES scale's steps (sites.listings.labels.scale), drawn instead of a text.
    scale: list | None = None


def details(listing: Listing) -> list[Detail]:
    """The kind's own fields that have a value, each named and worded for a reader."""
    rows = []
    for f in fields_of(listing.kind):
        if f.name in _PLACED:
            continue
        raw = getattr(listing, f.name)
        if f.name in ("energy_class", "ges_class") and raw:
            steps = labels.scale("energy" if f.name == "energy_class" else "ges", raw)
            rows.append(Detail(label(f), raw, scale=steps))
            continue
        if f.name in ("salary_min", "salary_max"):  # one line: "22 500 – 23 200 € / an"
            if f.name == "salary_min" and (raw is not None or listing.salary_max is not None):
                rows.append(Detail(pick("Salaire", "Salary"), labels.salary(listing)))
            continue
        if f.name == "bpe_code" and not raw and listing.osm_tag:
            raw = listing.osm_tag  # the facility named by its OSM tag when it has no BPE code
        value = shown_value(f, raw)
        if f.name == "price" and listing.kind == "real_estate":
            value = labels.listing_price(listing)
        if value is not None:
            rows.append(Detail(reader_title(f), value, f.name in _LINKS))
    return rows


#: What a file's column title says in brackets for the person filling it in: the unit
#: ("Surface habitable (m²)", shown with the value instead), the format ("Horaires (syntaxe
#: OSM)", "Candidater (lien)") or the source ("Thème (SCDL équipements)").
_BRACKETED = re.compile(r"\s*\([^)]*\)$")


def reader_title(f: Field) -> str:
    """A field's title as a reader of the listing sees it: "Surface habitable", "Salaire
    minimum", "Métier"."""
    if f.name in RENAMED:
        return pick(*RENAMED[f.name])
    return _BRACKETED.sub("", label(f))


#: The few fields a card, the API and "my place" show to tell listings of a kind apart.
KEY_FIELDS = {
    "real_estate": ("transaction", "property_type", "price", "living_area_m2", "rooms"),
    "job": ("contract_type", "employer_name", "rome_code", "salary_min", "full_time"),
    "business": ("activity", "transfer_type", "price"),
    "leisure": ("category", "start_on", "end_on"),
    "poi": ("theme", "poi_type"),
}


def summary(listing: Listing) -> list[str]:
    """The key facts of a listing as short texts ("Sale", "149 000 €", "110 m²"…)."""
    fields = all_fields()
    out = []
    for name in KEY_FIELDS[listing.kind]:
        value = getattr(listing, name)
        if name == "salary_min":  # the salary's range, or its text when it has no figures
            value = labels.salary(listing)
        if value is None or value == "" or (name == "full_time" and not value):
            continue
        if name == "living_area_m2":
            out.append(_("%(area)s m²", area=format_decimal(value)))
        elif name == "rooms":
            out.append(_("%(num)s rooms", num=value))
        elif name == "full_time":
            out.append(_("Full time"))
        elif name == "start_on":
            out.append(_("from %(date)s", date=format_date(value, "medium")))
        elif name == "end_on":
            out.append(_("until %(date)s", date=format_date(value, "medium")))
        elif name == "price" and listing.kind == "real_estate":
            out.append(labels.listing_price(listing))
        elif name == "salary_min":
            out.append(value)
        else:
            shown = shown_value(fields[name], value)
            if shown is not None:
                out.append(shown)
    return out
