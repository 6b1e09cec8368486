"""Quotes: the monthly lines of a subscription, PVD umbrella discounts included, and VAT."""

from __future__ import annotations

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
class QuoteLine:
    code: str
    label: str
    amount_cents: int


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
    if not members:
        raise PricingError("a PVD umbrella needs at least one member town")
    discounted = sum(
        Decimal(prices.price(item, tier).monthly_cents)
        * (10000 - prices.price(item, tier).pvd_discount_bp)
        / 10000
        for tier in members
    )
    floor = max(prices.price(item, tier).monthly_cents for tier in members)
    return max(half_up(discounted), floor)


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
            amount = umbrella_option_cents(prices, item, members)
            label = f"{item_label(item, 'fr')} (PVD, {towns})"
            lines.append(QuoteLine(item.value, label, amount))
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
