"""The payment schedule of a contract, all years, as a pure function of its terms.

Rules (PRODUCT.md, issue 7):
- Year one: 30 % of the year's amount at signature, 50 % at go-live, and the remainder eleven
  months after the start, so the three add up to the cent.
- From year two: one invoice per quarter of the contract, dated at the quarter's start (billed
  in advance) and covering that quarter.
- An item is billed for the time it is active: an option added mid-contract from its start, an
  umbrella's option lines at the price of the members present, month by month (a month being
  a month of the contract, part months pro rata of their days).
- Each item has a 12-month minimum: when an option is cancelled or the contract terminated
  before an item has run 12 months, the missing months are billed as a true-up on that date.
  Reaching the contract's natural end is not an early stop and owes nothing more.
- Nothing is dated after the contract's end (or its termination).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from billing.catalogue import PriceList, item_label, price_list
from billing.members import members as member_stays
from billing.models import ContractKind, Item, Tier
from billing.pricing import Totals, half_up, umbrella_option_cents
from core.extensions import db

SIGNATURE_SHARE = Fraction(30, 100)
GO_LIVE_SHARE = Fraction(50, 100)
BALANCE_MONTH = 11


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class OptionTerm:
    item: Item
    start: date
    end: date | None = None  # exclusive: cancelled on this date


@dataclass(frozen=True)
class MemberTerm:
    tier: Tier
    joined: date
    left: date | None = None  # exclusive
    name: str = ""


@dataclass(frozen=True)
class ContractTerms:
    """What the schedule depends on; `end` and `terminated_on` are exclusive."""

    kind: ContractKind
    start: date
    end: date
    prices: PriceList
    go_live: date | None = None
    terminated_on: date | None = None
    options: tuple[OptionTerm, ...] = ()
    members: tuple[MemberTerm, ...] = ()
    vat_rate_bp: int = 2000

    @property
    def stop(self) -> date:
        """When billing stops: the end, or an earlier termination."""
        return min(self.end, self.terminated_on) if self.terminated_on else self.end


@dataclass(frozen=True)
class Piece:
    """An item billed at a constant monthly rate over [start, end)."""

    item: Item
    start: date
    end: date
    rate_cents: int
    label: str
    span: int  # which subscription of the item (an option may be taken, cancelled, retaken)


@dataclass(frozen=True)
class ScheduleLine:
    code: str
    label: str
    quantity: Decimal
    unit_cents: int
    amount_cents: int
    period_start: date | None = None
    period_end: date | None = None  # inclusive, as printed


@dataclass(frozen=True)
class Instalment(Totals):
    key: str
    kind: str  # signature | go_live | balance | quarter | true_up
    title: str
    due_on: date | None  # None: go-live not known yet
    period_start: date
    period_end: date  # inclusive
    lines: tuple[ScheduleLine, ...]
    vat_rate_bp: int = 2000
    year: int = 1  # the contract year it falls in

    @property
    def is_trueup(self) -> bool:
        return self.kind == "true_up"


class Grid:
    """The months of a contract: month k is [start + k months, start + k + 1 months)."""

    def __init__(self, start: date):
        self.start = start
        self._cache: dict[int, date] = {}

    def at(self, k: int) -> date:
        if k not in self._cache:
            self._cache[k] = add_months(self.start, k)
        return self._cache[k]

    def index(self, day: date) -> int:
        k = (day.year - self.start.year) * 12 + day.month - self.start.month
        while self.at(k) > day:
            k -= 1
        while self.at(k + 1) <= day:
            k += 1
        return k

    def months(self, a: date, b: date) -> Fraction:
        """Length of [a, b) in contract months, part months pro rata of their days."""
        if b <= a:
            return Fraction(0)
        ka, kb = self.index(a), self.index(b)
        if ka == kb:
            return Fraction((b - a).days, (self.at(ka + 1) - self.at(ka)).days)
        head = Fraction((self.at(ka + 1) - a).days, (self.at(ka + 1) - self.at(ka)).days)
        tail = Fraction((b - self.at(kb)).days, (self.at(kb + 1) - self.at(kb)).days)
        return head + (kb - ka - 1) + tail


def _member_count(n: int) -> str:
    return f"{n} membre{'s' if n > 1 else ''}"


def pieces(terms: ContractTerms) -> list[Piece]:
    """Every item's constant-rate stretches over the contract."""
    stop = terms.stop
    out: list[Piece] = []
    umbrella = terms.kind == ContractKind.umbrella
    if umbrella:
        tiers = [m.tier for m in terms.members] or [Tier.commune]
        base_rate = max(terms.prices.price(Item.base, t).monthly_cents for t in tiers)
    else:
        base_rate = terms.prices.price(Item.base, Tier(terms.kind.value)).monthly_cents
    out.append(Piece(Item.base, terms.start, stop, base_rate, item_label(Item.base, "fr"), 0))
    spans: dict[Item, int] = defaultdict(int)
    for option in sorted(terms.options, key=lambda o: (o.start, o.item)):
        a = max(option.start, terms.start)
        b = min(option.end or stop, stop)
        if b <= a:
            continue
        span = spans[option.item]
        spans[option.item] += 1
        label = item_label(option.item, "fr")
        if not umbrella:
            rate = terms.prices.price(option.item, Tier(terms.kind.value)).monthly_cents
            out.append(Piece(option.item, a, b, rate, label, span))
            continue
        # An umbrella's option line follows its members: cut where one joins or leaves.
        cuts = {a, b}
        for m in terms.members:
            cuts.update(d for d in (m.joined, m.left) if d is not None and a < d < b)
        edges = sorted(cuts)
        for x, y in zip(edges, edges[1:], strict=False):
            present = [m.tier for m in terms.members if m.joined <= x and (m.left or y) >= y]
            rate = umbrella_option_cents(terms.prices, option.item, present) if present else 0
            detail = f"{label} (PVD, {_member_count(len(present))})"
            out.append(Piece(option.item, x, y, rate, detail, span))
    return out


