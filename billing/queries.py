"""Read-only billing queries: invoice lists, instalments invoiced, amounts paid, what is overdue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from billing.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceLine,
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
    """An issued invoice (not a credit note), unpaid past its due date."""
    return (
        invoice.status in OPEN
        and invoice.kind == InvoiceKind.invoice
        and invoice.due_date is not None
        and invoice.due_date < on
    )


def paid_cents(invoice_id: int) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.invoice_id == invoice_id
            )
        ).scalar_one()
    )


def overdue_invoices(on: date) -> list[Invoice]:
    return list(
        db.session.execute(
            select(Invoice)
            .where(
                Invoice.kind == InvoiceKind.invoice,
                Invoice.status.in_(OPEN),
                Invoice.due_date < on,
            )
            .options(joinedload(Invoice.customer))
            .order_by(Invoice.due_date, Invoice.id)
        )
        .scalars()
        .all()
    )


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


def issued_amounts(contract_ids: Sequence[int]) -> dict[int, dict[str, dict[str, int]]]:
    """Per contract, the instalments invoiced (not void) and their amounts per item: the
    schedule then bills the year-one balance as what is left."""
    out: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = db.session.execute(
        select(
            Invoice.contract_id,
            Invoice.schedule_key,
            InvoiceLine.item_code,
            func.sum(InvoiceLine.amount_cents),
        )
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id, isouter=True)
        .where(
            Invoice.contract_id.in_(contract_ids),
            Invoice.schedule_key.is_not(None),
            Invoice.kind == InvoiceKind.invoice,
            Invoice.status != InvoiceStatus.void,
        )
        .group_by(Invoice.contract_id, Invoice.schedule_key, InvoiceLine.item_code)
    )
    for contract_id, key, code, cents in rows:
        entry = out[contract_id][key]
        if code is not None:
            entry[code] = int(cents)
    return out
