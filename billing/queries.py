"""Read-only billing queries of the consoles: invoice lists, amounts paid and due, revenue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select

from billing.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from core.extensions import db
from core.registry import Tenant, TenantKind

OPEN = (InvoiceStatus.finalised,)


@dataclass(frozen=True)
class InvoiceFilters:
    status: str = ""  # an InvoiceStatus value, "overdue", or "" for all
    customer_id: int | None = None
    start: date | None = None
    end: date | None = None


def paid_cents_subquery():
    return (
        select(func.coalesce(func.sum(Payment.amount_cents), 0))
        .where(Payment.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def invoice_rows(filters: InvoiceFilters, on: date, limit: int | None = None):
    """(invoice, customer, paid cents) rows, newest first, filtered as the list page asks."""
    paid = paid_cents_subquery().label("paid_cents")
    query = select(Invoice, Customer, paid).join(Customer, Customer.id == Invoice.customer_id)
    if filters.status == "overdue":
        query = query.where(Invoice.status.in_(OPEN), Invoice.due_date < on)
    elif filters.status:
        query = query.where(Invoice.status == InvoiceStatus(filters.status))
    if filters.customer_id:
        query = query.where(Invoice.customer_id == filters.customer_id)
    issued_or_due = func.coalesce(Invoice.issue_date, Invoice.due_on_schedule)
    if filters.start:
        query = query.where(issued_or_due >= filters.start)
    if filters.end:
        query = query.where(issued_or_due <= filters.end)
    query = query.order_by(issued_or_due.desc().nulls_last(), Invoice.id.desc())
    if limit:
        query = query.limit(limit)
    return db.session.execute(query).all()


def is_overdue(invoice: Invoice, on: date) -> bool:
    return (
        invoice.status in OPEN
        and invoice.kind == InvoiceKind.invoice
        and invoice.due_date is not None
        and invoice.due_date < on
    )


def paid_cents(invoice_id: int) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.invoice_id == invoice_id
        )
    ).scalar_one()


def customers_with_tenants():
    return db.session.execute(
        select(Customer, Tenant)
        .outerjoin(Tenant, Tenant.id == Customer.tenant_id)
        .order_by(Customer.legal_name)
    ).all()


def billable_tenants() -> list[Tenant]:
    return list(
        db.session.execute(select(Tenant).order_by(Tenant.kind, Tenant.name)).scalars().all()
    )


def town_tenants() -> list[Tenant]:
    """Territories that can be a PVD umbrella's members (not umbrellas themselves)."""
    return list(
        db.session.execute(
            select(Tenant).where(Tenant.kind != TenantKind.umbrella).order_by(Tenant.name)
        )
        .scalars()
        .all()
    )


def contracts_with_customers():
    return db.session.execute(
        select(Contract, Customer)
        .join(Customer, Customer.id == Contract.customer_id)
        .order_by(Customer.legal_name, Contract.start_on)
    ).all()


def contracts_of_tenant(tenant_id: int) -> list[Contract]:
    """The contracts billed to the customer(s) standing for this territory or umbrella."""
    return list(
        db.session.execute(
            select(Contract)
            .join(Customer, Customer.id == Contract.customer_id)
            .where(Customer.tenant_id == tenant_id)
            .order_by(Contract.start_on)
        )
        .scalars()
        .all()
    )


def invoices_of_contracts(contract_ids: list[int]):
    """Issued invoices and credit notes (never drafts) of these contracts, with amounts paid."""
    if not contract_ids:
        return []
    paid = paid_cents_subquery().label("paid_cents")
    credited = select(Invoice.id).where(Invoice.contract_id.in_(contract_ids))
    return db.session.execute(
        select(Invoice, paid)
        .where(
            or_(
                Invoice.contract_id.in_(contract_ids),
                Invoice.credits_invoice_id.in_(credited),
            ),
            Invoice.status != InvoiceStatus.draft,
        )
        .order_by(Invoice.issue_date, Invoice.id)
    ).all()


@dataclass
class Month:
    first_day: date
    label: str = ""
    invoiced_cents: int = 0
    paid_cents: int = 0


@dataclass
class RevenueFigures:
    on: date
    mrr_cents: int = 0
    arr_cents: int = 0
    invoiced_cents: int = 0
    paid_cents: int = 0
    overdue_cents: int = 0
    months: list[Month] = field(default_factory=list)


def month_starts(on: date, count: int = 12) -> list[date]:
    """The first days of the `count` months ending with the month of `on`, oldest first."""
    year, month = on.year, on.month
    out = []
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def money_by_month(on: date, count: int = 12) -> tuple[list[Month], int, int]:
    """Invoiced (TTC, net of credit notes) and received per month over the last `count` months."""
    months = [Month(first_day=d) for d in month_starts(on, count)]
    first = months[0].first_day
    index = {(m.first_day.year, m.first_day.month): m for m in months}
    month_of_issue = func.date_trunc("month", Invoice.issue_date)
    # A void invoice stays counted; its credit note cancels it in the month it is issued.
    for kind, sign in ((InvoiceKind.invoice, 1), (InvoiceKind.credit_note, -1)):
        rows = db.session.execute(
            select(month_of_issue, func.sum(func.abs(Invoice.total_ttc_cents)))
            .where(
                Invoice.kind == kind,
                Invoice.status != InvoiceStatus.draft,
                Invoice.issue_date >= first,
                Invoice.issue_date <= on,
            )
            .group_by(month_of_issue)
        ).all()
        for month, total in rows:
            index[(month.year, month.month)].invoiced_cents += sign * int(total)
    paid_month = func.date_trunc("month", Payment.paid_on)
    for month, total in db.session.execute(
        select(paid_month, func.sum(Payment.amount_cents))
        .where(Payment.paid_on >= first, Payment.paid_on <= on)
        .group_by(paid_month)
    ).all():
        index[(month.year, month.month)].paid_cents += int(total)
    return (
        months,
        sum(m.invoiced_cents for m in months),
        sum(m.paid_cents for m in months),
    )


def overdue_cents(on: date) -> int:
    """What is still owed (TTC) on invoices past their due date."""
    paid = paid_cents_subquery()
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Invoice.total_ttc_cents - paid), 0)).where(
                Invoice.status.in_(OPEN),
                Invoice.kind == InvoiceKind.invoice,
                Invoice.due_date < on,
            )
        ).scalar_one()
    )


def tenants_by_ids(ids: list[int]) -> list[Tenant]:
    if not ids:
        return []
    return list(
        db.session.execute(select(Tenant).where(Tenant.id.in_(ids)).order_by(Tenant.name))
        .scalars()
        .all()
    )


def invoices_by_schedule_key(contract_id: int) -> dict[str, Invoice]:
    """The live (not void) invoice of each schedule instalment already invoiced."""
    rows = db.session.execute(
        select(Invoice).where(
            Invoice.contract_id == contract_id,
            Invoice.schedule_key.is_not(None),
            Invoice.status != InvoiceStatus.void,
        )
    ).scalars()
    return {invoice.schedule_key: invoice for invoice in rows}


def credit_notes_of(invoice_id: int) -> list[Invoice]:
    return list(
        db.session.execute(
            select(Invoice).where(Invoice.credits_invoice_id == invoice_id).order_by(Invoice.id)
        )
        .scalars()
        .all()
    )
