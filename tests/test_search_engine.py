"""The scoring engine on small hand-made territories: statuses, scores, the 200-cell rule,
invalid queries, listings and budget, cache refresh, umbrellas and tenant isolation.

Cells lie in the Bay of Biscay (no real commune there), in a corner no other test uses; their
profiles are inserted by hand so that every expected figure can be worked out on paper.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import insert, text

from core import grid
from core.extensions import db
from core.registry import TenantStatus
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.statuses import publish_or_unpublish
from ingest.listings.store import upsert
from ingest.reference.criteria import CRITERIA
from ingest.reference.models import CellProfile
from ingest.reference.profiles import build_profiles
from ingest.reference.territory import TerritoryCell
from sites.search import engine, freshness, matrix
from sites.search.query import Query, QueryError, Wanted, parse_query
from tenants.provisioning import add_member, set_status
from tests.search_helpers import listing_in

E0, N0 = 3_000_000, 2_500_000


def cell(c: int, r: int = 0) -> str:
    return grid.format_ids([N0 + 1000 * r], [E0 + 1000 * c]).tolist()[0]


#: c0..c4 along a row: GP km, pharmacy km, sports facilities, house price per m²; c3 has no
#: profile row at all (every value unknown).
PROFILES = {
    0: {"gp_km": 2.0, "pharmacy_km": 3.0, "sport_count": 5.0, "house_price_m2": 2000.0},
    1: {"gp_km": 12.0, "pharmacy_km": 3.0, "sport_count": 1.0, "house_price_m2": 1500.0},
    2: {"gp_km": 12.0, "pharmacy_km": 11.0, "sport_count": 3.0, "house_price_m2": 2600.0},
    4: {"gp_km": 10.0, "pharmacy_km": 10.0, "sport_count": 0.0, "house_price_m2": 3000.0},
}
CELLS = [cell(c) for c in range(5)]
QUERY = {
    "criteria": [
        {"id": "gp_km", "threshold": 10, "importance": "must"},
        {"id": "pharmacy_km", "threshold": 10, "importance": "must"},
        {"id": "sport_count", "threshold": 3, "importance": "nice"},
        {"id": "house_price_m2", "threshold": 2500, "importance": "nice"},
    ]
}


def place(ref, cells: list[str], commune: str | None = None) -> None:
    """Give the territory exactly these cells (as refresh_cells would)."""
    db.session.rollback()
    with tenant_scope(ref):
        db.session.execute(TerritoryCell.__table__.delete())
        db.session.execute(
            insert(TerritoryCell), [{"cell_id": c, "commune_insee": commune} for c in cells]
        )
        db.session.commit()
    freshness.cells_changed(ref)


def profile(rows: dict[str, dict]) -> None:
    db.session.rollback()
    db.session.execute(
        insert(CellProfile), [{"cell_id": c, "departement": "00", **v} for c, v in rows.items()]
    )
    db.session.commit()
    freshness.profiles_changed()


@pytest.fixture
def hand(ctx, make_tenant):
    """A territory of the five cells c0..c4 with the profiles above."""
    ref = make_tenant()
    place(ref, CELLS)
    profile({cell(c): v for c, v in PROFILES.items()})
    yield ref
    db.session.rollback()
    db.session.execute(text("DELETE FROM cell_profiles WHERE departement = '00'"))
    db.session.commit()


def run(ref, body) -> engine.Result:
    db.session.rollback()
    with tenant_scope(ref):
        result = engine.score(ref, parse_query(body))
        db.session.rollback()
    return result


def listing(ref, kind, n, cell_id, status="published", **values):
    listing_in(ref, kind, n, cell_id, status, **values)
    freshness.listings_changed(tenant=ref)


# --- hand-computed results ----------------------------------------------------------------------


def test_statuses_and_scores_by_hand(hand):
    result = run(hand, QUERY)
    # c0 meets both must-haves; c1 misses the GP; c2 misses both; c3 is unknown (both fail);
    # c4 sits exactly on both thresholds (they hold)
    assert result.statuses() == "goyyg"
    assert result.counts == {"green": 2, "orange": 1, "yellow": 2}
    assert result.precise is True and result.total == 5
    expected = [
        (1 + 1) / 2,  # sport 5 ≥ 3, price 2000 ≤ 2500
        (1 / 3 + 1) / 2,  # sport 1 of 3
        (1 + 2500 / 2600) / 2,  # price 2600 for 2500 asked
        0.0,  # unknown values earn nothing
        (0 + 2500 / 3000) / 2,
    ]
    assert result.scores.tolist() == pytest.approx(expected, abs=1e-6)
    assert result.green_cells() == [CELLS[0], CELLS[4]]

    compact = result.compact(with_scores=True)
    assert compact["statuses"] == "goyyg"
    assert compact["scores"] == [100, 67, 98, 0, 42]
    assert compact["version"] == matrix.cell_order(hand)[0]

    full = result.full()
    assert [c["id"] for c in full["cells"]] == [CELLS[0], CELLS[4], CELLS[1], CELLS[2], CELLS[3]]
    by_id = {c["id"]: c for c in full["cells"]}
    assert by_id[CELLS[0]]["failed"] == [] and by_id[CELLS[0]]["status"] == "green"
    assert by_id[CELLS[1]]["failed"] == [{"id": "gp_km", "value": 12.0, "threshold": 10.0}]
    assert by_id[CELLS[1]]["score"] == pytest.approx(0.667, abs=1e-3)
    assert by_id[CELLS[2]]["failed"] == [
        {"id": "gp_km", "value": 12.0, "threshold": 10.0},
        {"id": "pharmacy_km", "value": 11.0, "threshold": 10.0},
    ]
    assert by_id[CELLS[3]]["failed"] == [
        {"id": "gp_km", "value": None, "threshold": 10.0},
        {"id": "pharmacy_km", "value": None, "threshold": 10.0},
    ]


def test_orange_and_yellow_boundaries(hand):
    def statuses(gp, pharmacy, sport):
        return run(
            hand,
            {
                "criteria": [
                    {"id": "gp_km", "threshold": gp, "importance": "must"},
                    {"id": "pharmacy_km", "threshold": pharmacy, "importance": "must"},
                    {"id": "sport_count", "threshold": sport, "importance": "must"},
                ]
            },
        ).statuses()

    # c0 (2, 3, 5), c1 (12, 3, 1), c2 (12, 11, 3), c3 unknown, c4 (10, 10, 0)
    assert statuses(12, 11, 0) == "gggyg"  # everything known holds; unknown fails all three
    assert statuses(11.9, 11, 0) == "gooyg"  # one fail: orange
    assert statuses(11.9, 10.9, 0) == "goyyg"  # two fails: yellow
    assert statuses(11.9, 9.9, 0) == "goyyo"  # c4's pharmacy at 10 km: just over
    assert statuses(1, 1, 6) == "yyyyy"


def test_no_must_have_makes_every_cell_green_and_no_nice_to_have_no_score(hand):
    result = run(hand, {"criteria": [{"id": "gp_km", "threshold": 1, "importance": "nice"}]})
    assert result.counts == {"green": 5, "orange": 0, "yellow": 0}
    result = run(hand, {"criteria": [{"id": "gp_km", "importance": "must"}]})
    assert result.scores is None and "scores" not in result.compact()
    assert result.full()["cells"][0]["score"] is None
    assert result.statuses() == "gooog"  # the default GP threshold: 10 km


def test_the_200_cell_rule(ctx, make_tenant):
    ref = make_tenant()
    cells = [cell(c, 10 + r) for r in range(11) for c in range(20)][:201]
    place(ref, cells)
    # every cell but the first has a GP within 1 km
    profile({c: {"gp_km": 50.0 if i == 0 else 1.0} for i, c in enumerate(cells)})
    try:
        result = run(ref, {"criteria": []})
        assert result.counts["green"] == 201 and result.precise is False
        result = run(ref, {"criteria": [{"id": "gp_km", "threshold": 10, "importance": "must"}]})
        assert result.counts == {"green": 200, "orange": 1, "yellow": 0}
        assert result.precise is True
    finally:
        db.session.rollback()
        db.session.execute(text("DELETE FROM cell_profiles WHERE departement = '00'"))
        db.session.commit()


# --- invalid queries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"criteria": {}}, "criteria"),
        ({"criteria": [{"id": "gp_km"}] * 31}, "criteria"),
        ({"criteria": ["gp_km"]}, "criteria[0]"),
        ({"criteria": [{"threshold": 3}]}, "criteria[0].id"),
        ({"criteria": [{"id": "gp_km"}, {"id": "unicorns_km"}]}, "criteria[1].id"),
        ({"criteria": [{"id": "gp_km"}, {"id": "gp_km"}]}, "criteria[1].id"),
        (
            {"criteria": [{"id": "bank_km"}, {"id": "gp_km", "threshold": "10"}]},
            "criteria[1].threshold",
        ),
        (
            {"criteria": [{"id": "bank_km"}, {"id": "gp_km", "threshold": True}]},
            "criteria[1].threshold",
        ),
        ({"criteria": [{"id": "gp_km", "threshold": -1}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": "gp_km", "threshold": None}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": "gp_km", "threshold": math.nan}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": "gp_km", "threshold": math.inf}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": ["gp_km"]}]}, "criteria[0].id"),
        ({"criteria": [{"id": "gp_km", "importance": ["must"]}]}, "criteria[0].importance"),
        ({"criteria": [{"id": "gp_km", "threshold": 501}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": "poverty_share", "threshold": 101}]}, "criteria[0].threshold"),
        ({"criteria": [{"id": "gp_km", "importance": "maybe"}]}, "criteria[0].importance"),
        ({"criteria": [{"id": "gp_km", "weight": 2}]}, "criteria[0].weight"),
        ({"criteria": [], "budget": "cheap"}, "budget"),
        ({"criteria": [], "budget": -5}, "budget"),
        ({"criteria": [], "household": 3}, "household"),
        ({"criteria": [], "household": {"adults": 0}}, "household.adults"),
        ({"criteria": [], "household": {"adults": 2, "children": 1.5}}, "household.children"),
        ({"criteria": [], "household": {"pets": 2}}, "household.pets"),
        ({"criteria": [], "colour": "blue"}, "colour"),
    ],
)
def test_invalid_queries_name_their_field(ctx, body, field):
    with pytest.raises(QueryError) as caught:
        parse_query(body)
    assert field in caught.value.errors, caught.value.errors
    assert all(str(m) for m in caught.value.errors[field])


def test_every_error_is_reported_at_once(ctx):
    with pytest.raises(QueryError) as caught:
        parse_query(
            {
                "criteria": [{"id": "x"}, {"id": "gp_km", "threshold": -2, "importance": "?"}],
                "budget": 0,
            }
        )
    assert set(caught.value.errors) == {
        "criteria[0].id",
        "criteria[1].threshold",
        "criteria[1].importance",
        "budget",
    }


def test_defaults_come_from_the_catalogue(ctx):
    query = parse_query({"criteria": [{"id": "sport_count"}]})
    assert query.criteria[0].threshold == 3 and query.criteria[0].importance == "must"
    assert parse_query({}).criteria == ()


# --- listings, budget, household ----------------------------------------------------------------


def test_listing_criteria_and_budget(hand):
    listing(hand, "job", 1, CELLS[0])
    listing(hand, "job", 2, CELLS[0])
    listing(hand, "job", 3, CELLS[1], status="draft")  # not published: never counted
    listing(hand, "job", 4, cell(40, 40))  # outside the territory
    listing(hand, "business", 1, CELLS[2])
    listing(hand, "real_estate", 1, CELLS[0], transaction="sale", price=150_000)
    listing(hand, "real_estate", 2, CELLS[0], transaction="sale", price=250_000)
    listing(hand, "real_estate", 3, CELLS[1], transaction="rent", price=600, charges=50)
    listing(hand, "real_estate", 4, CELLS[1], transaction="rent", price=900)
    m = run(hand, {}).matrix
    assert m.values[matrix.ROW["jobs_count"]].tolist() == [2, 0, 0, 0, 0]
    assert m.values[matrix.ROW["businesses_count"]].tolist() == [0, 0, 1, 0, 0]
    homes = {"criteria": [{"id": "homes_count", "threshold": 2, "importance": "must"}]}
    assert run(hand, homes).statuses() == "ggooo"
    # 180 000 €: the 150 000 € sale, and the rent of 650 €/month (≤ 180 000 / 240 = 750 €)
    one_home = {"criteria": [{"id": "homes_count", "threshold": 1}], "budget": 180_000}
    assert run(hand, one_home).statuses() == "ggooo"
    assert run(
        hand, one_home | {"criteria": [{"id": "homes_count", "threshold": 2}]}
    ).statuses() == ("ooooo")
    assert run(hand, one_home | {"budget": 100_000}).statuses() == "ooooo"


def test_budget_caps_the_price_per_m2(hand):
    body = {
        "criteria": [{"id": "house_price_m2", "threshold": 2500, "importance": "must"}],
        "budget": 110_000,
        "household": {"adults": 2, "children": 1},
    }
    # 2 adults + 1 child: 20 + 3 × 15 = 65 m²; 110 000 € / 65 m² = 1 692 €/m² < 2 500 asked
    result = run(hand, body)
    assert result.statuses() == "ogooo"  # c0's 2 000 €/m² no longer fits
    failed = {c["id"]: c["failed"] for c in result.full()["cells"]}
    assert failed[CELLS[0]] == [{"id": "house_price_m2", "value": 2000, "threshold": 1692}]
    # a larger budget leaves the asked threshold as it is; no household: one adult (35 m²)
    assert run(hand, body | {"budget": 1_000_000}).statuses() == "ggooo"
    assert run(hand, {"criteria": body["criteria"], "budget": 70_000}).statuses() == "ggooo"
    assert run(hand, {"criteria": body["criteria"], "budget": 52_500}).statuses() == "ogooo"


# --- one cell -----------------------------------------------------------------------------------


def test_evaluate_cell(hand, cantal):
    place(hand, CELLS, commune="15187")
    db.session.rollback()
    with tenant_scope(hand):
        evaluation = engine.evaluate_cell(hand, parse_query(QUERY), CELLS[1])
        with pytest.raises(LookupError):
            engine.evaluate_cell(hand, parse_query(QUERY), cell(40, 40))
        db.session.rollback()
    assert evaluation["status"] == "orange"
    assert evaluation["score"] == pytest.approx(0.667, abs=1e-3)
    assert evaluation["communes"] == [{"insee": "15187", "name": "Saint-Flour"}]
    gp = evaluation["criteria"][0]
    assert gp == {
        "id": "gp_km",
        "label": "Médecin généraliste le plus proche",
        "unit": "km",
        "value": 12.0,
        "threshold": 10.0,
        "value_text": "12,0\u00a0km",  # French: the request chose no language
        "threshold_text": "10\u00a0km",
        "importance": "must",
        "ok": False,
    }
    assert [c["ok"] for c in evaluation["criteria"]] == [False, True, False, True]


# --- the cache ----------------------------------------------------------------------------------


def test_matrix_is_cached_and_refreshed_on_listing_writes(hand):
    jobs = {"criteria": [{"id": "jobs_count", "threshold": 1}]}
    first = run(hand, jobs)
    assert run(hand, jobs).matrix is first.matrix  # cached
    assert first.statuses() == "ooooo"

    db.session.rollback()
    with tenant_scope(hand):
        upsert(
            db.session,
            "job",
            [
                {
                    "external_id": "J-1",
                    "title": "Boulanger",
                    "commune_insee": "15187",
                    "cell_id": CELLS[3],
                    "status": "draft",
                }
            ],
            source="api",
        )
        db.session.commit()
    assert run(hand, jobs).statuses() == "ooooo"
    with tenant_scope(hand):
        upsert(
            db.session,
            "job",
            [
                {
                    "external_id": "J-1",
                    "title": "Boulanger",
                    "commune_insee": "15187",
                    "cell_id": CELLS[3],
                    "status": "published",
                }
            ],
            source="api",
        )
        db.session.rollback()  # a write that is rolled back changes nothing
    assert run(hand, jobs).statuses() == "ooooo"
    with tenant_scope(hand):
        draft = db.session.execute(
            Listing.__table__.select().where(Listing.external_id == "J-1")
        ).first()
        publish_or_unpublish([db.session.get(Listing, draft.id)], "published", None)
        db.session.commit()
    assert run(hand, jobs).statuses() == "ooogo"


def test_matrix_refreshed_when_profiles_or_cells_change(hand):
    body = {"criteria": [{"id": "gp_km", "threshold": 10}]}
    assert run(hand, body).statuses() == "gooog"  # one must-have: a fail is orange
    db.session.rollback()
    db.session.execute(
        text("UPDATE cell_profiles SET gp_km = 1 WHERE cell_id = :c"), {"c": CELLS[1]}
    )
    db.session.commit()
    assert run(hand, body).statuses() == "gooog"  # not yet told
    build_profiles("0Z")  # no cell there: rewrites nothing, still tells the searches
    assert run(hand, body).statuses() == "ggoog"
    db.session.rollback()
    with tenant_scope(hand):
        before = matrix.cell_order(hand)
        db.session.rollback()
    place(hand, CELLS[:3])
    with tenant_scope(hand):
        after = matrix.cell_order(hand)
        db.session.rollback()
    assert after[1] == CELLS[:3] and after[0] != before[0]
    assert run(hand, body).statuses() == "ggo"


# --- umbrellas and isolation --------------------------------------------------------------------


def test_umbrella_scores_its_members_cells_and_listings(ctx, cantal, make_tenant):
    flour = make_tenant(code="15187")
    aurillac = make_tenant(code="15014")
    umbrella = make_tenant(kind="umbrella")
    add_member(umbrella.slug, flour.slug)
    add_member(umbrella.slug, aurillac.slug)
    orders = {}
    for ref in (flour, aurillac, umbrella):
        db.session.rollback()
        with tenant_scope(ref):
            orders[ref.slug] = matrix.cell_order(ref)[1]
            db.session.rollback()
    assert orders[flour.slug] and orders[aurillac.slug]
    union = sorted(set(orders[flour.slug]) | set(orders[aurillac.slug]))
    assert orders[umbrella.slug] == union

    target = orders[aurillac.slug][0]
    listing(aurillac, "job", 1, target)
    result = run(umbrella, {"criteria": [{"id": "jobs_count", "threshold": 1}]})
    assert result.green_cells() == [target]
    assert run(flour, {"criteria": [{"id": "jobs_count", "threshold": 1}]}).counts["green"] == 0


def test_a_communaute_counts_its_commune_sites_listings_after_the_bump(ctx, cantal, make_tenant):
    communaute = make_tenant(kind="epci", name="Saint-Flour Communauté")  # holds 15187

    def jobs_at(cell_id: str) -> float:
        m = run(communaute, {}).matrix
        return float(m.values[matrix.ROW["jobs_count"]][m.index_of(cell_id)])

    db.session.rollback()
    with tenant_scope(communaute):
        target = matrix.cell_order(communaute)[1][0]
        db.session.rollback()
    assert jobs_at(target) == 0  # the communauté's matrix is loaded and kept
    # A commune site opened within it afterwards: a member its matrix did not know of.
    town = make_tenant(name="Saint-Flour")
    listing(town, "job", 1, target)  # announced: the bump of the town's listings token
    assert jobs_at(target) == 1
    # Now a member of the kept matrix: its next listing reloads the communauté's through the
    # town's token alone.
    listing(town, "job", 2, target)
    assert jobs_at(target) == 2
    body = {"criteria": [{"id": "jobs_count", "threshold": 2, "importance": "must"}]}
    assert target in run(communaute, body).green_cells()
    # A suspended site's listings leave its pages and its communauté's counts alike.
    set_status(town.slug, TenantStatus.suspended)
    assert jobs_at(target) == 0


def test_a_territory_never_counts_another_ones_listings(ctx, make_tenant):
    a, b = make_tenant(), make_tenant()
    place(a, CELLS)
    place(b, CELLS)
    listing(a, "business", 1, CELLS[0])
    body = {"criteria": [{"id": "businesses_count", "threshold": 1}]}
    assert run(a, body).statuses() == "goooo"
    assert run(b, body).statuses() == "ooooo"


# --- speed sanity (the figures are in bench/search.py) ------------------------------------------


def test_scoring_is_vectorised_over_cells():
    rng = np.random.default_rng(0)
    n = 50_000
    ids = grid.format_ids(N0 + 1000 * np.arange(n), np.full(n, E0))
    values = rng.uniform(0, 30, (len(CRITERIA), n)).astype("float32")
    m = matrix.Matrix(np.sort(ids.astype("U40")), [None] * n, values)
    query = Query(
        tuple(
            Wanted(c.id, c.threshold, "must" if i % 2 else "nice") for i, c in enumerate(CRITERIA)
        )
    )
    result = engine.score_matrix(m, query)
    assert sum(result.counts.values()) == n
    assert math.isclose(float(result.scores.max()), 1.0) or result.scores.max() < 1
