"""Invoice documents: CII and UBL against their XSD and the EN 16931 rules; what makes none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import facturx
import pytest
from lxml import etree

from billing.documents.cii import cii_xml
from billing.documents.en16931 import CII, UBL_INVOICE
from billing.documents.model import DocumentError, InvoiceDocument, Line, from_invoice
from billing.documents.pdf import render_pdf
from billing.documents.schemas import check_cii, check_ubl
from billing.documents.ubl import ubl_xml
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from tests import billing_document_helpers
from tests.billing_document_helpers import (
    BUYER,
    CII_RULES,
    NS,
    SELLER,
    UBL_RULES,
    flat,
    pdf_text,
    schematron_errors,
)

#: The shared fixtures this module's tests ask for.
make_invoice = billing_document_helpers.make_invoice

# --- CII (Factur-X EN 16931) --------------------------------------------------------------------


def test_cii_is_valid_against_the_factur_x_xsd_and_the_en16931_rules(make_invoice):
    invoice = make_invoice(
        lines=(
            ("Abonnement de base – commune", "3", 110000, 2000),
            ("Option 2 – offre de logements", "3", 50000, 2000),
            ("Frais de formation (DOM)", "1", 33333, 850),
        )
    )
    xml = cii_xml(invoice)
    check_cii(xml)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert schematron_errors(xml, CII_RULES) == []
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"

    root = etree.fromstring(xml)

    def text(path):
        return root.xpath(f"string({path})", namespaces=NS)

    assert text("//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert text("//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert (
        text("//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"
    )
    assert text("//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20270104"
    assert text("//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*") == "20270203"
    period = "//ram:ApplicableHeaderTradeSettlement/ram:BillingSpecifiedPeriod"
    assert text(f"{period}/ram:StartDateTime/*") == "20270101"
    assert text(f"{period}/ram:EndDateTime/*") == "20270331"
    seller = "//ram:SellerTradeParty"
    assert text(f"{seller}/ram:GlobalID[@schemeID='0009']") == "73282932000074"
    assert text(f"{seller}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == "732829320"
    assert text(f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR44732829320"
    buyer = "//ram:BuyerTradeParty"
    assert text(f"{buyer}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0009']") == (
        "21150187000019"
    )
    # Chorus Pro: service code as buyer reference, engagement as purchase order reference.
    assert text("//ram:BuyerReference") == "SERV-FIN"
    assert text("//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "EJ-2027-118"
    assert text("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == (
        "FR7630006000011234567890189"
    )
    # VAT once per rate on the net total: 4 800 × 20 % = 960; 333.33 × 8.5 % = 28.33305 → 28.33.
    taxes = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    assert [
        (t.findtext("ram:RateApplicablePercent", namespaces=NS),
         t.findtext("ram:BasisAmount", namespaces=NS),
         t.findtext("ram:CalculatedAmount", namespaces=NS),
         t.findtext("ram:CategoryCode", namespaces=NS))
        for t in taxes
    ] == [("20", "4800.00", "960.00", "S"), ("8.5", "333.33", "28.33", "S")]  # fmt: skip
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert text(f"{totals}/ram:TaxBasisTotalAmount") == "5133.33"
    assert text(f"{totals}/ram:TaxTotalAmount") == "988.33"
    assert text(f"{totals}/ram:GrandTotalAmount") == "6121.66"
    assert text(f"{totals}/ram:DuePayableAmount") == "6121.66"
    notes = {
        n.findtext("ram:SubjectCode", namespaces=NS): n.findtext("ram:Content", namespaces=NS)
        for n in root.xpath("//ram:IncludedNote", namespaces=NS)
    }
    assert "40 €" in notes["PMT"] and "8 points" in notes["PMD"]
    assert notes["AAB"] == "Pas d'escompte pour paiement anticipé."


def test_cii_without_iban_engagement_or_service_code_stays_valid(make_invoice):
    seller = {k: v for k, v in SELLER.items() if k not in ("iban", "bic", "siren")}
    invoice = make_invoice(engagement=None, service=None, seller=seller, period=None)
    xml = cii_xml(invoice)
    check_cii(xml)
    assert schematron_errors(xml, CII_RULES) == []
    root = etree.fromstring(xml)
    assert not root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)
    assert not root.xpath(
        "//ram:BuyerReference | //ram:BuyerOrderReferencedDocument", namespaces=NS
    )
    # The SIREN is the SIRET's first nine digits when the seller's settings omit it.
    assert root.xpath(
        "string(//ram:SellerTradeParty//ram:ID[@schemeID='0002'])", namespaces=NS
    ) == ("732829320")


def test_credit_note_type_and_reference(make_invoice):
    invoice = make_invoice()
    credit = make_invoice(credits=invoice, issue=date(2027, 2, 10))
    xml = cii_xml(credit)
    check_cii(xml)
    assert schematron_errors(xml, CII_RULES) == []
    root = etree.fromstring(xml)
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    ref = "//ram:InvoiceReferencedDocument"
    assert root.xpath(f"string({ref}/ram:IssuerAssignedID)", namespaces=NS) == invoice.number
    assert root.xpath(f"string({ref}/ram:FormattedIssueDateTime/*)", namespaces=NS) == "20270104"
    assert root.xpath("string(//ram:GrandTotalAmount)", namespaces=NS) == "1320.00"

    ubl = ubl_xml(credit)
    check_ubl(ubl)
    assert schematron_errors(ubl, UBL_RULES) == []
    ubl_root = etree.fromstring(ubl)
    assert etree.QName(ubl_root).localname == "CreditNote"
    assert ubl_root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert (
        ubl_root.xpath(
            "string(cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID)", namespaces=NS
        )
        == invoice.number
    )
    assert ubl_root.xpath("count(cac:CreditNoteLine)", namespaces=NS) == 1

    text = flat(pdf_text(render_pdf(credit)))
    assert "AVOIR" in text.upper() and credit.number in text
    assert f"Avoir portant sur la facture n° {invoice.number} du 4 janvier 2027" in text


def test_credit_note_stored_with_negative_amounts_prints_positive(make_invoice):
    """Stored negative or positive, a credit note's 381 document states positive amounts."""
    invoice = make_invoice()
    credit = make_invoice(credits=invoice)
    negative = SimpleNamespace(
        **{c.key: getattr(credit, c.key) for c in Invoice.__mapper__.column_attrs},
        credits_invoice=invoice,
        lines=[
            SimpleNamespace(
                label=line.label,
                quantity=line.quantity,
                unit_cents=-line.unit_cents,
                amount_cents=-line.amount_cents,
                vat_rate_bp=line.vat_rate_bp,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in credit.lines
        ],
    )
    negative.total_ht_cents, negative.total_vat_cents = -110000, -22000
    negative.total_ttc_cents = -132000
    assert cii_xml(negative) == cii_xml(credit)


# --- UBL 2.1 ------------------------------------------------------------------------------------


def test_ubl_invoice_is_valid_against_the_oasis_xsd_and_the_en16931_rules(make_invoice):
    invoice = make_invoice(
        lines=(("Abonnement de base – commune", "1", 110000, 2000), ("Option 1", "1", 25000, 2000))
    )
    xml = ubl_xml(invoice)
    check_ubl(xml)
    assert facturx.xml_check_xsd(xml, flavor="ubl-2.1-invoice")
    assert schematron_errors(xml, UBL_RULES) == []
    root = etree.fromstring(xml)
    assert etree.QName(root).localname == "Invoice"
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == "urn:cen.eu:en16931:2017"
    assert root.findtext("cbc:DueDate", namespaces=NS) == "2027-02-03"
    assert root.findtext("cbc:BuyerReference", namespaces=NS) == "SERV-FIN"
    assert root.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == "EJ-2027-118"
    assert root.xpath("string(cac:TaxTotal/cbc:TaxAmount)", namespaces=NS) == "270.00"
    assert root.xpath("string(cac:LegalMonetaryTotal/cbc:PayableAmount)", namespaces=NS) == (
        "1620.00"
    )
    assert (
        root.xpath(
            "string(cac:AccountingCustomerParty//cac:PartyIdentification/cbc:ID[@schemeID='0009'])",
            namespaces=NS,
        )
        == BUYER["siret"]
    )


def test_xml_that_breaks_the_schema_is_refused():
    with pytest.raises(DocumentError, match="schema"):
        check_cii(b"<rsm:CrossIndustryInvoice xmlns:rsm='%s'/>" % CII.encode())
    with pytest.raises(DocumentError, match="schema"):
        check_ubl(b"<Invoice xmlns='%s'/>" % UBL_INVOICE.encode())


# --- Refusals -----------------------------------------------------------------------------------


def test_drafts_and_incomplete_identities_make_no_document(make_invoice):
    draft = Invoice(kind=InvoiceKind.invoice, status=InvoiceStatus.draft)
    with pytest.raises(DocumentError, match="draft"):
        render_pdf(draft)

    no_siret = make_invoice(seller={k: v for k, v in SELLER.items() if k != "siret"})
    with pytest.raises(DocumentError, match="missing seller SIRET"):
        cii_xml(no_siret)

    doc = from_invoice(make_invoice())
    fields = {f: getattr(doc, f) for f in doc.__dataclass_fields__ if f != "vat_groups"}
    with pytest.raises(DocumentError, match="disagree with its lines"):
        InvoiceDocument(**(fields | {"total_vat_cents": 21999, "total_ttc_cents": 131999}))
    with pytest.raises(DocumentError, match="negative"):
        bad = Line("Remise", Decimal(1), -100, -100, 2000)
        InvoiceDocument(
            **(
                fields
                | {
                    "lines": (bad,),
                    "total_ht_cents": -100,
                    "total_vat_cents": -20,
                    "total_ttc_cents": -120,
                }
            )  # fmt: skip
        )
    with pytest.raises(DocumentError, match="names no invoice"):
        InvoiceDocument(**(fields | {"credit_note": True}))
