"""Invoice documents in storage: their keys recorded, downloads, finalisation and void."""

from __future__ import annotations

from datetime import date

import facturx
import pytest
from lxml import etree
from werkzeug.exceptions import NotFound

from billing.console.downloads import document_response
from billing.documents.cii import cii_xml
from billing.documents.schemas import check_ubl
from billing.documents.store import store
from billing.documents.ubl import ubl_xml
from billing.invoicing.credit_notes import void
from billing.invoicing.drafts import add_line, create_draft
from billing.invoicing.numbering import finalise
from billing.models import Customer
from core.extensions import db
from core.storage import get_storage
from tests import billing_document_helpers
from tests.billing_document_helpers import (
    BUYER,
    CII_RULES,
    NBSP,
    NNBSP,
    NS,
    UBL_RULES,
    flat,
    pdf_text,
    schematron_errors,
)

#: The shared fixtures this module's tests ask for.
make_invoice = billing_document_helpers.make_invoice


def test_store_puts_pdf_and_ubl_in_storage_and_records_their_keys(make_invoice):
    invoice = make_invoice()
    pdf_key, ubl_key = store(invoice)
    assert (pdf_key, ubl_key) == (
        f"billing/invoices/{invoice.number}.pdf",
        f"billing/invoices/{invoice.number}.xml",
    )
    db.session.flush()  # the finalised row's guard lets the document keys through
    db.session.refresh(invoice)
    assert (invoice.pdf_key, invoice.ubl_key) == (pdf_key, ubl_key)
    storage = get_storage()
    stored_pdf = storage.get(pdf_key)
    assert stored_pdf.startswith(b"%PDF-")
    assert facturx.get_xml_from_pdf(stored_pdf, check_xsd=False)[1] == cii_xml(invoice)
    assert storage.get(ubl_key) == ubl_xml(invoice)
    storage.delete(pdf_key)
    storage.delete(ubl_key)


def test_document_response_serves_the_stored_files_and_draws_missing_ones(app, make_invoice):
    invoice = make_invoice()
    storage = get_storage()
    with app.test_request_context():
        response = document_response(invoice, "pdf")  # nothing stored yet
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert f'filename="{invoice.number}.pdf"' in response.headers["Content-Disposition"]
        assert response.get_data().startswith(b"%PDF-")
        assert storage.exists(f"billing/invoices/{invoice.number}.xml")
        xml = document_response(invoice, "xml")
        assert xml.mimetype == "application/xml"
        assert xml.get_data() == storage.get(invoice.ubl_key)

        with pytest.raises(NotFound):
            document_response(invoice, "docx")
    storage.delete(invoice.pdf_key)
    storage.delete(invoice.ubl_key)


def test_finalise_and_void_store_valid_documents(ctx):
    """Through the billing services: finalising stores both documents; so does a void's credit."""
    customer = Customer(
        legal_name="Communauté de communes Saint-Flour Communauté",
        siret=BUYER["siret"],
        address_line1="1 place de la Halle",
        postcode="15100",
        city="Saint-Flour",
        billing_email=BUYER["email"],
        service_code="FACTURES",
        engagement_number="2027-000118",
    )
    db.session.add(customer)
    db.session.flush()
    draft = create_draft(customer, "Abonnement – 1er trimestre 2027")
    period = (date(2027, 1, 1), date(2027, 3, 31))
    add_line(draft, "Abonnement de base", "3", 110000, "base", period)
    add_line(draft, "Option 1", "3", 25000, "option1", period)
    invoice = finalise(draft, on=date(2027, 1, 4))
    storage = get_storage()
    stored = [invoice]
    try:
        assert invoice.pdf_key == f"billing/invoices/{invoice.number}.pdf"
        assert invoice.ubl_key == f"billing/invoices/{invoice.number}.xml"
        pdf = storage.get(invoice.pdf_key)
        assert facturx.get_xml_from_pdf(pdf, check_xsd=True)[1] == cii_xml(invoice)
        assert schematron_errors(cii_xml(invoice), CII_RULES) == []
        ubl = storage.get(invoice.ubl_key)
        check_ubl(ubl)
        assert schematron_errors(ubl, UBL_RULES) == []
        text = flat(pdf_text(pdf))
        assert f"Total TTC 4{NNBSP}860,00{NBSP}€" in text  # 4 050 HT + 810 TVA
        assert "Code service : FACTURES" in text and "N° d'engagement : 2027-000118" in text
        assert f"SIRET : {invoice.seller['siret']}" in text

        credit = void(invoice, on=date(2027, 1, 20))
        stored.append(credit)
        assert credit.pdf_key == f"billing/invoices/{credit.number}.pdf"
        cii = etree.fromstring(facturx.get_xml_from_pdf(storage.get(credit.pdf_key))[1])
        assert cii.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
        assert (
            cii.xpath("string(//ram:InvoiceReferencedDocument/ram:IssuerAssignedID)", namespaces=NS)
            == invoice.number
        )
        credit_ubl = storage.get(credit.ubl_key)
        check_ubl(credit_ubl)
        assert etree.QName(etree.fromstring(credit_ubl)).localname == "CreditNote"
    finally:
        for done in stored:
            storage.delete(done.pdf_key)
            storage.delete(done.ubl_key)
