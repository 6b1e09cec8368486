"""An umbrella contract's member towns, read from the one definition of membership (the
umbrella's stays in the registry) over the contract's term: what the schedule prices, what the
console lists, what the entitlements cover. A contract being built brings the towns it will add
(`pending_members`), priced in its preview and joined when it is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billing.models import Contract, ContractKind, Tier
from core.extensions import db
from core.registry import stays_in


@dataclass(frozen=True)
class Stay:
    """A member town over a contract's term (its dates clipped to the term)."""

    #: The membership's id (None: the town joins when the contract is saved).
    id: int | None
    member_tenant_id: int
    name: str
    tier: Tier
    joined_on: date
    #: Its first day out (None: no end within the term).
    left_on: date | None

    @property
    def last_day(self) -> date | None:
        return None if self.left_on is None else self.left_on - timedelta(days=1)


def contract_stop(contract: Contract) -> date:
    """The contract's first day without service: its end, or its termination."""
    return min(contract.end_on, contract.terminated_on or contract.end_on)


def members(contract: Contract) -> list[Stay]:
    """The umbrella's stays that meet the contract's term, clipped to it, then the towns a
    contract being built will add; empty for any other kind of contract."""
    if ContractKind(contract.kind) != ContractKind.umbrella:
        return []
    start, stop = contract.start_on, contract_stop(contract)
    umbrella_id = contract.customer.tenant_id if contract.customer is not None else None
    out: list[Stay] = []
    if umbrella_id is not None:
        for stay, town in stays_in(db.session, umbrella_id):
            left = stay.left_on
            if stay.joined_on >= stop or (left is not None and left <= start):
                continue
            out.append(
                Stay(
                    stay.id,
                    town.id,
                    town.name,
                    Tier(town.kind.value),
                    max(stay.joined_on, start),
                    None if left is None or left >= stop else left,
                )
            )
    present = {s.member_tenant_id for s in out}
    out += [
        s for s in getattr(contract, "pending_members", ()) if s.member_tenant_id not in present
    ]
    return out
