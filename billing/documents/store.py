"""Invoice documents in storage: stored at finalisation (by worker jobs after a billing run, a
sweep catching any missed), read back for download."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select

from billing.documents.model import InvoiceDocument, from_invoice
from billing.models import Invoice
from core.extensions import db
from core.jobs import job
from core.storage import StorageError, get_storage

log = logging.getLogger("vivrau.billing")


def storage_keys(number: str) -> tuple[str, str]:
    return f"billing/invoices/{number}.pdf", f"billing/invoices/{number}.xml"


def store(invoice) -> tuple[str, str]:
    """Draw and store an invoice's Factur-X PDF and UBL XML; records their keys on it.

    The caller's transaction commits the keys; objects are written first, so a failed
    commit leaves at worst orphan objects that the next `store` overwrites.
    """
    # heavy (lxml, and weasyprint and factur-x behind them): imported when documents are drawn
    from billing.documents.pdf import render_pdf  # noqa: PLC0415
    from billing.documents.schemas import check_ubl  # noqa: PLC0415
    from billing.documents.ubl import ubl_xml  # noqa: PLC0415

    doc = from_invoice(invoice)
    pdf_key, ubl_key = storage_keys(doc.number)
    ubl = ubl_xml(doc)
    check_ubl(ubl)
    storage = get_storage()
    storage.put(pdf_key, render_pdf(doc), "application/pdf")
    storage.put(ubl_key, ubl, "application/xml")
    if not isinstance(invoice, InvoiceDocument):
        invoice.pdf_key, invoice.ubl_key = pdf_key, ubl_key
        db.session.flush()
    return pdf_key, ubl_key


def stored_document(invoice: Invoice, kind: str) -> bytes:
    """The stored PDF (`kind="pdf"`) or UBL XML (`kind="xml"`) of an issued invoice.

    Documents missing from storage (an invoice finalised before storage worked) are drawn
    and stored first.
    """
    key = invoice.pdf_key if kind == "pdf" else invoice.ubl_key
    storage = get_storage()
    try:
        data = storage.get(key) if key else None
    except StorageError:
        data = None
    if data is None:
        pdf_key, ubl_key = store(invoice)
        data = storage.get(pdf_key if kind == "pdf" else ubl_key)
    return data


@job("low")
def store_documents_job(invoice_id: int) -> None:
    """Worker job: the documents of one finalised invoice, if still missing."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None and invoice.number and invoice.pdf_key is None:
        store(invoice)


def store_missing_documents(limit: int = 200) -> int:
    """Cron sweep: documents of finalised invoices that have none yet (a lost job, a crash)."""
    ids = (
        db.session.execute(
            select(Invoice.id)
            .where(Invoice.number.is_not(None), Invoice.pdf_key.is_(None))
            .order_by(Invoice.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    for invoice_id in ids:
        try:
            # A savepoint each: one bad invoice must not stop the others nor undo their keys.
            with db.session.begin_nested():
                store_documents_job(invoice_id)
        except Exception:  # noqa: BLE001 - logged, and the next sweep tries it again
            log.exception("documents of invoice %s could not be stored", invoice_id)
    return len(ids)


def enqueue_documents(invoice_ids: Iterable[int]) -> None:
    """One worker job per invoice, once they are committed; the sweep covers a Redis failure."""
    try:
        for invoice_id in invoice_ids:
            store_documents_job.enqueue(
                invoice_id, tenant=None, job_id=f"invoice-documents-{invoice_id}"
            )
    except Exception as exc:  # noqa: BLE001 - Redis down: the sweep stores them later
        log.warning("could not enqueue invoice documents: %s", exc)
