"""Overdue invoices: reminders to the billing contact, and the late interest they owe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flask import current_app
from flask_babel import gettext as _

from billing.invoicing import InvoicingError
from billing.invoicing.payments import balance_cents
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from billing.pricing import half_up
from billing.queries import is_overdue, overdue_invoices
from core.extensions import db
from core.i18n import money
from core.jobs import job
from core.mail import queue_mail


def send_reminder(invoice: Invoice, on: date | None = None):
    """Queue a reminder to the customer's billing contact (in French, like the invoice)."""
    on = on or date.today()
    if not is_overdue(invoice, on):
        raise InvoicingError(_("Only an overdue invoice gets a reminder."))
    seller = invoice.seller or {}
    due = balance_cents(invoice)
    interest = late_interest(invoice, on)
    body = (
        f"Madame, Monsieur,\n\n"
        f"Sauf erreur de notre part, la facture {invoice.number} du "
        f"{invoice.issue_date:%d/%m/%Y}, échue le {invoice.due_date:%d/%m/%Y}, reste impayée "
        f"pour un montant de {money(due, locale='fr')} TTC.\n"
        + (f"Engagement n° {invoice.engagement_number}.\n" if invoice.engagement_number else "")
        + "\nNous vous remercions d'en effectuer le règlement par virement"
        + (f" (IBAN {seller['iban']}, BIC {seller.get('bic', '')})" if seller.get("iban") else "")
        + f", en rappelant le numéro de facture.\n\n"
        f"À ce jour, {interest.days} jours de retard : intérêts moratoires de "
        f"{money(interest.interest_cents, locale='fr')} au taux de {interest.rate_bp / 100:.2f} %"
        f" et indemnité forfaitaire pour frais de recouvrement de "
        f"{money(interest.indemnity_cents, locale='fr')}.\n\n"
        f"Si ce règlement a été effectué entre-temps, merci de ne pas tenir compte de ce "
        f"message.\n\n{seller.get('name', '')}\n{seller.get('email', '')}\n"
    )
    mail = queue_mail(
        invoice.customer.billing_email,
        f"Relance : facture {invoice.number} échue le {invoice.due_date:%d/%m/%Y}",
        body,
    )
    invoice.reminder_count += 1
    invoice.last_reminded_on = on
    db.session.flush()
    return mail


def send_due_reminders(on: date) -> int:
    """Remind every overdue invoice not reminded in the last BILLING_REMINDER_DAYS days."""
    gap = timedelta(days=current_app.config["BILLING_REMINDER_DAYS"])
    sent = 0
    for invoice in overdue_invoices(on):
        if invoice.last_reminded_on is None or invoice.last_reminded_on + gap <= on:
            send_reminder(invoice, on)
            sent += 1
    return sent


@dataclass(frozen=True)
class LateInterest:
    days: int
    rate_bp: int
    interest_cents: int
    indemnity_cents: int


def late_interest(invoice: Invoice, on: date) -> LateInterest:
    """Interest per day on what was unpaid each day after the due date, up to `on` included.

    Rate: the ECB rate + BILLING_LATE_MARGIN_BP, over 365 days; plus the fixed recovery
    indemnity (BILLING_RECOVERY_INDEMNITY_CENTS) once the invoice is late.
    """
    config = current_app.config
    rate_bp = config["BILLING_ECB_RATE_BP"] + config["BILLING_LATE_MARGIN_BP"]
    if invoice.kind != InvoiceKind.invoice or invoice.due_date is None or on <= invoice.due_date:
        return LateInterest(0, rate_bp, 0, 0)
    if invoice.status == InvoiceStatus.void:
        return LateInterest(0, rate_bp, 0, 0)
    payments = sorted((p.paid_on, p.amount_cents) for p in invoice.payments)
    total = Fraction(0)
    late_days = 0
    day = invoice.due_date + timedelta(days=1)
    while day <= on:
        # A payment received on a day stops the interest on its amount from that day.
        outstanding = invoice.total_ttc_cents - sum(a for d, a in payments if d <= day)
        if outstanding <= 0:
            break
        total += Fraction(outstanding * rate_bp, 10000 * 365)
        late_days += 1
        day += timedelta(days=1)
    indemnity = config["BILLING_RECOVERY_INDEMNITY_CENTS"] if late_days else 0
    return LateInterest(late_days, rate_bp, half_up(total), indemnity)


@job("default")
def reminders_job(on: date) -> int:
    """Worker job: the day's reminders, once the day's billing run has committed."""
    return send_due_reminders(on)
