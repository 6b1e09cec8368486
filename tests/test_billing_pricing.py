"""Catalogue and quotes: the issue's golden cases, PVD floors, the CLI and its JSON."""

from __future__ import annotations

import json
from datetime import date

import pytest

from billing.catalogue import CatalogueError, price_list
from billing.models import CatalogueItem, Item, Tier
from billing.pricing import PricingError, quote, vat_cents
from core.extensions import db

DAY = date(2027, 1, 1)


@pytest.fixture
def prices(ctx):
    return price_list(db.session, DAY)


def amounts(q):
    return [(line.code, line.amount_cents) for line in q.lines]


def test_commune_base_only(prices):
    q = quote(prices, "commune", "")
    assert amounts(q) == [("base", 110000)]
    assert (q.total_ht_cents, q.vat_cents, q.total_ttc_cents) == (110000, 22000, 132000)


def test_epci_base_and_option_1(prices):
    q = quote(prices, "epci", "1")
    assert (q.total_ht_cents, q.vat_cents, q.total_ttc_cents) == (135000, 27000, 162000)


def test_departement_all_options(prices):
    assert quote(prices, "departement", "1,2,3").total_ht_cents == 270000


def test_pvd_four_epci_the_proposal_example(prices):
    q = quote(prices, "umbrella", "1,2,3", [Tier.epci] * 4)
    assert amounts(q) == [
        ("base", 110000),
        ("option1", 50000),
        ("option2", 104000),
        ("option3", 64000),
    ]
    assert (q.total_ht_cents, q.total_ttc_cents) == (328000, 393600)


def test_pvd_one_commune_floored_to_one_collectivity(prices):
    q = quote(prices, "umbrella", "1,2,3", [Tier.commune])
    assert amounts(q) == [
        ("base", 110000),
        ("option1", 20000),
        ("option2", 50000),
        ("option3", 30000),
    ]
    assert q.total_ht_cents == 210000


def test_pvd_floor_is_the_dearest_member(prices):
    # A département and a commune: option 2 = 800×40 % + 500×40 % = 520 < 800 → 800.
    q = quote(prices, "umbrella", "2", [Tier.departement, Tier.commune])
    assert amounts(q)[1] == ("option2", 80000)


def test_vat_is_rounded_half_up_once():
    assert vat_cents(1, 2000) == 0  # 0.2
    assert vat_cents(3, 2000) == 1  # 0.6
    assert vat_cents(5, 1000) == 1  # 0.5 → 1
    assert vat_cents(110000, 850) == 9350


def test_bad_quotes_are_refused(prices):
    with pytest.raises(PricingError, match="options are 1, 2 and 3"):
        quote(prices, "commune", "4")
    with pytest.raises(PricingError, match="at least one member"):
        quote(prices, "umbrella", "1", [])
    with pytest.raises(PricingError, match="only make sense"):
        quote(prices, "commune", "1", [Tier.commune])
    with pytest.raises(PricingError, match="out of range"):
        quote(prices, "commune", "", vat_rate_bp=-5)


def test_a_new_price_applies_from_its_date_only(ctx):
    db.session.add(
        CatalogueItem(
            item=Item.option1,
            tier=Tier.commune,
            monthly_cents=22000,
            pvd_discount_bp=5000,
            valid_from=date(2028, 1, 1),
        )
    )
    db.session.flush()
    assert price_list(db.session, DAY).price(Item.option1, Tier.commune).monthly_cents == 20000
    later = price_list(db.session, date(2028, 3, 1))
    assert later.price(Item.option1, Tier.commune).monthly_cents == 22000
    with pytest.raises(CatalogueError, match="no price"):
        price_list(db.session, date(2020, 1, 1))


def test_quote_command_json(runner):
    result = runner.invoke(
        args=[
            "billing",
            "quote",
            "--kind",
            "umbrella",
            "--options",
            "1,2,3",
            "--members",
            "4",
            "--member-kind",
            "epci",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"lines", "total_ht_cents", "vat_cents", "total_ttc_cents"}
    keys = {"code", "label", "amount_cents", "terms", "floor_cents"}
    assert [set(line) for line in data["lines"]] == [keys] * 4
    # Each PVD line says how it is reached: 4 EPCI at 250 € less 50 %, above the floor.
    assert data["lines"][1]["terms"] == [
        {"tier": "epci", "towns": 4, "unit_cents": 25000, "discount_bp": 5000}
    ]
    assert data["lines"][1]["floor_cents"] is None and data["lines"][0]["terms"] == []
    assert (data["total_ht_cents"], data["vat_cents"], data["total_ttc_cents"]) == (
        328000,
        65600,
        393600,
    )


def test_quote_command_text_and_errors(runner):
    result = runner.invoke(args=["billing", "quote", "--kind", "epci", "--options", "1"])
    output = result.output.replace("\u202f", " ").replace("\xa0", " ")
    assert result.exit_code == 0 and "1 620,00 €" in output
    result = runner.invoke(args=["billing", "quote", "--kind", "umbrella", "--options", "1"])
    assert result.exit_code == 1 and "--members" in result.output
    result = runner.invoke(args=["billing", "quote", "--kind", "commune", "--options", "7"])
    assert result.exit_code == 1 and "options are 1, 2 and 3" in result.output
