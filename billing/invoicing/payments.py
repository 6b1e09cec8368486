"""Payments received against an invoice; the invoice is paid when nothing is left to pay."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from billing.invoicing import InvoicingError
from billing.models import Invoice, InvoiceKind, InvoiceStatus, Payment
from billing.queries import paid_cents
from core.extensions import db
from core.i18n import money


def balance_cents(invoice: Invoice) -> int:
    return invoice.total_ttc_cents - paid_cents(invoice.id)


def record_payment(invoice: Invoice, paid_on: date, amount_cents: int, reference: str = ""):
    """Money received (partial payments add up); the invoice is paid when nothing is left."""
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status"])
    if invoice.kind != InvoiceKind.invoice:
        raise InvoicingError(_("Payments are recorded against invoices, not credit notes."))
    if invoice.status == InvoiceStatus.draft:
        raise InvoicingError(_("This invoice is not issued yet."))
    if invoice.status == InvoiceStatus.void:
        raise InvoicingError(_("Invoice %(number)s is void.", number=invoice.number))
    if invoice.status == InvoiceStatus.paid:
        raise InvoicingError(_("Invoice %(number)s is paid in full.", number=invoice.number))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvoicingError(_("The amount must be positive."), "amount")
    if paid_on is None or paid_on < invoice.issue_date:
        raise InvoicingError(_("A payment cannot precede the invoice's date."), "paid_on")
    balance = balance_cents(invoice)
    if amount_cents > balance:
        raise InvoicingError(
            _(
                "%(amount)s is more than the %(balance)s still due.",
                amount=money(amount_cents, locale="fr"),
                balance=money(balance, locale="fr"),
            ),
            "amount",
        )
    payment = Payment(
        invoice=invoice,
        paid_on=paid_on,
        amount_cents=amount_cents,
        reference=(reference or "").strip()[:100],
    )
    db.session.add(payment)
    if amount_cents == balance:
        invoice.status = InvoiceStatus.paid
        invoice.paid_on = paid_on
    db.session.flush()
    return payment


def left_to_pay_cents(invoice: Invoice, paid: int) -> int:
    """What is still owed on an issued invoice once `paid` was received: nothing on a draft,
    a void or a paid invoice."""
    return invoice.total_ttc_cents - paid if invoice.status == InvoiceStatus.finalised else 0
