"""Billing's announcement of each territory's next invoice, for the consoles: the first
instalment of its own contracts (or, for a member town, of its umbrella's contract over its
stay) not invoiced yet. Registered when the application loads this module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from billing.catalogue import PriceList, price_list
from billing.models import Contract, ContractKind, Customer
from billing.queries import issued_amounts
from billing.schedule import Instalment, plan, terms_of
from core.extensions import db
from core.registry import Membership
from tenants.invoices_ahead import InvoiceAhead, use_announcer


def _next_instalment(contract: Contract, issued, prices: dict[date, PriceList]):
    """The contract's first instalment with an amount that is not invoiced yet (None: all are)."""
    day = contract.price_date or contract.start_on
    if day not in prices:
        prices[day] = price_list(db.session, day)
    mine = issued.get(contract.id, {})
    for instalment in plan(terms_of(contract, prices[day]), mine):
        if instalment.key not in mine and instalment.total_ht_cents > 0:
            return instalment
    return None


def _ahead(instalment: Instalment, payer: str, through_umbrella: bool) -> InvoiceAhead:
    return InvoiceAhead(
        due_on=instalment.due_on,
        title=instalment.title,
        total_ht_cents=instalment.total_ht_cents,
        total_ttc_cents=instalment.total_ttc_cents,
        payer=payer,
        through_umbrella=through_umbrella,
    )


def next_invoices(tenant_ids: Sequence[int], on: date) -> dict[int, InvoiceAhead]:
    """Each territory's next invoice: its own contracts', else its umbrella's while it stays."""
    ids = list(tenant_ids)
    if not ids:
        return {}
    own = db.session.execute(
        select(Customer.tenant_id, Contract, Customer.legal_name)
        .join(Customer, Contract.customer_id == Customer.id)
        .where(Customer.tenant_id.in_(ids))
        .options(selectinload(Contract.options))
    ).all()
    staying = and_(
        Membership.member_id.in_(ids),
        Membership.joined_on <= on,
        or_(Membership.left_on.is_(None), Membership.left_on > on),
    )
    through = db.session.execute(
        select(Membership.member_id, Contract, Customer.legal_name)
        .join(Customer, Customer.tenant_id == Membership.umbrella_id)
        .join(Contract, Contract.customer_id == Customer.id)
        .where(staying, Contract.kind == ContractKind.umbrella)
        .options(selectinload(Contract.options))
    ).all()
    contracts = {c.id: c for _t, c, _n in [*own, *through]}
    issued = issued_amounts(list(contracts))
    prices: dict[date, PriceList] = {}
    first = {cid: _next_instalment(c, issued, prices) for cid, c in contracts.items()}
    out: dict[int, InvoiceAhead] = {}
    for rows, via_umbrella in ((own, False), (through, True)):
        for tenant_id, contract, payer in rows:
            instalment = first[contract.id]
            if instalment is None:
                continue
            candidate = _ahead(instalment, payer, via_umbrella)
            held = out.get(tenant_id)
            if held is None or (candidate.due_on or date.max) < (held.due_on or date.max):
                out[tenant_id] = candidate
    return out


use_announcer(next_invoices)
