"""What every billing view shares: today's date, lookups that 404, refusals placed beside their
field, invoice links, and what every billing template is given."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import abort, current_app, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from markupsafe import Markup

from billing.catalogue import item_label
from billing.console.blueprints import bp, coordinator_bp
from billing.console.labels import INVOICE_STATUS_LABELS, party_rows
from billing.members import members as member_stays
from billing.models import Invoice
from billing.pricing import half_up
from billing.queries import is_overdue
from core.extensions import db
from core.registry import kind_label

#: Service field names that a form calls otherwise.
FIELD_ALIASES = {"members": "member_ids"}


def today() -> date:
    """The pages' today (one place, so that tests can set the date)."""
    return date.today()


def get_or_404(model, ident: int):
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


def cents(amount: Decimal) -> int:
    """Euros typed in a form → integer cents (the form already kept two decimals)."""
    return half_up(amount * 100)


def place_error(form, exc, default_field: str) -> None:
    """A service's refusal, said beside the field it names (or the first one)."""
    name = getattr(exc, "field", None) or default_field
    name = FIELD_ALIASES.get(name, name)
    target = getattr(form, name, None) or getattr(form, default_field)
    target.errors = [*target.errors, str(exc)]


def invoice_link(invoice: Invoice) -> Markup:
    """An invoice's number, a link to its page on the platform console (plain text elsewhere)."""
    label = invoice.number or _("draft #%(id)d", id=invoice.id)
    if current_app.blueprints.get("billing_console") and request.blueprint == "billing_console":
        href = url_for("billing_console.invoice", invoice_id=invoice.id)
        return Markup('<a href="{}">{}</a>').format(href, label)
    return Markup("{}").format(label)


@bp.context_processor
@coordinator_bp.context_processor
def template_helpers():
    on = today()
    return {
        "kind_label": kind_label,
        "item_label": item_label,
        "invoice_status_labels": INVOICE_STATUS_LABELS,
        "party_rows": party_rows,
        "member_stays": member_stays,
        "percent": lambda bp: format_percent(bp / 10000),
        "invoice_link": invoice_link,
        "is_overdue": lambda invoice: is_overdue(invoice, on),
        "today": on,
    }
