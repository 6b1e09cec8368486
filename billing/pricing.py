"""Quotes: the monthly lines of a subscription, PVD umbrella discounts included, and VAT."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction

from billing.catalogue import OPTIONS, PriceList, item_label
from billing.models import ContractKind, Item, Tier

DEFAULT_VAT_RATE_BP = 2000


class PricingError(ValueError):
    pass


def half_up(value: Fraction | Decimal | int) -> int:
    """The nearest whole number (of cents), halves away from zero: the French invoicing habit,
    billing's one rounding rule."""
    value = Fraction(value)
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def vat_cents(net_cents: int, rate_bp: int) -> int:
    """VAT on a net total, computed once and rounded half-up."""
    return half_up(Fraction(net_cents * rate_bp, 10000))


@dataclass(frozen=True)
class Term:
    """One tier's share of a PVD option line: `towns` × `unit_cents` × (1 − discount)."""

    tier: str
    towns: int
    unit_cents: int
    discount_bp: int

    @property
    def amount(self) -> Fraction:
        return Fraction(self.towns * self.unit_cents * (10000 - self.discount_bp), 10000)

    @property
    def amount_cents(self) -> int:
        return half_up(self.amount)


@dataclass(frozen=True)
class QuoteLine:
    code: str
    label: str
    amount_cents: int
    #: How a PVD option line is reached (empty for a plain catalogue price).
    terms: tuple[Term, ...] = ()
    #: The floor (one collectivity's price) when it, not the discounted sum, sets the amount.
    floor_cents: int | None = None


class Totals:
    """HT, VAT (once, on the net total) and TTC of anything with `lines` and `vat_rate_bp`."""

    lines: tuple
    vat_rate_bp: int

    @property
    def total_ht_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def vat_cents(self) -> int:
        return vat_cents(self.total_ht_cents, self.vat_rate_bp)

    @property
    def total_ttc_cents(self) -> int:
        return self.total_ht_cents + self.vat_cents


@dataclass(frozen=True)
class Quote(Totals):
    lines: tuple[QuoteLine, ...]
    vat_rate_bp: int = DEFAULT_VAT_RATE_BP

    def as_json(self) -> dict:
        return {
            "lines": [asdict(line) for line in self.lines],
            "total_ht_cents": self.total_ht_cents,
            "vat_cents": self.vat_cents,
            "total_ttc_cents": self.total_ttc_cents,
        }


def parse_options(text: str | Iterable) -> tuple[Item, ...]:
    """`"1,3"` (or items, or numbers) → (option1, option3), sorted, each at most once."""
    raw = text.split(",") if isinstance(text, str) else list(text)
    out = set()
    for part in raw:
        value = str(getattr(part, "value", part)).strip().removeprefix("option")
        if not value:
            continue
        if value not in ("1", "2", "3"):
            raise PricingError(f"unknown option {part!r}: options are 1, 2 and 3")
        out.add(Item(f"option{value}"))
    return tuple(sorted(out, key=OPTIONS.index))


def umbrella_option_cents(prices: PriceList, item: Item, members: Sequence[Tier]) -> int:
    """Σ members' tier price × (1 − PVD discount), never below one collectivity's price.

    "One collectivity" is the dearest member's tier: a group is never cheaper than the
    largest of its towns would be alone.
    """
    return umbrella_option_line(prices, item, members, "").amount_cents


def umbrella_option_line(
    prices: PriceList, item: Item, members: Sequence[Tier], label: str
) -> QuoteLine:
    """The PVD option line with its working: one term per tier, and the floor when it applies."""
    if not members:
        raise PricingError("a PVD umbrella needs at least one member town")
    counts = Counter(Tier(m) for m in members)
    terms = tuple(
        Term(
            tier.value,
            counts[tier],
            prices.price(item, tier).monthly_cents,
            prices.price(item, tier).pvd_discount_bp,
        )
        for tier in Tier
        if counts[tier]
    )
    discounted = half_up(sum(t.amount for t in terms))
    floor = max(prices.price(item, tier).monthly_cents for tier in counts)
    amount = max(discounted, floor)
    return QuoteLine(item.value, label, amount, terms, floor if floor > discounted else None)


def monthly_lines(
    prices: PriceList,
    kind: ContractKind | str,
    options: Iterable[Item],
    members: Sequence[Tier] = (),
) -> tuple[QuoteLine, ...]:
    """The monthly price of each item taken, base first."""
    kind = ContractKind(kind)
    options = parse_options(options)
    if kind == ContractKind.umbrella:
        members = [Tier(m) for m in members]
        if not members:
            raise PricingError("a PVD umbrella needs at least one member town")
        # Every tier has the same base price today; the dearest member's applies if not.
        base = max(prices.price(Item.base, tier).monthly_cents for tier in members)
        lines = [QuoteLine(Item.base.value, item_label(Item.base, "fr"), base)]
        towns = f"{len(members)} membre{'s' if len(members) > 1 else ''}"
        for item in options:
            label = f"{item_label(item, 'fr')} (PVD, {towns})"
            lines.append(umbrella_option_line(prices, item, members, label))
        return tuple(lines)
    if members:
        raise PricingError("members only make sense for a PVD umbrella (kind umbrella)")
    tier = Tier(kind.value)
    return tuple(
        QuoteLine(item.value, item_label(item, "fr"), prices.price(item, tier).monthly_cents)
        for item in (Item.base, *options)
    )


def quote(
    prices: PriceList,
    kind: ContractKind | str,
    options: Iterable[Item] | str = (),
    members: Sequence[Tier] = (),
    vat_rate_bp: int = DEFAULT_VAT_RATE_BP,
) -> Quote:
    """Monthly quote of a subscription: lines, total HT, VAT and TTC."""
    if not 0 <= vat_rate_bp <= 10000:
        raise PricingError(f"VAT rate {vat_rate_bp / 100} % is out of range (0–100 %)")
    return Quote(monthly_lines(prices, kind, parse_options(options), members), vat_rate_bp)
