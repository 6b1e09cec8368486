"""The price catalogue as data: monthly prices per item and tier, dated, read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from billing.models import CatalogueItem, Item, Tier
from core.i18n import pick

#: How items are named, (French, English): French on quotes, schedules and invoices (legal
#: documents in French), the reader's language on the console's pages.
ITEM_LABELS = {
    Item.base: ("Abonnement de base", "Base subscription"),
    Item.option1: ("Option 1 — baromètre d'attractivité", "Option 1 — attractiveness barometer"),
    Item.option2: (
        "Option 2 — plateforme territoriale dédiée",
        "Option 2 — dedicated territory platform",
    ),
    Item.option3: ("Option 3 — détection de profils métiers", "Option 3 — job-profile detection"),
}
OPTIONS = (Item.option1, Item.option2, Item.option3)


def item_label(item: Item | str, locale: str | None = None) -> str:
    """An item's name in `locale` (invoices pass "fr"), else in the reader's language."""
    return pick(*ITEM_LABELS[Item(item)], locale)


class CatalogueError(LookupError):
    pass


@dataclass(frozen=True)
class Price:
    monthly_cents: int
    pvd_discount_bp: int = 0
    minimum_months: int = 12


@dataclass(frozen=True)
class PriceList:
    """Every (item, tier) price in force on one date."""

    on: date
    prices: dict[tuple[Item, Tier], Price]

    def price(self, item: Item, tier: Tier) -> Price:
        try:
            return self.prices[(Item(item), Tier(tier))]
        except KeyError:
            raise CatalogueError(
                f"no price for {Item(item).value} at the {Tier(tier).value} tier on {self.on}"
            ) from None


def price_list(session, on: date) -> PriceList:
    """The catalogue as it stood on `on`: for each item and tier, the latest row valid by then."""
    rows = session.execute(
        select(CatalogueItem)
        .where(CatalogueItem.valid_from <= on)
        .order_by(CatalogueItem.valid_from)
    ).scalars()
    prices = {
        (row.item, row.tier): Price(row.monthly_cents, row.pvd_discount_bp, row.minimum_months)
        for row in rows  # later rows overwrite earlier ones
    }
    missing = [f"{i.value}/{t.value}" for i in Item for t in Tier if (i, t) not in prices]
    if missing:
        raise CatalogueError(f"the catalogue has no price on {on} for {', '.join(missing)}")
    return PriceList(on, prices)
