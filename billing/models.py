"""Billing tables (public schema): catalogue, customers, contracts, invoices, payments, numbering.

Money is integer cents (BigInteger), VAT rates are basis points (2000 = 20 %), dates are `date`.
A finalised invoice is immutable: the service refuses edits and a trigger (created by the
migration) refuses them in the database too.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import PublicBase, Timestamped


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class Item(enum.StrEnum):
    """What can be subscribed: the base subscription and options 1–3."""

    base = "base"
    option1 = "option1"
    option2 = "option2"
    option3 = "option3"


class Tier(enum.StrEnum):
    """The price tier of a collectivity."""

    departement = "departement"
    epci = "epci"
    commune = "commune"


class ContractKind(enum.StrEnum):
    """A single collectivity at its tier, or a PVD umbrella (its members carry their tiers)."""

    departement = "departement"
    epci = "epci"
    commune = "commune"
    umbrella = "umbrella"


class InvoiceKind(enum.StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class InvoiceStatus(enum.StrEnum):
    draft = "draft"
    finalised = "finalised"
    paid = "paid"
    void = "void"


class CatalogueItem(PublicBase):
    """A catalogue price; a row with a later `valid_from` changes it for new contracts only."""

    __tablename__ = "billing_catalogue"
    __table_args__ = (
        UniqueConstraint("item", "tier", "valid_from"),
        CheckConstraint("monthly_cents >= 0", name="price_not_negative"),
        CheckConstraint("pvd_discount_bp BETWEEN 0 AND 10000", name="discount_range"),
        CheckConstraint("minimum_months >= 0", name="minimum_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[Item] = mapped_column(_enum(Item, "billing_item"))
    tier: Mapped[Tier] = mapped_column(_enum(Tier, "billing_tier"))
    monthly_cents: Mapped[int] = mapped_column(BigInteger)
    #: Discount on this item for the members of a PVD umbrella (5000 = 50 %).
    pvd_discount_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    minimum_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    valid_from: Mapped[date] = mapped_column(Date)


class Customer(Timestamped, PublicBase):
    """Who is invoiced: a territory or a PVD umbrella, with its legal and Chorus Pro identity."""

    __tablename__ = "billing_customers"
    __table_args__ = (
        CheckConstraint(r"siret ~ '^\d{14}$'", name="siret_format"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Kept when the territory is deleted: invoices must outlive it (10 years).
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    legal_name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(String(2), default="FR", server_default="FR")
    billing_email: Mapped[str] = mapped_column(String(320))
    #: Chorus Pro "code service" of the buyer, when it requires one.
    service_code: Mapped[str | None] = mapped_column(String(100))
    #: Engagement (purchase order) number, when the buyer requires one.
    engagement_number: Mapped[str | None] = mapped_column(String(50))
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=2000, server_default="2000")

    #: Read-only: a contract being built for a preview must not join the session through it.
    contracts: Mapped[list[Contract]] = relationship(viewonly=True, order_by="Contract.start_on")


class Contract(Timestamped, PublicBase):
    """A subscription: base + options from `start_on` to `end_on` (≤ 5 years). An umbrella's
    member towns are not kept here: they are the umbrella's memberships (`billing.members`)."""

    __tablename__ = "billing_contracts"
    __table_args__ = (
        CheckConstraint("end_on > start_on", name="end_after_start"),
        CheckConstraint("end_on <= start_on + interval '5 years'", name="at_most_five_years"),
        CheckConstraint("go_live_on IS NULL OR go_live_on >= start_on", name="go_live_after_start"),
        CheckConstraint(
            "terminated_on IS NULL OR terminated_on BETWEEN start_on AND end_on",
            name="terminated_within",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("billing_customers.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ContractKind] = mapped_column(_enum(ContractKind, "billing_contract_kind"))
    #: Signature: the first instalment is due then.
    start_on: Mapped[date] = mapped_column(Date)
    #: When the base service and the chosen options went live (the second instalment).
    go_live_on: Mapped[date | None] = mapped_column(Date)
    #: Exclusive: the contract covers [start_on, end_on).
    end_on: Mapped[date] = mapped_column(Date)
    #: The catalogue's prices in force on this date apply for the whole contract.
    price_date: Mapped[date] = mapped_column(Date)
    #: Early termination: billing stops then, the 12-month minimum is trued up.
    terminated_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    #: An umbrella's contract says the umbrella manages its member towns' teams: its
    #: coordinators invite the towns' editors.
    manages_members: Mapped[bool] = mapped_column(default=False, server_default="false")

    customer: Mapped[Customer] = relationship()
    options: Mapped[list[ContractOption]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractOption.start_on"
    )


class ContractOption(PublicBase):
    """An option (1–3) of a contract from `start_on` until `cancelled_on` (exclusive) or the end."""

    __tablename__ = "billing_contract_options"
    __table_args__ = (
        CheckConstraint("item <> 'base'", name="option_not_base"),
        CheckConstraint(
            "cancelled_on IS NULL OR cancelled_on > start_on", name="cancelled_after_start"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("billing_contracts.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[Item] = mapped_column(_enum(Item, "billing_item"))
    start_on: Mapped[date] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)

    contract: Mapped[Contract] = relationship(back_populates="options")


class Invoice(PublicBase):
    """An invoice or a credit note; numbered, dated and frozen when finalised."""

    __tablename__ = "billing_invoices"
    __table_args__ = (
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_iff_not_draft"),
        CheckConstraint(
            "(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name="credit_note_target"
        ),
        CheckConstraint("total_ttc_cents = total_ht_cents + total_vat_cents", name="totals_add_up"),
        # A schedule instalment is invoiced once; a void invoice frees it for a corrected one.
        Index(
            "uq_billing_invoices_schedule",
            "contract_id",
            "schedule_key",
            unique=True,
            postgresql_where=text("schedule_key IS NOT NULL AND status <> 'void'"),
        ),
        Index("ix_billing_invoices_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    kind: Mapped[InvoiceKind] = mapped_column(
        _enum(InvoiceKind, "billing_invoice_kind"), default=InvoiceKind.invoice
    )
    status: Mapped[InvoiceStatus] = mapped_column(
        _enum(InvoiceStatus, "billing_invoice_status"), default=InvoiceStatus.draft
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("billing_customers.id", ondelete="RESTRICT"), index=True
    )
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_contracts.id", ondelete="RESTRICT"), index=True
    )
    credits_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="RESTRICT"), index=True
    )
    #: Which instalment of the contract's schedule this is (e.g. `y1-signature`, `q2027-03-01`).
    schedule_key: Mapped[str | None] = mapped_column(String(40))
    #: The schedule's date for this instalment (the invoice's date when the run issues it).
    due_on_schedule: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    #: Identities frozen at finalisation, so documents never change later.
    seller: Mapped[dict | None] = mapped_column(JSONB)
    buyer: Mapped[dict | None] = mapped_column(JSONB)
    engagement_number: Mapped[str | None] = mapped_column(String(50))
    service_code: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    total_ht_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_vat_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_ttc_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    ubl_key: Mapped[str | None] = mapped_column(String(300))
    reminder_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_reminded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    finalised_at: Mapped[datetime | None]
    paid_on: Mapped[date | None] = mapped_column(Date)
    voided_on: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship()
    contract: Mapped[Contract | None] = relationship()
    credits_invoice: Mapped[Invoice | None] = relationship(remote_side=[id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.paid_on"
    )


class InvoiceLine(PublicBase):
    """A line: quantity × unit price = amount (HT), with its VAT rate."""

    __tablename__ = "billing_invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    #: The catalogue item billed (base, option1…), or `trueup`/`adjustment` variants of them.
    item_code: Mapped[str | None] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[float] = mapped_column(Numeric(12, 4))
    unit_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(PublicBase):
    """Money received against an invoice (partial payments add up)."""

    __tablename__ = "billing_payments"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="RESTRICT"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


class InvoiceSequence(PublicBase):
    """The last number used per (prefix, year): its row lock serialises finalisations."""

    __tablename__ = "billing_invoice_sequences"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    #: Issue dates never go backwards along the numbers.
    last_issue_date: Mapped[date | None] = mapped_column(Date)
