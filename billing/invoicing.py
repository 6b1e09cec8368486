"""Invoices: the billing run, gap-free numbering, credit notes, payments, reminders, interest.

Decisions:
- The run issues what the schedule says is due by its date and finalises it at once (numbered,
  dated that day): the schedule was previewed and agreed with the contract, so a draft would
  only delay it. `run(..., draft=True)` keeps them as drafts for a manual review instead.
- Numbers: `VV-<year>-<5 digits>` for invoices, `AV-<year>-<5 digits>` for credit notes, two
  sequences without gaps, each taken under the row lock of its (prefix, year) counter in the
  transaction that finalises; a rolled-back finalisation gives its number back. Issue dates
  never go backwards along a sequence.
- A credit note restates the voided invoice's lines with positive amounts; its kind says it
  is a credit. The voided invoice keeps its number; its schedule instalment is free again, so
  the next run re-issues it as the contract now stands (that is how a past period is corrected).
- Documents (PDF/Factur-X, UBL) are stored by `billing.documents.store` at finalisation; in a
  run they are produced by worker jobs after the commit, and a sweep catches any missed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import joinedload, selectinload

from billing.catalogue import price_list
from billing.contracts import BillingInputError
from billing.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    Payment,
)
from billing.pricing import vat_cents
from billing.schedule import Instalment, half_up, plan, terms_of
from billing.seller import buyer_identity, seller_identity
from core.db import utcnow
from core.extensions import db
from core.mail import queue_mail

log = logging.getLogger("vivrau.billing")
PREFIXES = {InvoiceKind.invoice: "VV", InvoiceKind.credit_note: "AV"}
OPEN = (InvoiceStatus.finalised,)


class InvoicingError(BillingInputError):
    """A refused operation on an invoice; nothing was changed."""


def euros(cents: int) -> str:
    return f"{cents / 100:,.2f} €".replace(",", " ").replace(".", ",")


# --- totals and editing ----------------------------------------------------------------------


def compute_totals(invoice: Invoice) -> None:
    """HT from the lines; VAT once per rate on that rate's net total, rounded half-up."""
    by_rate: dict[int, int] = defaultdict(int)
    for line in invoice.lines:
        by_rate[line.vat_rate_bp] += line.amount_cents
    invoice.total_ht_cents = sum(by_rate.values())
    invoice.total_vat_cents = sum(vat_cents(net, rate) for rate, net in by_rate.items())
    invoice.total_ttc_cents = invoice.total_ht_cents + invoice.total_vat_cents


def ensure_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.draft:
        raise InvoicingError(
            _(
                "Invoice %(number)s is finalised and cannot be changed: issue a credit note.",
                number=invoice.number,
            )
        )


def add_line(
    invoice: Invoice,
    label: str,
    quantity,
    unit_cents: int,
    item_code: str | None = None,
    period: tuple[date, date] | None = None,
) -> InvoiceLine:
    """A line on a draft; negative quantities or prices are refused (credit notes correct)."""
    from decimal import Decimal, InvalidOperation

    ensure_draft(invoice)
    if not (label or "").strip():
        raise InvoicingError(_("A line needs a label."), "label")
    try:
        quantity = Decimal(str(quantity))
    except InvalidOperation:
        raise InvoicingError(_("The quantity must be a number."), "quantity") from None
    if quantity <= 0 or int(unit_cents) < 0:
        raise InvoicingError(
            _("Quantities and prices cannot be negative: corrections are credit notes."),
            "quantity" if quantity <= 0 else "unit",
        )
    line = InvoiceLine(
        position=len(invoice.lines) + 1,
        item_code=item_code,
        label=label.strip(),
        quantity=quantity,
        unit_cents=int(unit_cents),
        amount_cents=half_up(Fraction(str(quantity)) * int(unit_cents)),
        vat_rate_bp=invoice.customer.vat_rate_bp,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
    )
    invoice.lines.append(line)
    compute_totals(invoice)
    db.session.flush()
    return line


