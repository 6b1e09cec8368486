"""The Factur-X EN 16931 CrossIndustryInvoice (CII) XML of an invoice or credit note."""

from __future__ import annotations

from datetime import date

from lxml import etree

from billing.documents.en16931 import (
    CHORUS_FRAMEWORK,
    CII,
    EN16931,
    QDT,
    RAM,
    SCHEME_SIREN,
    SCHEME_SIRET,
    UDT,
    Builder,
    decimal_text,
    notes,
    quantity,
    rate_text,
    unit_price,
)
from billing.documents.model import Party, from_invoice


def _cii_date(b: Builder, parent, tag: str, day: date, ns: str = "udt") -> None:
    b(b(parent, tag), f"{ns}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _cii_party(b: Builder, parent, tag: str, party: Party, seller: bool) -> None:
    node = b(parent, tag)
    b(node, "ram:GlobalID", party.siret, schemeID=SCHEME_SIRET)
    b(node, "ram:Name", party.name)
    legal = b(node, "ram:SpecifiedLegalOrganization")
    if seller:
        b(legal, "ram:ID", party.siren_or_derived, schemeID=SCHEME_SIREN)
    else:
        # Chorus Pro routes an invoice to the public body by its SIRET.
        b(legal, "ram:ID", party.siret, schemeID=SCHEME_SIRET)
    address = b(node, "ram:PostalTradeAddress")
    b(address, "ram:PostcodeCode", party.postcode)
    b(address, "ram:LineOne", party.address_line1)
    if party.address_line2:
        b(address, "ram:LineTwo", party.address_line2)
    b(address, "ram:CityName", party.city)
    b(address, "ram:CountryID", party.country_code)
    if party.email:
        uri = b(node, "ram:URIUniversalCommunication")
        b(uri, "ram:URIID", party.email, schemeID="EM")
    if party.vat_number:
        tax = b(node, "ram:SpecifiedTaxRegistration")
        b(tax, "ram:ID", party.vat_number, schemeID="VA")


def cii_xml(invoice) -> bytes:
    """The Factur-X EN 16931 CrossIndustryInvoice of an invoice or credit note (UTF-8)."""
    doc = from_invoice(invoice)
    b = Builder({"rsm": CII, "ram": RAM, "udt": UDT, "qdt": QDT})
    root = etree.Element(f"{{{CII}}}CrossIndustryInvoice", nsmap=b.nsmap)
    context = b(root, "rsm:ExchangedDocumentContext")
    process = b(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    b(process, "ram:ID", CHORUS_FRAMEWORK)
    b(b(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = b(root, "rsm:ExchangedDocument")
    b(header, "ram:ID", doc.number)
    b(header, "ram:TypeCode", doc.type_code)
    _cii_date(b, header, "ram:IssueDateTime", doc.issue_date)
    for subject, text in notes(doc):
        note = b(header, "ram:IncludedNote")
        b(note, "ram:Content", text)
        if subject:
            b(note, "ram:SubjectCode", subject)

    transaction = b(root, "rsm:SupplyChainTradeTransaction")
    for position, line in enumerate(doc.lines, start=1):
        item = b(transaction, "ram:IncludedSupplyChainTradeLineItem")
        b(b(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(position))
        b(b(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.label)
        agreement = b(item, "ram:SpecifiedLineTradeAgreement")
        b(b(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", unit_price(line))
        delivery = b(item, "ram:SpecifiedLineTradeDelivery")
        b(delivery, "ram:BilledQuantity", quantity(line), unitCode="C62")
        settlement = b(item, "ram:SpecifiedLineTradeSettlement")
        tax = b(settlement, "ram:ApplicableTradeTax")
        b(tax, "ram:TypeCode", "VAT")
        b(tax, "ram:CategoryCode", "S")
        b(tax, "ram:RateApplicablePercent", rate_text(line.vat_rate_bp))
        if line.period_start and line.period_end:
            period = b(settlement, "ram:BillingSpecifiedPeriod")
            _cii_date(b, period, "ram:StartDateTime", line.period_start)
            _cii_date(b, period, "ram:EndDateTime", line.period_end)
        summation = b(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        b(summation, "ram:LineTotalAmount", decimal_text(line.amount_cents))

    agreement = b(transaction, "ram:ApplicableHeaderTradeAgreement")
    # Chorus Pro reads the service code as the buyer reference (BT-10) and the engagement
    # number as the purchase order reference (BT-13).
    if doc.service_code:
        b(agreement, "ram:BuyerReference", doc.service_code)
    _cii_party(b, agreement, "ram:SellerTradeParty", doc.seller, seller=True)
    _cii_party(b, agreement, "ram:BuyerTradeParty", doc.buyer, seller=False)
    if doc.engagement_number:
        order = b(agreement, "ram:BuyerOrderReferencedDocument")
        b(order, "ram:IssuerAssignedID", doc.engagement_number)
    if doc.contract_reference:
        contract = b(agreement, "ram:ContractReferencedDocument")
        b(contract, "ram:IssuerAssignedID", doc.contract_reference)
    b(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = b(transaction, "ram:ApplicableHeaderTradeSettlement")
    b(settlement, "ram:PaymentReference", doc.number)
    b(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.seller.iban:
        means = b(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        b(means, "ram:TypeCode", "30")  # credit transfer
        b(means, "ram:Information", "Virement")
        account = b(means, "ram:PayeePartyCreditorFinancialAccount")
        b(account, "ram:IBANID", doc.seller.iban.replace(" ", ""))
        if doc.seller.bic:
            institution = b(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            b(institution, "ram:BICID", doc.seller.bic)
    for group in doc.vat_groups:
        tax = b(settlement, "ram:ApplicableTradeTax")
        b(tax, "ram:CalculatedAmount", decimal_text(group.vat_cents))
        b(tax, "ram:TypeCode", "VAT")
        b(tax, "ram:BasisAmount", decimal_text(group.base_cents))
        b(tax, "ram:CategoryCode", "S")
        b(tax, "ram:RateApplicablePercent", rate_text(group.rate_bp))
    if doc.period_start and doc.period_end:
        period = b(settlement, "ram:BillingSpecifiedPeriod")
        _cii_date(b, period, "ram:StartDateTime", doc.period_start)
        _cii_date(b, period, "ram:EndDateTime", doc.period_end)
    terms = b(settlement, "ram:SpecifiedTradePaymentTerms")
    b(terms, "ram:Description", doc.payment_terms)
    _cii_date(b, terms, "ram:DueDateDateTime", doc.due_date)
    totals = b(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    b(totals, "ram:LineTotalAmount", decimal_text(doc.total_ht_cents))
    b(totals, "ram:TaxBasisTotalAmount", decimal_text(doc.total_ht_cents))
    b(totals, "ram:TaxTotalAmount", decimal_text(doc.total_vat_cents), currencyID=doc.currency)
    b(totals, "ram:GrandTotalAmount", decimal_text(doc.total_ttc_cents))
    b(totals, "ram:DuePayableAmount", decimal_text(doc.total_ttc_cents))
    if doc.credit_note:
        preceding = b(settlement, "ram:InvoiceReferencedDocument")
        b(preceding, "ram:IssuerAssignedID", doc.preceding_number)
        if doc.preceding_date:
            _cii_date(b, preceding, "ram:FormattedIssueDateTime", doc.preceding_date, "qdt")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
