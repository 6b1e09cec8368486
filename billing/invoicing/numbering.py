"""Finalisation: gap-free numbers under a row lock, the invoice dated and frozen with the
seller's and buyer's identities."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from billing.documents.store import store as store_documents
from billing.invoicing import InvoicingError
from billing.invoicing.drafts import compute_totals, ensure_draft
from billing.models import Invoice, InvoiceKind, InvoiceSequence, InvoiceStatus
from billing.seller import buyer_identity, seller_identity
from core.db import utcnow
from core.extensions import db

PREFIXES = {InvoiceKind.invoice: "VV", InvoiceKind.credit_note: "AV"}


def take_numbers(prefix: str, issue_date: date, count: int = 1) -> list[str]:
    """`count` consecutive numbers of (prefix, year), under the counter's row lock.

    The lock is held until the transaction ends, so concurrent finalisations queue up and a
    rolled-back one leaves no gap.
    """
    year = issue_date.year
    db.session.execute(
        pg_insert(InvoiceSequence)
        .values(prefix=prefix, year=year, last_number=0)
        .on_conflict_do_nothing()
    )
    counter = db.session.execute(
        select(InvoiceSequence)
        .where(InvoiceSequence.prefix == prefix, InvoiceSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if counter.last_issue_date and issue_date < counter.last_issue_date:
        raise InvoicingError(
            _(
                "An invoice dated %(day)s cannot follow one dated %(last)s: numbers and dates "
                "go forward together.",
                day=issue_date.isoformat(),
                last=counter.last_issue_date.isoformat(),
            ),
            "issue_date",
        )
    first = counter.last_number + 1
    counter.last_number += count
    counter.last_issue_date = issue_date
    return [f"{prefix}-{year}-{n:05d}" for n in range(first, first + count)]


def stamp(invoice: Invoice, number: str, on: date, seller: dict) -> None:
    """Number, date and freeze an invoice with the identities it is issued with."""
    customer = invoice.customer
    values = dict(
        number=number,
        status=InvoiceStatus.finalised,
        issue_date=on,
        due_date=on + timedelta(days=current_app.config["BILLING_PAYMENT_DAYS"]),
        seller=seller,
        buyer=buyer_identity(customer),
        engagement_number=customer.engagement_number,
        service_code=customer.service_code,
        finalised_at=utcnow(),
    )
    # All at once: a flush in between would freeze a half-stamped invoice (the guard).
    with db.session.no_autoflush:
        for name, value in values.items():
            setattr(invoice, name, value)


def _check_finalisable(invoice: Invoice) -> None:
    ensure_draft(invoice)
    if not invoice.lines:
        raise InvoicingError(_("An invoice without lines cannot be finalised."))
    if sum(line.amount_cents for line in invoice.lines) <= 0:
        raise InvoicingError(_("An invoice must be for a positive amount."))


def finalise(invoice: Invoice, on: date | None = None, store: bool = True) -> Invoice:
    """Number, date and freeze a draft; its documents are stored unless `store` is False."""
    db.session.flush()
    # Lock the invoice: two admins finalising it at once get one number, not two.
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status", "number"])
    _check_finalisable(invoice)
    on = on or date.today()
    (number,) = take_numbers(PREFIXES[invoice.kind], on)
    compute_totals(invoice)
    stamp(invoice, number, on, seller_identity())
    db.session.flush()
    if store:
        store_documents(invoice)
    return invoice