def create_draft(customer: Customer, title: str, contract: Contract | None = None) -> Invoice:
    """An empty manual invoice for a customer (lines are added with `add_line`)."""
    invoice = Invoice(
        kind=InvoiceKind.invoice,
        status=InvoiceStatus.draft,
        customer=customer,
        contract=contract,
        title=(title or "").strip()[:200],
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice


def delete_draft(invoice: Invoice) -> None:
    ensure_draft(invoice)
    db.session.delete(invoice)
    db.session.flush()


# --- numbering and finalisation --------------------------------------------------------------


def take_numbers(prefix: str, issue_date: date, count: int = 1) -> list[str]:
    """`count` consecutive numbers of (prefix, year), under the counter's row lock.

    The lock is held until the transaction ends, so concurrent finalisations queue up and a
    rolled-back one leaves no gap.
    """
    year = issue_date.year
    db.session.execute(
        pg_insert(InvoiceSequence)
        .values(prefix=prefix, year=year, last_number=0)
        .on_conflict_do_nothing()
    )
    counter = db.session.execute(
        select(InvoiceSequence)
        .where(InvoiceSequence.prefix == prefix, InvoiceSequence.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if counter.last_issue_date and issue_date < counter.last_issue_date:
        raise InvoicingError(
            _(
                "An invoice dated %(day)s cannot follow one dated %(last)s: numbers and dates "
                "go forward together.",
                day=issue_date.isoformat(),
                last=counter.last_issue_date.isoformat(),
            ),
            "issue_date",
        )
    first = counter.last_number + 1
    counter.last_number += count
    counter.last_issue_date = issue_date
    return [f"{prefix}-{year}-{n:05d}" for n in range(first, first + count)]


def _stamp(invoice: Invoice, number: str, on: date, seller: dict) -> None:
    customer = invoice.customer
    values = dict(
        number=number,
        status=InvoiceStatus.finalised,
        issue_date=on,
        due_date=on + timedelta(days=current_app.config["BILLING_PAYMENT_DAYS"]),
        seller=seller,
        buyer=buyer_identity(customer),
        engagement_number=customer.engagement_number,
        service_code=customer.service_code,
        finalised_at=utcnow(),
    )
    # All at once: a flush in between would freeze a half-stamped invoice (the guard).
    with db.session.no_autoflush:
        for name, value in values.items():
            setattr(invoice, name, value)


def _check_finalisable(invoice: Invoice) -> None:
    ensure_draft(invoice)
    if not invoice.lines:
        raise InvoicingError(_("An invoice without lines cannot be finalised."))
    compute_totals(invoice)
    if invoice.total_ht_cents <= 0:
        raise InvoicingError(_("An invoice must be for a positive amount."))


def finalise(invoice: Invoice, on: date | None = None, store: bool = True) -> Invoice:
    """Number, date and freeze a draft; its documents are stored unless `store` is False."""
    db.session.flush()
    # Lock the invoice: two admins finalising it at once get one number, not two.
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status", "number"])
    _check_finalisable(invoice)
    on = on or date.today()
    (number,) = take_numbers(PREFIXES[invoice.kind], on)
    _stamp(invoice, number, on, seller_identity())
    db.session.flush()
    if store:
        store_documents(invoice)
    return invoice


def store_documents(invoice: Invoice) -> None:
    """Render and store the invoice's PDF (Factur-X) and UBL files, recording their keys."""
    from billing import documents

    documents.store(invoice)
    db.session.flush()


def store_documents_job(invoice_id: int) -> None:
    """Worker job: the documents of one finalised invoice, if still missing."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None and invoice.number and invoice.pdf_key is None:
        store_documents(invoice)
        db.session.commit()


def store_missing_documents(limit: int = 200) -> int:
    """Cron sweep: documents of finalised invoices that have none yet (a lost job, a crash)."""
    ids = (
        db.session.execute(
            select(Invoice.id)
            .where(Invoice.number.is_not(None), Invoice.pdf_key.is_(None))
            .order_by(Invoice.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    for invoice_id in ids:
        try:
            store_documents_job(invoice_id)
        except Exception:  # noqa: BLE001 - one bad invoice must not stop the others
            db.session.rollback()
            log.exception("documents of invoice %s could not be stored", invoice_id)
    return len(ids)


def enqueue_documents(invoice_ids: Iterable[int]) -> None:
    """After commit: one worker job per invoice; the sweep covers a Redis failure."""
    from core.jobs import job

    task = job("low")(store_documents_job)
    try:
        for invoice_id in invoice_ids:
            task.enqueue(invoice_id, tenant=None, job_id=f"invoice-documents-{invoice_id}")
    except Exception as exc:  # noqa: BLE001 - Redis down: the sweep stores them later
        log.warning("could not enqueue invoice documents: %s", exc)


# --- the billing run -------------------------------------------------------------------------


def _issued(contract_ids: Sequence[int]) -> dict[int, dict[str, dict[str, int]]]:
    """Per contract, the instalments invoiced (not void) and their amounts per item."""
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


def invoice_from_instalment(contract: Contract, instalment: Instalment) -> Invoice:
    """A draft invoice for one instalment of a contract's schedule."""
    rate = contract.customer.vat_rate_bp
    invoice = Invoice(
        kind=InvoiceKind.invoice,
        status=InvoiceStatus.draft,
        customer=contract.customer,
        contract=contract,
        schedule_key=instalment.key,
        due_on_schedule=instalment.due_on,
        title=instalment.title,
        period_start=instalment.period_start,
        period_end=instalment.period_end,
    )
    for position, line in enumerate(instalment.lines, start=1):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                item_code=line.code,
                label=line.label,
                quantity=line.quantity,
                unit_cents=line.unit_cents,
                amount_cents=line.amount_cents,
                vat_rate_bp=rate,
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )
    compute_totals(invoice)
    return invoice


def due_instalments(contract: Contract, on: date, issued, prices=None) -> list[Instalment]:
    mine = issued.get(contract.id, {})
    return [
        i
        for i in plan(terms_of(contract, prices), mine)
        if i.due_on is not None and i.due_on <= on and i.key not in mine and i.total_ht_cents > 0
    ]


def run(
    on: date,
    contract_ids: Sequence[int] | None = None,
    draft: bool = False,
    progress=None,
) -> list[Invoice]:
    """Create the invoices due by `on` that do not exist yet; finalised unless `draft`.

    Idempotent: an instalment already invoiced (and not void) is never invoiced again.
    Nothing is committed here: the caller commits (then `enqueue_documents`).
    """
    query = (
        select(Contract)
        .where(Contract.start_on <= on)
        .options(
            joinedload(Contract.customer),
            selectinload(Contract.options),
            selectinload(Contract.members),
        )
        .order_by(Contract.id)
    )
    if contract_ids is not None:
        query = query.where(Contract.id.in_(list(contract_ids)))
    contracts = db.session.execute(query).scalars().unique().all()
    issued = _issued([c.id for c in contracts])
    prices: dict[date, object] = {}
    created: list[Invoice] = []
    for contract in contracts:
        day = contract.price_date or contract.start_on
        if day not in prices:
            prices[day] = price_list(db.session, day)
        for instalment in due_instalments(contract, on, issued, prices[day]):
            created.append(invoice_from_instalment(contract, instalment))
        if progress:
            progress(1)
    if not created:
        return []
    db.session.add_all(created)
    if not draft:
        created.sort(key=lambda i: (i.due_on_schedule, i.contract_id, i.schedule_key))
        numbers = take_numbers(PREFIXES[InvoiceKind.invoice], on, len(created))
        seller = seller_identity()
        for invoice, number in zip(created, numbers, strict=True):
            _stamp(invoice, number, on, seller)
    db.session.flush()
    return created


# --- credit notes ----------------------------------------------------------------------------


def void(invoice: Invoice, on: date | None = None, store: bool = True) -> Invoice:
    """Cancel a finalised, unpaid invoice with a credit note; returns the credit note."""
    on = on or date.today()
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status"])
    if invoice.kind == InvoiceKind.credit_note:
        raise InvoicingError(_("A credit note cannot be voided."))
    if invoice.status == InvoiceStatus.draft:
        raise InvoicingError(_("A draft has no number: delete it instead of voiding it."))
    if invoice.status == InvoiceStatus.void:
        raise InvoicingError(_("Invoice %(number)s is already void.", number=invoice.number))
    if paid_cents(invoice):
        raise InvoicingError(
            _(
                "Invoice %(number)s has payments recorded: it cannot be voided.",
                number=invoice.number,
            )
        )
    if on < invoice.issue_date:
        raise InvoicingError(_("A credit note cannot be dated before its invoice."), "on")
    note = Invoice(
        kind=InvoiceKind.credit_note,
        status=InvoiceStatus.draft,
        customer=invoice.customer,
        contract=invoice.contract,
        credits_invoice=invoice,
        title=f"Avoir — annulation de la facture {invoice.number}",
        period_start=invoice.period_start,
        period_end=invoice.period_end,
    )
    for line in invoice.lines:
        note.lines.append(
            InvoiceLine(
                position=line.position,
                item_code=line.item_code,
                label=line.label,
                quantity=line.quantity,
                unit_cents=line.unit_cents,
                amount_cents=line.amount_cents,
                vat_rate_bp=line.vat_rate_bp,
                period_start=line.period_start,
                period_end=line.period_end,
            )
        )
    db.session.add(note)
    invoice.status = InvoiceStatus.void
    invoice.voided_on = on
    db.session.flush()
    return finalise(note, on, store=store)


# --- payments, overdue, reminders, interest --------------------------------------------------


def paid_cents(invoice: Invoice) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.invoice_id == invoice.id
            )
        ).scalar_one()
    )


