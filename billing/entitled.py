"""What the contracts switch on, for the entitlements service: the base subscription and each
option as dated periods of the customer's territory and, for a PVD umbrella, of each member
town over its stays in the umbrella. Registered when the application loads this module."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing.members import contract_stop
from billing.models import Contract, ContractKind, Customer, Item
from core.extensions import db
from core.registry import Membership
from tenants.entitlements import Feature, Period, use_source

FEATURE_OF_ITEM = {
    Item.base: Feature.base,
    Item.option1: Feature.barometer,
    Item.option2: Feature.site,
    Item.option3: Feature.jobs,
}


def _periods(contract: Contract, origin: str, start=None, stop=None) -> list[Period]:
    """The contract's items as periods, within [start, stop) when given (a member's stay)."""
    begin = max(contract.start_on, start or contract.start_on)
    end = min(contract_stop(contract), stop or contract_stop(contract))
    out = []
    spans = [(Item.base, contract.start_on, None)] + [
        (o.item, o.start_on, o.cancelled_on) for o in contract.options
    ]
    for item, item_start, cancelled in spans:
        first = max(begin, item_start)
        last = min(end, cancelled or end)
        if last > first:
            out.append(Period(FEATURE_OF_ITEM[item], first, last, origin, contract.id))
    return out


def contract_periods(tenant_id: int) -> list[Period]:
    """The periods the territory's own contracts and its umbrellas' contracts give it."""
    own = db.session.execute(
        select(Contract)
        .join(Customer, Contract.customer_id == Customer.id)
        .where(Customer.tenant_id == tenant_id)
        .options(selectinload(Contract.options))
    ).scalars()
    periods = []
    for contract in own:
        periods += _periods(contract, "contract")
        if contract.manages_members:  # a term of the contract, for as long as it runs
            start, stop = contract.start_on, contract_stop(contract)
            periods.append(Period(Feature.member_teams, start, stop, "contract", contract.id))
    # As a member town: the contracts of each umbrella it belongs to, over its stay there (the
    # same memberships billing prices, so features and billing stop on the same day).
    stays = db.session.execute(
        select(Membership, Contract)
        .join(Customer, Customer.tenant_id == Membership.umbrella_id)
        .join(Contract, Contract.customer_id == Customer.id)
        .where(Membership.member_id == tenant_id, Contract.kind == ContractKind.umbrella)
        .options(selectinload(Contract.options))
    )
    for stay, contract in stays:
        if stay.left_on is None or stay.left_on > stay.joined_on:
            periods += _periods(contract, "umbrella", stay.joined_on, stay.left_on)
    return periods


use_source(contract_periods)
