"""How billing's printed documents are drawn: their French Jinja environment, its filters and
its templates' folder (the invoice's PDF and the quote's share them)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache, partial
from pathlib import Path

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from billing.documents.model import LOCALE, french_date, french_number
from core.i18n import money

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def french_rate(rate_bp: int) -> str:
    return french_number(rate_bp) + " %"


def french_quantity(quantity: Decimal) -> str:
    return format_decimal(quantity, "#,##0.####", locale=LOCALE)


@cache
def documents_environment() -> Environment:
    # Its own environment: an invoice is a legal document, never themed nor translated.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=partial(money, locale=LOCALE),
        date=french_date,
        rate=french_rate,
        quantity=french_quantity,
    )
    return env