def balance_cents(invoice: Invoice) -> int:
    return invoice.total_ttc_cents - paid_cents(invoice)


def record_payment(invoice: Invoice, paid_on: date, amount_cents: int, reference: str = ""):
    """Money received (partial payments add up); the invoice is paid when nothing is left."""
    db.session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    db.session.refresh(invoice, ["status"])
    if invoice.kind != InvoiceKind.invoice:
        raise InvoicingError(_("Payments are recorded against invoices, not credit notes."))
    if invoice.status == InvoiceStatus.draft:
        raise InvoicingError(_("This invoice is not issued yet."))
    if invoice.status == InvoiceStatus.void:
        raise InvoicingError(_("Invoice %(number)s is void.", number=invoice.number))
    if invoice.status == InvoiceStatus.paid:
        raise InvoicingError(_("Invoice %(number)s is paid in full.", number=invoice.number))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvoicingError(_("The amount must be positive."), "amount")
    if paid_on is None or paid_on < invoice.issue_date:
        raise InvoicingError(_("A payment cannot precede the invoice's date."), "paid_on")
    balance = balance_cents(invoice)
    if amount_cents > balance:
        raise InvoicingError(
            _(
                "%(amount)s is more than the %(balance)s still due.",
                amount=euros(amount_cents),
                balance=euros(balance),
            ),
            "amount",
        )
    payment = Payment(
        invoice=invoice,
        paid_on=paid_on,
        amount_cents=amount_cents,
        reference=(reference or "").strip()[:100],
    )
    db.session.add(payment)
    if amount_cents == balance:
        invoice.status = InvoiceStatus.paid
        invoice.paid_on = paid_on
    db.session.flush()
    return payment


