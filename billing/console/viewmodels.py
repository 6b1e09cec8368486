"""A contract's schedule as the pages show it: instalments grouped by contract year, with totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from billing.models import Contract, Invoice
from billing.queries import issued_amounts
from billing.schedule import schedule


@dataclass
class Row:
    due_on: date | None
    label: str
    period_start: date | None
    period_end: date | None
    ht_cents: int
    vat_cents: int
    ttc_cents: int
    is_trueup: bool = False
    invoice: Invoice | None = None


@dataclass
class Year:
    number: int
    rows: list[Row] = field(default_factory=list)

    @property
    def ht_cents(self) -> int:
        return sum(r.ht_cents for r in self.rows)

    @property
    def vat_cents(self) -> int:
        return sum(r.vat_cents for r in self.rows)

    @property
    def ttc_cents(self) -> int:
        return sum(r.ttc_cents for r in self.rows)


@dataclass
class Preview:
    monthly_cents: int
    years: list[Year]


def schedule_years(contract: Contract, invoices: dict[str, Invoice] | None = None) -> list[Year]:
    """The contract's whole schedule, by contract year; `invoices` (by schedule key) are those
    already issued, so the year-one balance is what they leave."""
    invoices = invoices or {}
    issued = issued_amounts([contract.id]).get(contract.id, {}) if invoices else {}
    years: dict[int, Year] = {}
    for entry in schedule(contract, issued):
        years.setdefault(entry.year, Year(entry.year)).rows.append(
            Row(
                due_on=entry.due_on,
                label=entry.title,
                period_start=entry.period_start,
                period_end=entry.period_end,
                ht_cents=entry.total_ht_cents,
                vat_cents=entry.vat_cents,
                ttc_cents=entry.total_ttc_cents,
                is_trueup=entry.is_trueup,
                invoice=invoices.get(entry.key),
            )
        )
    return [years[n] for n in sorted(years)]
