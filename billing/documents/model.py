"""What an invoice document carries: its parties, lines, VAT per rate, totals and payment terms,
as plain values frozen from an `Invoice` (every format — CII, UBL, PDF — draws from it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app

from billing.pricing import vat_cents
from core.config import Config

#: Invoices are legal documents in French, whatever the reader's language.
LOCALE = "fr_FR"
NO_DISCOUNT_TEXT = "Pas d'escompte pour paiement anticipé."


def legal_late_interest_text(margin_bp: int) -> str:
    """The legal clause for French public buyers (Code de la commande publique, R2192-31):
    the ECB's main refinancing rate plus the margin (BILLING_LATE_MARGIN_BP)."""
    return (
        "En cas de retard de paiement, des intérêts moratoires sont dus au taux d'intérêt "
        "appliqué par la Banque centrale européenne à ses opérations principales de "
        f"refinancement, majoré de {french_number(margin_bp)} points (art. R2192-31 du Code "
        "de la commande publique)."
    )


def recovery_indemnity_text(indemnity_cents: int) -> str:
    """The fixed recovery indemnity owed on a late payment (BILLING_RECOVERY_INDEMNITY_CENTS)."""
    return (
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : "
        f"{french_number(indemnity_cents)} € (art. L2192-13 et D2192-35 du Code de la commande "
        "publique, art. D441-5 du Code de commerce)."
    )


def french_number(hundredths: int) -> str:
    """`800` → `8`, `750` → `7,5`: points and euros as the legal clauses write them."""
    return format_decimal(Decimal(hundredths) / 100, "#,##0.##", locale=LOCALE)


def french_date(day: date) -> str:
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


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
    late_interest_text: str = ""  # the seller's own clause; empty: the legal one
    # The settings' defaults; `from_invoice` gives the application's settings.
    late_margin_bp: int = Config.BILLING_LATE_MARGIN_BP
    recovery_indemnity_cents: int = Config.BILLING_RECOVERY_INDEMNITY_CENTS
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
    def late_interest_clause(self) -> str:
        return self.late_interest_text or legal_late_interest_text(self.late_margin_bp)

    @property
    def indemnity_text(self) -> str:
        return recovery_indemnity_text(self.recovery_indemnity_cents)

    @property
    def penalty_texts(self) -> tuple[str, ...]:
        """Late interest, the recovery indemnity, no discount: each stated once.

        A seller's own clause may already state the indemnity or the discount.
        """
        clause = self.late_interest_clause
        texts = [clause]
        if "recouvrement" not in clause:
            texts.append(self.indemnity_text)
        if "escompte" not in clause:
            texts.append(NO_DISCOUNT_TEXT)
        return tuple(texts)


def vat_groups(lines) -> tuple[VatGroup, ...]:
    """VAT once per rate on the net total of that rate, rounded half-up (as the invoice's)."""
    bases: dict[int, int] = {}
    for line in lines:
        bases[line.vat_rate_bp] = bases.get(line.vat_rate_bp, 0) + line.amount_cents
    return tuple(
        VatGroup(rate, base, vat_cents(base, rate))
        for rate, base in sorted(bases.items(), reverse=True)
    )


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
        late_interest_text=(invoice.seller or {}).get("late_interest_text") or "",
        late_margin_bp=current_app.config["BILLING_LATE_MARGIN_BP"],
        recovery_indemnity_cents=current_app.config["BILLING_RECOVERY_INDEMNITY_CENTS"],
    )
