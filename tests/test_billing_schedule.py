"""Payment schedules: year one 30/50/20, quarters, mid-contract changes, true-ups, all years."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.catalogue import Price, PriceList
from billing.models import ContractKind, Item, Tier
from billing.schedule import ContractTerms, MemberTerm, OptionTerm, add_months, schedule

TABLE = {  # item: (département, epci, commune, PVD discount)
    Item.base: (110000, 110000, 110000, 0),
    Item.option1: (30000, 25000, 20000, 5000),
    Item.option2: (80000, 65000, 50000, 6000),
    Item.option3: (50000, 40000, 30000, 6000),
}
TIERS = (Tier.departement, Tier.epci, Tier.commune)
PRICES = PriceList(
    date(2026, 1, 1),
    {(i, t): Price(v[k], v[3]) for i, v in TABLE.items() for k, t in enumerate(TIERS)},
)
START = date(2027, 1, 15)


def terms(**kwargs) -> ContractTerms:
    values = dict(
        kind=ContractKind.commune,
        start=START,
        end=add_months(START, 60),
        prices=PRICES,
        go_live=date(2027, 3, 1),
    )
    values.update(kwargs)
    return ContractTerms(**values)


def by_key(instalments):
    return {i.key: i for i in instalments}


def test_year_one_commune_base_and_option_2():
    plan = by_key(schedule(terms(options=(OptionTerm(Item.option2, START),))))
    first = [plan[k] for k in ("y1-signature", "y1-go-live", "y1-balance")]
    assert [i.total_ht_cents for i in first] == [576000, 960000, 384000]
    assert [i.total_ttc_cents for i in first] == [691200, 1152000, 460800]
    assert [i.due_on for i in first] == [START, date(2027, 3, 1), date(2027, 12, 15)]
    assert plan["y2-q1"].total_ht_cents == 480000
    assert plan["y2-q1"].due_on == date(2028, 1, 15)
    assert {i.total_ht_cents for i in plan.values() if i.kind == "quarter"} == {480000}


def test_five_years_is_three_plus_sixteen_invoices_none_after_the_end():
    t = terms(options=(OptionTerm(Item.option2, START),))
    plan = schedule(t)
    assert [i.kind for i in plan].count("quarter") == 16
    assert len(plan) == 19
    assert all(i.due_on < t.end for i in plan)
    assert sum(i.total_ht_cents for i in plan) == 160000 * 60


def test_each_instalment_falls_in_its_contract_year():
    """The console's "Total of year N" adds the instalments of year N only: a year's quarters
    are that year's, a true-up is the year of its period's end."""
    plan = schedule(terms(options=(OptionTerm(Item.option2, START),)))
    totals: dict[int, int] = {}
    for instalment in plan:
        totals[instalment.year] = totals.get(instalment.year, 0) + instalment.total_ht_cents
    assert totals == dict.fromkeys(range(1, 6), 160000 * 12)
    assert by_key(plan)["y3-q4"].year == 3
    option = OptionTerm(Item.option1, date(2028, 1, 15), date(2028, 7, 15))
    (true_up,) = [i for i in schedule(terms(options=(option,))) if i.kind == "true_up"]
    assert true_up.year == 2


def test_option_cancelled_after_six_months_is_trued_up():
    option = OptionTerm(Item.option1, date(2028, 1, 15), date(2028, 7, 15))
    plan = schedule(terms(options=(option,)))
    true_ups = [i for i in plan if i.kind == "true_up"]
    assert len(true_ups) == 1
    (line,) = true_ups[0].lines
    assert (line.code, line.quantity, line.unit_cents, line.amount_cents) == (
        "option1",
        6,
        20000,
        120000,
    )
    assert true_ups[0].due_on == date(2028, 7, 15)
    billed = sum(ln.amount_cents for i in plan for ln in i.lines if ln.code == "option1")
    assert billed == 12 * 20000  # the 12-month minimum, exactly


def test_option_from_signature_cancelled_in_year_one():
    plan = schedule(terms(options=(OptionTerm(Item.option1, START, add_months(START, 6)),)))
    year_one = sum(
        ln.amount_cents
        for i in plan
        if i.key.startswith("y1")
        for ln in i.lines
        if ln.code == "option1"
    )
    assert year_one == 6 * 20000
    assert [i.total_ht_cents for i in plan if i.kind == "true_up"] == [120000]


def test_option_added_mid_contract_is_billed_from_its_start():
    plan = by_key(schedule(terms(options=(OptionTerm(Item.option3, date(2028, 2, 15)),))))
    lines = [ln for ln in plan["y2-q1"].lines if ln.code == "option3"]
    assert [(ln.quantity, ln.amount_cents) for ln in lines] == [(2, 60000)]
    assert plan["y2-q2"].total_ht_cents == 3 * (110000 + 30000)
    assert not [i for i in plan.values() if i.kind == "true_up"]


def test_early_termination_trues_up_the_minimum_and_stops():
    stop = add_months(START, 8)
    t = terms(options=(OptionTerm(Item.option2, START),), terminated_on=stop)
    plan = schedule(t)
    assert all(i.due_on <= stop for i in plan)
    assert not [i for i in plan if i.kind == "quarter"]
    balance = by_key(plan)["y1-balance"]
    assert balance.due_on == stop
    assert sum(i.total_ht_cents for i in plan if i.key.startswith("y1")) == 8 * 160000
    (true_up,) = [i for i in plan if i.kind == "true_up"]
    assert true_up.total_ht_cents == 4 * 160000
    # Terminated in year three: nothing more than the quarters up to then, no true-up.
    later = schedule(terms(terminated_on=add_months(START, 28)))
    assert [i.kind for i in later].count("quarter") == 6
    assert not [i for i in later if i.kind == "true_up"]


def test_umbrella_members_joining_and_leaving_change_the_option_lines():
    members = tuple(MemberTerm(Tier.epci, START, name=f"CC {n}") for n in range(4)) + (
        MemberTerm(Tier.epci, date(2028, 2, 15), name="CC 5"),
        MemberTerm(Tier.epci, START, date(2028, 3, 15), name="CC 6"),
    )
    options = tuple(OptionTerm(item, START) for item in (Item.option1, Item.option2, Item.option3))
    plan = by_key(schedule(terms(kind=ContractKind.umbrella, members=members, options=options)))
    # Year one: 5 members (CC 6 until March 2028): option 1 = 5 × 125 = 625.
    year_one = sum(plan[k].total_ht_cents for k in ("y1-signature", "y1-go-live", "y1-balance"))
    assert year_one == 12 * (110000 + 62500 + 130000 + 80000)
    quarter = plan["y2-q1"]  # 15 Jan – 14 Apr 2028: 5 members, 6 from Feb 15, 5 from Mar 15
    option1 = [
        (ln.quantity, ln.amount_cents, ln.label) for ln in quarter.lines if ln.code == "option1"
    ]
    assert [q for q, _, _ in option1] == [1, 1, 1]
    assert [a for _, a, _ in option1] == [62500, 75000, 62500]
    assert "6 membres" in option1[1][2]


def test_go_live_unknown_leaves_its_instalment_undated():
    plan = schedule(terms(go_live=None))
    assert plan[-1].key == "y1-go-live" and plan[-1].due_on is None


def test_balance_absorbs_what_was_really_invoiced():
    t = terms(options=(OptionTerm(Item.option2, START),))
    issued = {"y1-signature": {"base": 396000, "option2": 0}}  # signed before option 2 existed
    balance = by_key(schedule(t, issued))["y1-balance"]
    assert balance.total_ht_cents == 12 * 160000 - 396000 - 960000


def test_month_arithmetic_clamps():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 15), 60) == date(2032, 1, 15)


@settings(max_examples=300, deadline=None)
@given(
    base=st.integers(min_value=0, max_value=10**7),
    option=st.integers(min_value=1, max_value=10**7),
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 31)),
)
def test_year_one_instalments_add_up_to_the_cent(base, option, start):
    table = {(i, t): Price(option if i != Item.base else base, 5000) for i in Item for t in TIERS}
    prices = PriceList(date(2026, 1, 1), table)
    t = ContractTerms(
        kind=ContractKind.epci,
        start=start,
        end=add_months(start, 36),
        prices=prices,
        go_live=start,
        options=(OptionTerm(Item.option2, start),),
    )
    plan = by_key(schedule(t))
    first = [plan[k] for k in ("y1-signature", "y1-go-live", "y1-balance") if k in plan]
    assert sum(i.total_ht_cents for i in first) == 12 * (base + option)
    for code, monthly in (("base", base), ("option2", option)):
        assert sum(ln.amount_cents for i in first for ln in i.lines if ln.code == code) == (
            12 * monthly
        )
    assert sum(i.total_ht_cents for i in plan.values()) == 36 * (base + option)
