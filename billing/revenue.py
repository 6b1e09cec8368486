"""Revenue figures of the billing console: MRR and ARR, invoiced and received month by month,
what is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from billing.models import Invoice, InvoiceKind, InvoiceStatus, Payment
from billing.queries import OPEN, contracts_with_customers, paid_cents_subquery
from billing.schedule import monthly_ht_cents
from core.extensions import db


@dataclass
class Month:
    first_day: date
    invoiced_cents: int = 0
    paid_cents: int = 0


@dataclass(frozen=True)
class RevenueFigures:
    on: date
    mrr_cents: int
    invoiced_cents: int
    paid_cents: int
    overdue_cents: int
    months: list[Month]

    @property
    def arr_cents(self) -> int:
        return self.mrr_cents * 12


def revenue_figures(on: date) -> RevenueFigures:
    """The figures on `on`; amounts invoiced and received over the last 12 months."""
    months, invoiced, paid = money_by_month(on)
    return RevenueFigures(
        on=on,
        mrr_cents=mrr_cents(on),
        invoiced_cents=invoiced,
        paid_cents=paid,
        overdue_cents=overdue_cents(on),
        months=months,
    )


def mrr_cents(on: date) -> int:
    """Monthly recurring revenue (HT): what every contract costs per month on `on`."""
    return sum(monthly_ht_cents(contract, on) for contract, _c in contracts_with_customers())


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