def _amount(grid: Grid, piece: Piece, a: date, b: date) -> Fraction:
    return piece.rate_cents * grid.months(max(a, piece.start), min(b, piece.end))


def _quantity(months: Fraction) -> Decimal:
    return (Decimal(months.numerator) / Decimal(months.denominator)).quantize(Decimal("0.0001"))


def _by_item(grid: Grid, items: Sequence[Piece], a: date, b: date) -> dict[Item, int]:
    totals: dict[Item, Fraction] = defaultdict(Fraction)
    for piece in items:
        totals[piece.item] += _amount(grid, piece, a, b)
    return {item: half_up(total) for item, total in totals.items() if total}


def _share_lines(amounts: Mapping[Item, int], text: str, a: date, b: date) -> tuple:
    return tuple(
        ScheduleLine(
            item.value, f"{item_label(item, 'fr')} — {text}", Decimal(1), cents, cents, a, b
        )
        for item, cents in amounts.items()
        if cents
    )


def schedule(terms, issued: Mapping[str, Mapping[str, int]] | None = None) -> list[Instalment]:
    """Every instalment of a contract (or of its terms), in date order; see `plan`."""
    if not isinstance(terms, ContractTerms):
        terms = terms_of(terms)
    return plan(terms, issued)


def plan(
    terms: ContractTerms, issued: Mapping[str, Mapping[str, int]] | None = None
) -> list[Instalment]:
    """Every instalment of the contract in date order (the go-live one last while undated).

    `issued` maps an instalment key already invoiced to its amounts per item code: the
    year-one balance is then the year's amount less what was really invoiced before it.
    """
    issued = issued or {}
    grid = Grid(terms.start)
    stop = terms.stop
    rate = terms.vat_rate_bp
    all_pieces = pieces(terms)
    out: list[Instalment] = []
    last_day = timedelta(days=1)

    # Year one: 30 / 50 / remainder of the year's amount, per item.
    y1_end = min(grid.at(12), stop)
    year = _by_item(grid, all_pieces, terms.start, y1_end)
    signature = {item: half_up(cents * SIGNATURE_SHARE) for item, cents in year.items()}
    go_live = {item: half_up(cents * GO_LIVE_SHARE) for item, cents in year.items()}

    def actual(key: str, planned: Mapping[Item, int]) -> dict[Item, int]:
        if key in issued:
            codes = {item.value for item in Item}
            return {Item(code): cents for code, cents in issued[key].items() if code in codes}
        return dict(planned)

    done_signature, done_go_live = actual("y1-signature", signature), actual("y1-go-live", go_live)
    balance = {
        item: cents - done_signature.get(item, 0) - done_go_live.get(item, 0)
        for item, cents in year.items()
    }
    y1_last = y1_end - last_day
    go_live_on = min(terms.go_live, stop) if terms.go_live else None
    out.append(
        Instalment(
            "y1-signature",
            "signature",
            "1re année — acompte de 30 % à la signature",
            terms.start,
            terms.start,
            y1_last,
            _share_lines(signature, "1re année, 30 % à la signature", terms.start, y1_last),
            rate,
        )
    )
    out.append(
        Instalment(
            "y1-go-live",
            "go_live",
            "1re année — 50 % à la mise en service",
            go_live_on,
            terms.start,
            y1_last,
            _share_lines(go_live, "1re année, 50 % à la mise en service", terms.start, y1_last),
            rate,
        )
    )
    out.append(
        Instalment(
            "y1-balance",
            "balance",
            "1re année — solde de 20 %",
            min(grid.at(BALANCE_MONTH), stop),
            terms.start,
            y1_last,
            _share_lines(balance, "1re année, solde", terms.start, y1_last),
            rate,
        )
    )

    # From year two: quarters billed at their start.
    n = 0
    while grid.at(12 + 3 * n) < stop:
        a, b = grid.at(12 + 3 * n), min(grid.at(15 + 3 * n), stop)
        lines = []
        for piece in all_pieces:
            x, y = max(a, piece.start), min(b, piece.end)
            if y <= x or not piece.rate_cents:
                continue
            months = grid.months(x, y)
            lines.append(
                ScheduleLine(
                    piece.item.value,
                    piece.label,
                    _quantity(months),
                    piece.rate_cents,
                    half_up(piece.rate_cents * months),
                    x,
                    y - last_day,
                )
            )
        year_no, quarter = 2 + n // 4, n % 4 + 1
        out.append(
            Instalment(
                f"y{year_no}-q{quarter}",
                "quarter",
                f"Année {year_no} — trimestre {quarter}",
                a,
                a,
                b - last_day,
                tuple(lines),
                rate,
                year=year_no,
            )
        )
        n += 1

    # True-ups: an item stopped early (cancelled, or the contract terminated) before 12 months.
    natural_end = terms.end
    true_ups: dict[date, list[ScheduleLine]] = defaultdict(list)
    spans: dict[tuple[Item, int], list[Piece]] = defaultdict(list)
    for piece in all_pieces:
        spans[(piece.item, piece.span)].append(piece)
    for (item, _), stretch in spans.items():
        first, last = stretch[0], stretch[-1]
        if last.end >= natural_end:
            continue
        minimum = terms.prices.price(
            item, Tier.commune if terms.kind == ContractKind.umbrella else Tier(terms.kind.value)
        ).minimum_months
        ran = grid.months(first.start, last.end)
        missing = minimum - ran
        if missing <= 0 or not last.rate_cents:
            continue
        true_ups[last.end].append(
            ScheduleLine(
                item.value,
                f"{last.label} — engagement minimal de {minimum} mois, mois restant dus",
                _quantity(missing),
                last.rate_cents,
                half_up(last.rate_cents * missing),
                first.start,
                last.end - last_day,
            )
        )
    for day, lines in sorted(true_ups.items()):
        out.append(
            Instalment(
                f"true-up-{day.isoformat()}",
                "true_up",
                "Régularisation — engagement minimal de 12 mois",
                day,
                min(line.period_start for line in lines),
                day - last_day,
                tuple(lines),
                rate,
                year=1 + grid.index(day - last_day) // 12,  # the year of its period's last day
            )
        )
    out = [i for i in out if i.lines]
    out.sort(key=lambda i: (i.due_on is None, i.due_on or date.max, i.key))
    return out


def terms_of(contract, prices: PriceList | None = None) -> ContractTerms:
    """The schedule's view of a `Contract` (saved or not), prices as of its price date."""
    if prices is None:
        prices = price_list(db.session, contract.price_date or contract.start_on)
    customer = contract.customer
    return ContractTerms(
        kind=ContractKind(contract.kind),
        start=contract.start_on,
        end=contract.end_on,
        prices=prices,
        go_live=contract.go_live_on,
        terminated_on=contract.terminated_on,
        options=tuple(OptionTerm(o.item, o.start_on, o.cancelled_on) for o in contract.options),
        members=tuple(
            MemberTerm(m.tier, m.joined_on, m.left_on, m.name) for m in member_stays(contract)
        ),
        vat_rate_bp=customer.vat_rate_bp if customer is not None else 2000,
    )


def monthly_ht_cents(contract, on: date) -> int:
    """What the contract costs per month (HT) on `on`: 0 outside its term."""
    terms = contract if isinstance(contract, ContractTerms) else terms_of(contract)
    return sum(p.rate_cents for p in pieces(terms) if p.start <= on < p.end)
