"""The UBL 2.1 Invoice or CreditNote XML of an invoice (EN 16931 customisation), for export."""

from __future__ import annotations

from lxml import etree

from billing.documents.en16931 import (
    CAC,
    CBC,
    CHORUS_FRAMEWORK,
    EN16931,
    SCHEME_SIREN,
    SCHEME_SIRET,
    UBL_CREDIT_NOTE,
    UBL_INVOICE,
    Builder,
    decimal_text,
    notes,
    quantity,
    rate_text,
    unit_price,
)
from billing.documents.model import Party, from_invoice


def _ubl_party(b: Builder, parent, tag: str, party: Party, seller: bool) -> None:
    node = b(b(parent, tag), "cac:Party")
    if party.email:
        b(node, "cbc:EndpointID", party.email, schemeID="EM")
    ident = b(node, "cac:PartyIdentification")
    b(ident, "cbc:ID", party.siret, schemeID=SCHEME_SIRET)
    b(b(node, "cac:PartyName"), "cbc:Name", party.name)
    address = b(node, "cac:PostalAddress")
    b(address, "cbc:StreetName", party.address_line1)
    if party.address_line2:
        b(address, "cbc:AdditionalStreetName", party.address_line2)
    b(address, "cbc:CityName", party.city)
    b(address, "cbc:PostalZone", party.postcode)
    b(b(address, "cac:Country"), "cbc:IdentificationCode", party.country_code)
    if party.vat_number:
        tax = b(node, "cac:PartyTaxScheme")
        b(tax, "cbc:CompanyID", party.vat_number)
        b(b(tax, "cac:TaxScheme"), "cbc:ID", "VAT")
    legal = b(node, "cac:PartyLegalEntity")
    b(legal, "cbc:RegistrationName", party.name)
    if seller:
        b(legal, "cbc:CompanyID", party.siren_or_derived, schemeID=SCHEME_SIREN)
    else:
        b(legal, "cbc:CompanyID", party.siret, schemeID=SCHEME_SIRET)


def ubl_xml(invoice) -> bytes:
    """The UBL 2.1 Invoice (or CreditNote) of an invoice, EN 16931 customisation (UTF-8)."""
    doc = from_invoice(invoice)
    root_ns = UBL_CREDIT_NOTE if doc.credit_note else UBL_INVOICE
    b = Builder({"ubl": root_ns, "cac": CAC, "cbc": CBC})
    root = etree.Element(
        f"{{{root_ns}}}{'CreditNote' if doc.credit_note else 'Invoice'}",
        nsmap={None: root_ns, "cac": CAC, "cbc": CBC},
    )
    cur = {"currencyID": doc.currency}
    b(root, "cbc:CustomizationID", EN16931)
    b(root, "cbc:ProfileID", CHORUS_FRAMEWORK)
    b(root, "cbc:ID", doc.number)
    b(root, "cbc:IssueDate", doc.issue_date.isoformat())
    if doc.credit_note:
        b(root, "cbc:CreditNoteTypeCode", doc.type_code)
    else:
        b(root, "cbc:DueDate", doc.due_date.isoformat())
        b(root, "cbc:InvoiceTypeCode", doc.type_code)
    for subject, text in notes(doc):
        b(root, "cbc:Note", f"#{subject}#{text}" if subject else text)
    b(root, "cbc:DocumentCurrencyCode", doc.currency)
    if doc.service_code:
        b(root, "cbc:BuyerReference", doc.service_code)
    if doc.period_start and doc.period_end:
        period = b(root, "cac:InvoicePeriod")
        b(period, "cbc:StartDate", doc.period_start.isoformat())
        b(period, "cbc:EndDate", doc.period_end.isoformat())
    if doc.engagement_number:
        b(b(root, "cac:OrderReference"), "cbc:ID", doc.engagement_number)
    if doc.credit_note:
        ref = b(b(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        b(ref, "cbc:ID", doc.preceding_number)
        if doc.preceding_date:
            b(ref, "cbc:IssueDate", doc.preceding_date.isoformat())
    if doc.contract_reference:
        b(b(root, "cac:ContractDocumentReference"), "cbc:ID", doc.contract_reference)
    _ubl_party(b, root, "cac:AccountingSupplierParty", doc.seller, seller=True)
    _ubl_party(b, root, "cac:AccountingCustomerParty", doc.buyer, seller=False)
    if doc.seller.iban:
        means = b(root, "cac:PaymentMeans")
        b(means, "cbc:PaymentMeansCode", "30")
        if doc.credit_note:
            b(means, "cbc:PaymentDueDate", doc.due_date.isoformat())
        b(means, "cbc:PaymentID", doc.number)
        account = b(means, "cac:PayeeFinancialAccount")
        b(account, "cbc:ID", doc.seller.iban.replace(" ", ""))
        if doc.seller.bic:
            b(b(account, "cac:FinancialInstitutionBranch"), "cbc:ID", doc.seller.bic)
    b(b(root, "cac:PaymentTerms"), "cbc:Note", doc.payment_terms)
    tax_total = b(root, "cac:TaxTotal")
    b(tax_total, "cbc:TaxAmount", decimal_text(doc.total_vat_cents), **cur)
    for group in doc.vat_groups:
        sub = b(tax_total, "cac:TaxSubtotal")
        b(sub, "cbc:TaxableAmount", decimal_text(group.base_cents), **cur)
        b(sub, "cbc:TaxAmount", decimal_text(group.vat_cents), **cur)
        category = b(sub, "cac:TaxCategory")
        b(category, "cbc:ID", "S")
        b(category, "cbc:Percent", rate_text(group.rate_bp))
        b(b(category, "cac:TaxScheme"), "cbc:ID", "VAT")
    totals = b(root, "cac:LegalMonetaryTotal")
    b(totals, "cbc:LineExtensionAmount", decimal_text(doc.total_ht_cents), **cur)
    b(totals, "cbc:TaxExclusiveAmount", decimal_text(doc.total_ht_cents), **cur)
    b(totals, "cbc:TaxInclusiveAmount", decimal_text(doc.total_ttc_cents), **cur)
    b(totals, "cbc:PayableAmount", decimal_text(doc.total_ttc_cents), **cur)
    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if doc.credit_note
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    for position, line in enumerate(doc.lines, start=1):
        node = b(root, line_tag)
        b(node, "cbc:ID", str(position))
        b(node, quantity_tag, quantity(line), unitCode="C62")
        b(node, "cbc:LineExtensionAmount", decimal_text(line.amount_cents), **cur)
        if line.period_start and line.period_end:
            period = b(node, "cac:InvoicePeriod")
            b(period, "cbc:StartDate", line.period_start.isoformat())
            b(period, "cbc:EndDate", line.period_end.isoformat())
        item = b(node, "cac:Item")
        b(item, "cbc:Name", line.label)
        category = b(item, "cac:ClassifiedTaxCategory")
        b(category, "cbc:ID", "S")
        b(category, "cbc:Percent", rate_text(line.vat_rate_bp))
        b(b(category, "cac:TaxScheme"), "cbc:ID", "VAT")
        b(b(node, "cac:Price"), "cbc:PriceAmount", unit_price(line), **cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
