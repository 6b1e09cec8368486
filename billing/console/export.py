"""The invoice list as a CSV file for the accountants (French headers, `;`, amounts as numbers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from billing.invoicing.payments import left_to_pay_cents
from billing.models import Customer, Invoice, InvoiceKind
from billing.queries import is_overdue
from core.csvexport import csv_bytes

HEADER = (
    "Numéro",
    "Type",
    "Statut",
    "Client",
    "SIRET",
    "Date d'émission",
    "Échéance",
    "Période du",
    "Période au",
    "Total HT",
    "TVA",
    "Total TTC",
    "Payé",
    "Reste dû",
    "N° d'engagement",
    "Code service",
)
STATUS = {"draft": "brouillon", "finalised": "émise", "paid": "payée", "void": "annulée"}


def amount(cents: int) -> str:
    """`396000` → `3960,00`: a number a French spreadsheet adds up (no currency, no spaces),
    which is why it is not `core.i18n.money`."""
    return f"{Decimal(cents) / 100:.2f}".replace(".", ",")


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def invoices_csv(rows: Iterable[tuple[Invoice, Customer, int]], on: date) -> bytes:
    """(invoice, customer, paid cents) rows as the CSV file, overdue invoices said so on `on`."""
    return csv_bytes(
        HEADER,
        (
            (
                inv.number or "",
                "avoir" if inv.kind == InvoiceKind.credit_note else "facture",
                "en retard" if is_overdue(inv, on) else STATUS[inv.status.value],
                customer.legal_name,
                customer.siret,
                day(inv.issue_date),
                day(inv.due_date),
                day(inv.period_start),
                day(inv.period_end),
                amount(inv.total_ht_cents),
                amount(inv.total_vat_cents),
                amount(inv.total_ttc_cents),
                amount(paid),
                amount(left_to_pay_cents(inv, paid)),
                inv.engagement_number or "",
                inv.service_code or "",
            )
            for inv, customer, paid in rows
        ),
    )
