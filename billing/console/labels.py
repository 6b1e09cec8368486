"""How the billing pages name invoice statuses and the fields of a frozen seller or buyer."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

INVOICE_STATUS_LABELS = {
    "draft": _l("draft"),
    "finalised": _l("finalised"),
    "paid": _l("paid"),
    "void": _l("void"),
}
#: In the order an invoice's reader expects them: who, registrations, where, how to reach, how
#: to pay, the legal clause. A frozen party is stored as JSONB, whose keys come back sorted.
PARTY_LABELS = {
    "name": _l("Name"),
    "legal_name": _l("Legal name"),
    "legal_form": _l("Legal form"),
    "share_capital": _l("Share capital"),
    "capital": _l("Share capital"),
    "registration": _l("Trade register"),
    "rcs": _l("Trade register"),
    "siren": _l("SIREN"),
    "siret": _l("SIRET"),
    "vat_number": _l("VAT number"),
    "address": _l("Address"),
    "address_line1": _l("Address"),
    "address_line2": _l("Address (continued)"),
    "postcode": _l("Postcode"),
    "city": _l("Town"),
    "country_code": _l("Country"),
    "email": _l("E-mail"),
    "billing_email": _l("E-mail"),
    "phone": _l("Phone"),
    "service_code": _l("Chorus Pro service code"),
    "engagement_number": _l("Engagement number"),
    "iban": _l("IBAN"),
    "bic": _l("BIC"),
    "late_interest_text": _l("Late payment"),
}


def party_rows(party: dict) -> list[tuple[str, str]]:
    """A frozen seller or buyer as (label, value) rows in reading order, empty values left out;
    a key this list does not know yet comes last, named as readably as its key allows."""
    keys = [k for k in PARTY_LABELS if party.get(k)]
    keys += sorted(k for k, v in party.items() if k not in PARTY_LABELS and v)
    return [(_label(key), _country(party[key]) if key == "country_code" else party[key])
            for key in keys]  # fmt: skip


def _label(key: str) -> str:
    return str(PARTY_LABELS[key]) if key in PARTY_LABELS else key.replace("_", " ").capitalize()


def _country(code: str) -> str:
    """`FR` → `France`, in the reader's language."""
    locale = get_locale()
    return (locale.territories.get(str(code).upper()) if locale else None) or code
