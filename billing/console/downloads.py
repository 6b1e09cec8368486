"""An issued invoice's stored documents (Factur-X PDF, UBL XML), sent as a download."""

from __future__ import annotations

from flask import Response, abort

from billing.documents.store import stored_document
from billing.models import Invoice, InvoiceStatus

CONTENT_TYPES = {"pdf": "application/pdf", "xml": "application/xml"}


def document_response(invoice: Invoice, kind: str) -> Response:
    """The PDF (`kind="pdf"`) or UBL XML (`kind="xml"`) of an issued invoice; drafts and any
    other kind are not found. Documents missing from storage are drawn and stored first (the
    request's commit records their keys)."""
    if kind not in CONTENT_TYPES or invoice.status == InvoiceStatus.draft or not invoice.number:
        abort(404)
    return Response(
        stored_document(invoice, kind),
        content_type=CONTENT_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{invoice.number}.{kind}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
