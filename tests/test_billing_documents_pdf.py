"""Invoice documents, the PDF: every legal mention in French; a Factur-X PDF/A-3."""

from __future__ import annotations

import io

import facturx
from lxml import etree
from pypdf import PdfReader

from billing.documents.cii import cii_xml
from billing.documents.pdf import render_pdf
from billing.documents.ubl import ubl_xml
from tests import billing_document_helpers
from tests.billing_document_helpers import (
    NBSP,
    NNBSP,
    NS,
    SELLER,
    flat,
    pdf_text,
)

#: The shared fixtures this module's tests ask for.
make_invoice = billing_document_helpers.make_invoice


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
