"""Invoices being written: drafts, their lines, and totals with VAT once per rate."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import gettext as _

from billing.invoicing import InvoicingError
from billing.models import Contract, Customer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.pricing import half_up, vat_cents
from core.extensions import db


def compute_totals(invoice: Invoice) -> None:
    """HT from the lines; VAT once per rate on that rate's net total, rounded half-up."""
    by_rate: dict[int, int] = defaultdict(int)
    for line in invoice.lines:
        by_rate[line.vat_rate_bp] += line.amount_cents
    invoice.total_ht_cents = sum(by_rate.values())
    invoice.total_vat_cents = sum(vat_cents(net, rate) for rate, net in by_rate.items())
    invoice.total_ttc_cents = invoice.total_ht_cents + invoice.total_vat_cents


def ensure_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.draft:
        raise InvoicingError(
            _(
                "Invoice %(number)s is finalised and cannot be changed: issue a credit note.",
                number=invoice.number,
            )
        )


def add_line(
    invoice: Invoice,
    label: str,
    quantity,
    unit_cents: int,
    item_code: str | None = None,
    period: tuple[date, date] | None = None,
) -> InvoiceLine:
    """A line on a draft; negative quantities or prices are refused (credit notes correct)."""
    ensure_draft(invoice)
    if not (label or "").strip():
        raise InvoicingError(_("A line needs a label."), "label")
    try:
        quantity = Decimal(str(quantity))
    except InvalidOperation:
        raise InvoicingError(_("The quantity must be a number."), "quantity") from None
    if quantity <= 0 or int(unit_cents) < 0:
        raise InvoicingError(
            _("Quantities and prices cannot be negative: corrections are credit notes."),
            "quantity" if quantity <= 0 else "unit",
        )
    line = InvoiceLine(
        position=len(invoice.lines) + 1,
        item_code=item_code,
        label=label.strip(),
        quantity=quantity,
        unit_cents=int(unit_cents),
        amount_cents=half_up(Fraction(str(quantity)) * int(unit_cents)),
        vat_rate_bp=invoice.customer.vat_rate_bp,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
    )
    invoice.lines.append(line)
    compute_totals(invoice)
    db.session.flush()
    return line


def create_draft(customer: Customer, title: str, contract: Contract | None = None) -> Invoice:
    """An empty manual invoice for a customer (lines are added with `add_line`)."""
    invoice = Invoice(
        kind=InvoiceKind.invoice,
        status=InvoiceStatus.draft,
        customer=customer,
        contract=contract,
        title=(title or "").strip()[:200],
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice
