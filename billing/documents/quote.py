"""A quote as a PDF a billing admin sends to a collectivity: French, the seller's identity, each
monthly line with its working (PVD discounts, floors), totals, and the terms of the offer."""

from __future__ import annotations

from datetime import date

from billing.documents.drawing import TEMPLATES, documents_environment
from billing.pricing import Quote
from core.registry import kind_label


def quote_html(quote: Quote, customer_kind: str, seller: dict, day: date, members: int = 0) -> str:
    """`customer_kind`: a territory kind (`commune`, `umbrella`…), named in French here."""
    return (
        documents_environment()
        .get_template("billing/quote.html")
        .render(
            quote=quote,
            kind=kind_label(customer_kind, "fr"),
            tier_label=lambda tier: kind_label(tier, "fr"),
            seller=seller,
            day=day,
            members=members,
        )
    )


def quote_pdf(quote: Quote, customer_kind: str, seller: dict, day: date, members: int = 0) -> bytes:
    # weasyprint takes most of a second to import: loaded when a quote is drawn.
    from weasyprint import HTML  # noqa: PLC0415

    html = quote_html(quote, customer_kind, seller, day, members)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
