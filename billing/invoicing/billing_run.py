"""The billing run: every contract's instalments due by a date and not invoiced yet, issued."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from billing.catalogue import PriceList, price_list
from billing.documents.store import enqueue_documents
from billing.invoicing.drafts import compute_totals
from billing.invoicing.numbering import PREFIXES, stamp, take_numbers
from billing.invoicing.reminders import reminders_job
from billing.models import Contract, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from billing.queries import issued_amounts
from billing.schedule import Instalment, plan, terms_of
from billing.seller import seller_identity
from core.commit import after_commit
from core.extensions import db

log = logging.getLogger("vivrau.billing")


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
    """The contract's instalments due by `on` that `issued` (see `run`) does not hold yet."""
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
    Nothing is committed here: the caller commits (then `enqueue_documents` for the new ones).
    """
    query = (
        select(Contract)
        .where(Contract.start_on <= on)
        .options(
            joinedload(Contract.customer),
            selectinload(Contract.options),
        )
        .order_by(Contract.id)
    )
    if contract_ids is not None:
        query = query.where(Contract.id.in_(list(contract_ids)))
    contracts = db.session.execute(query).scalars().unique().all()
    issued = issued_amounts([c.id for c in contracts])
    prices: dict[date, PriceList] = {}
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
            stamp(invoice, number, on, seller)
    db.session.flush()
    return created


def run_job(on: date | None = None) -> dict:
    """Cron: issue what is due today. Once the job's commit point has committed the invoices,
    their documents are drawn by worker jobs and the reminders sent by one of their own (its own
    transaction, so a failing reminder never undoes the day's invoices)."""
    on = on or date.today()
    created = run(on)
    issued = [invoice.id for invoice in created if invoice.number]
    after_commit(lambda: enqueue_documents(issued))
    after_commit(lambda: reminders_job.enqueue(on, tenant=None, job_id=f"billing-reminders-{on}"))
    log.info("billing run %s: %d invoices", on, len(created))
    return {"invoices": len(created)}
