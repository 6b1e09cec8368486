"""How the billing pages name invoice statuses and the fields of a frozen seller or buyer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

INVOICE_STATUS_LABELS = {
    "draft": _l("draft"),
    "finalised": _l("finalised"),
    "paid": _l("paid"),
    "void": _l("void"),
}
PARTY_LABELS = {
    "name": _l("Name"),
    "legal_name": _l("Legal name"),
    "siren": _l("SIREN"),
    "siret": _l("SIRET"),
    "vat_number": _l("VAT number"),
    "address": _l("Address"),
    "address_line1": _l("Address"),
    "address_line2": _l("Address (continued)"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "country_code": _l("Country"),
    "email": _l("E-mail"),
    "billing_email": _l("E-mail"),
    "legal_form": _l("Legal form"),
    "capital": _l("Share capital"),
    "rcs": _l("Trade register"),
    "iban": _l("IBAN"),
    "bic": _l("BIC"),
    "service_code": _l("Chorus Pro service code"),
    "engagement_number": _l("Engagement number"),
}
