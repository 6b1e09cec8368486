"""What a territory will be invoiced next, as billing announces it (registered when billing
loads, `use_announcer`), so that the consoles show it while this layer never imports billing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class InvoiceAhead:
    """The next instalment of one of the territory's contracts not invoiced yet."""

    #: None: due at go-live, whose date is not known yet.
    due_on: date | None
    title: str
    total_ht_cents: int
    total_ttc_cents: int
    #: The customer billed: the territory itself or, for a member town, its umbrella.
    payer: str
    #: Billed to the umbrella for all its towns (a member town's share is not invoiced apart).
    through_umbrella: bool = False


Announcer = Callable[[Sequence[int], date], dict[int, InvoiceAhead]]
_announcers: list[Announcer] = []


def use_announcer(announcer: Announcer) -> Announcer:
    if announcer not in _announcers:
        _announcers.append(announcer)
    return announcer


def _sooner(a: InvoiceAhead | None, b: InvoiceAhead) -> InvoiceAhead:
    if a is None:
        return b
    return b if (b.due_on or date.max) < (a.due_on or date.max) else a


def invoices_ahead(tenant_ids: Sequence[int], on: date) -> dict[int, InvoiceAhead]:
    """Each territory's next invoice after `on` (a territory with none is absent)."""
    out: dict[int, InvoiceAhead] = {}
    for announcer in _announcers:
        for tenant_id, ahead in announcer(tenant_ids, on).items():
            out[tenant_id] = _sooner(out.get(tenant_id), ahead)
    return out


def invoice_ahead(tenant_id: int, on: date) -> InvoiceAhead | None:
    return invoices_ahead([tenant_id], on).get(tenant_id)