def is_overdue(invoice: Invoice, on: date) -> bool:
    return (
        invoice.kind == InvoiceKind.invoice
        and invoice.status in OPEN
        and invoice.due_date is not None
        and invoice.due_date < on
    )


def overdue_invoices(on: date) -> list[Invoice]:
    return (
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
        f"pour un montant de {euros(due)} TTC.\n"
        + (f"Engagement n° {invoice.engagement_number}.\n" if invoice.engagement_number else "")
        + "\nNous vous remercions d'en effectuer le règlement par virement"
        + (f" (IBAN {seller['iban']}, BIC {seller.get('bic', '')})" if seller.get("iban") else "")
        + f", en rappelant le numéro de facture.\n\n"
        f"À ce jour, {interest.days} jours de retard : intérêts moratoires de "
        f"{euros(interest.interest_cents)} au taux de {interest.rate_bp / 100:.2f} %"
        f" et indemnité forfaitaire pour frais de recouvrement de "
        f"{euros(interest.indemnity_cents)}.\n\n"
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

    @property
    def total_cents(self) -> int:
        return self.interest_cents + self.indemnity_cents


def late_interest(invoice: Invoice, on: date) -> LateInterest:
    """Interest per day on what was unpaid each day after the due date, up to `on` included.

    Rate: the ECB rate + BILLING_LATE_MARGIN_BP, over 365 days; plus the fixed 40 € indemnity
    once the invoice is late.
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


def late_interest_cents(invoice: Invoice, on: date) -> int:
    return late_interest(invoice, on).interest_cents


# --- the daily job ---------------------------------------------------------------------------


def run_job(on: date | None = None) -> dict:
    """Cron: issue what is due, commit, queue documents, remind overdue invoices."""
    from core.mail import nudge_outbox

    on = on or date.today()
    created = run(on)
    db.session.commit()
    enqueue_documents([i.id for i in created if i.number])
    reminders = send_due_reminders(on)
    db.session.commit()
    if reminders:
        nudge_outbox()
    log.info("billing run %s: %d invoices, %d reminders", on, len(created), reminders)
    return {"invoices": len(created), "reminders": reminders}
