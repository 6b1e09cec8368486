"""What the CII and UBL syntaxes of EN 16931 share: namespaces, identifier schemes, the
free-text notes, amounts and quantities as the XML writes them."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from billing.documents.model import NO_DISCOUNT_TEXT, InvoiceDocument, Line

CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EN16931 = "urn:cen.eu:en16931:2017"
#: ISO 6523 identifier schemes: SIRENE (SIREN) and SIRET.
SCHEME_SIREN, SCHEME_SIRET = "0002", "0009"
#: Chorus Pro's invoicing framework A1: a supplier's invoice for goods or services.
CHORUS_FRAMEWORK = "A1"


def decimal_text(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def rate_text(rate_bp: int) -> str:
    return f"{(Decimal(rate_bp) / 100).normalize():f}"


def quantity_text(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


class Builder:
    """Appends namespaced children tersely: `b(parent, "ram:ID", text, schemeID=...)`."""

    def __init__(self, nsmap: dict[str, str]):
        self.nsmap = nsmap

    def __call__(self, parent, tag: str, text: str | None = None, **attrib):
        prefix, local = tag.split(":")
        element = etree.SubElement(parent, f"{{{self.nsmap[prefix]}}}{local}")
        for key, value in attrib.items():
            element.set(key, value)
        if text is not None:
            element.text = text
        return element


def notes(doc: InvoiceDocument) -> list[tuple[str, str]]:
    """Free-text notes with their UNTDID 4451 subjects, as French e-invoicing expects."""
    out = []
    if doc.title:
        out.append(("", doc.title))
    seller = doc.seller
    identity = ", ".join(
        x
        for x in (
            seller.name,
            seller.legal_form,
            f"capital de {seller.share_capital}" if seller.share_capital else "",
            seller.registration,
        )
        if x
    )
    out.append(("REG", identity))
    out.append(("PMD", doc.late_interest_clause))
    out.append(("PMT", doc.indemnity_text))
    out.append(("AAB", NO_DISCOUNT_TEXT))
    return out


def unit_price(line: Line) -> str:
    """The net unit price, exact to the cent when quantity × price gives the line amount."""
    if line.quantity and Decimal(line.unit_cents) * line.quantity == line.amount_cents:
        return decimal_text(line.unit_cents)
    return decimal_text(line.amount_cents)


def quantity(line: Line) -> str:
    if line.quantity and Decimal(line.unit_cents) * line.quantity == line.amount_cents:
        return quantity_text(line.quantity)
    return "1"  # the line is then stated as one unit at its amount
