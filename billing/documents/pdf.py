"""The Factur-X EN 16931 PDF/A-3 of an invoice: its French drawing with the CII XML embedded."""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from lxml import etree

from billing.documents.cii import cii_xml
from billing.documents.drawing import TEMPLATES, documents_environment
from billing.documents.model import french_date, from_invoice
from billing.documents.schemas import check_cii


def invoice_html(invoice) -> str:
    """The invoice's French HTML, as drawn into the PDF."""
    doc = from_invoice(invoice)
    return documents_environment().get_template("billing/invoice.html").render(doc=doc)


@cache
def _srgb_profile_bytes() -> bytes:
    return resources.files("weasyprint.pdf").joinpath("sRGB2014.icc").read_bytes()


def plain_pdf(invoice) -> bytes:
    """The invoice drawn by weasyprint as PDF/A-3b, before the XML is embedded."""
    # Loaded when an invoice is drawn, not when the application starts: weasyprint takes most
    # of a second to import and only invoices need it.
    from weasyprint import HTML
    from weasyprint.css import ColorProfile

    html = invoice_html(invoice)
    # The PDF/A output intent's sRGB profile, given from memory: left to itself weasyprint
    # opens the profile's file and never closes it. A new object per drawing, as weasyprint
    # writes its PDF reference on it.
    srgb = ColorProfile(
        io.BytesIO(_srgb_profile_bytes()),
        "sRGB2014.icc",
        "relative-colorimetric",
        (["r"], ["g"], ["b"]),
    )
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        pdf_variant="pdf/a-3b", output_intent="invoice-srgb", color_profiles={"invoice-srgb": srgb}
    )


def render_pdf(invoice) -> bytes:
    """The Factur-X EN 16931 PDF/A-3 of an invoice: its drawing with the CII XML embedded."""
    # Loaded when an invoice is drawn, not at start-up: factur-x imports pypdf (a third of a
    # second together).
    import facturx

    doc = from_invoice(invoice)
    xml = cii_xml(doc)
    check_cii(xml)
    pdf = facturx.generate_from_binary(
        plain_pdf(doc),
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # checked just above, against a schema compiled once
        pdf_metadata={
            "author": doc.seller.name,
            "title": f"{doc.seller.name} : {doc.kind_label} {doc.number}",
            "subject": f"{doc.kind_label} {doc.number} du {french_date(doc.issue_date)}",
        },
        lang="fr-FR",
        afrelationship="data",
        # PDF/A forbids a compressed XMP metadata stream.
        xmp_compression=False,
    )
    return _info_as_xmp(pdf)


def _info_as_xmp(pdf: bytes) -> bytes:
    """Make the document information dictionary say what the XMP says (PDF/A 6.6.2.3).

    factur-x writes a new XMP but leaves weasyprint's producer and an empty keyword entry in
    the information dictionary; an incremental update corrects them without a rewrite.
    """
    # Loaded when an invoice is drawn, not at start-up (see `render_pdf`).
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    xmp = etree.fromstring(writer.root_object["/Metadata"].get_object().get_data())
    ns = {"pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/"}
    info = {"/Producer": xmp.findtext(".//pdf:Producer", namespaces=ns) or ""}
    for key, tag in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        stamp = xmp.findtext(f".//xmp:{tag}", namespaces=ns)
        if stamp:  # 2027-01-01T10:00:00+00:00 → D:20270101100000+00'00'
            digits = "".join(ch for ch in stamp[:19] if ch.isdigit())
            info[key] = f"D:{digits}{stamp[19:22]}'{stamp[23:25]}'"
    fields = {key: value for key, value in (writer.metadata or {}).items() if value != ""}
    writer.metadata = fields | info
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
