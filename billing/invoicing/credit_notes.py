"""Credit notes: a finalised, unpaid invoice voided by a credit note restating its lines."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from billing.invoicing import InvoicingError
from billing.invoicing.numbering import finalise
from billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.queries import paid_cents
from core.extensions import db


def void(invoice: Invoice, on: date | None = None, store: bool = True) -> Invoice:
    """Cancel a finalised, unpaid invoice with a credit note; returns the credit note."""
    on = on or date.today()
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status"])
    if invoice.kind == InvoiceKind.credit_note:
        raise InvoicingError(_("A credit note cannot be voided."))
    if invoice.status == InvoiceStatus.draft:
        raise InvoicingError(_("A draft has no number: delete it instead of voiding it."))
    if invoice.status == InvoiceStatus.void:
        raise InvoicingError(_("Invoice %(number)s is already void.", number=invoice.number))
    if paid_cents(invoice.id):
        raise InvoicingError(
            _(
                "Invoice %(number)s has payments recorded: it cannot be voided.",
                number=invoice.number,
            )
        )
    if on < invoice.issue_date:
        raise InvoicingError(_("A credit note cannot be dated before its invoice."), "on")
    # The credit note's number is taken last and may still be refused (numbers and dates go
    # forward together): the savepoint then undoes the void as well, so nothing changed.
    with db.session.begin_nested():
        note = Invoice(
            kind=InvoiceKind.credit_note,
            status=InvoiceStatus.draft,
            customer=invoice.customer,
            contract=invoice.contract,
            credits_invoice=invoice,
            title=f"Avoir — annulation de la facture {invoice.number}",
            period_start=invoice.period_start,
            period_end=invoice.period_end,
        )
        for line in invoice.lines:
            note.lines.append(
                InvoiceLine(
                    position=line.position,
                    item_code=line.item_code,
                    label=line.label,
                    quantity=line.quantity,
                    unit_cents=line.unit_cents,
                    amount_cents=line.amount_cents,
                    vat_rate_bp=line.vat_rate_bp,
                    period_start=line.period_start,
                    period_end=line.period_end,
                )
            )
        db.session.add(note)
        invoice.status = InvoiceStatus.void
        invoice.voided_on = on
        db.session.flush()
        return finalise(note, on, store=store)
