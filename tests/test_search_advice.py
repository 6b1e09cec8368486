"""The summary's advice on hand-made matrices in memory: which must-have to relax and to what,
which criterion would tell all-green cells apart, and the columns that tell cells apart.

Every matrix is built here, value by value, so that each suggestion can be worked out on paper;
edge cases: no must-have, values unknown everywhere, a single cell, cells that all miss two.
"""

from __future__ import annotations

import math

import numpy as np

from ingest.reference.criteria import CRITERIA, round_rows
from sites.search.advice import advice, relax, telling, tighten
from sites.search.engine import score_matrix
from sites.search.matrix import ROW, Matrix
from sites.search.query import Query, Wanted

NAN = math.nan


def matrix(**columns) -> Matrix:
    """A matrix whose named criteria take these values (NaN elsewhere), rounded as loaded."""
    n = len(next(iter(columns.values())))
    values = np.full((len(CRITERIA), n), np.nan, dtype="float64")
    for cid, row in columns.items():
        values[ROW[cid]] = row
    round_rows(values)
    ids = np.array([f"CRS3035RES1000mN{2_000_000 + i * 1000}E3000000" for i in range(n)], "U40")
    return Matrix(ids, [None] * n, values.astype("float32"))


def search(m: Matrix, *wanted: tuple[str, float, str]):
    return score_matrix(m, Query(tuple(Wanted(*w) for w in wanted)))


# GP (km) and pharmacy (km) of five cells: the GP rules out four, the pharmacy one.
GP = [12.3, 14.0, 15.2, 30.0, 2.0]
PHARMACY = [1.0, 2.0, 3.0, 4.0, 20.0]


def test_relax_names_the_must_have_that_blocks_most_and_the_nearest_readable_threshold():
    result = search(
        matrix(gp_km=GP, pharmacy_km=PHARMACY),
        ("gp_km", 10, "must"),
        ("pharmacy_km", 10, "must"),
    )
    assert result.counts == {"green": 0, "orange": 5, "yellow": 0}
    found = relax(result)
    assert found.criterion.id == "gp_km"
    assert (found.failing, found.blocking) == (4, 4)
    # the nearest blocked cell is at 12.3 km: 13 km, the next whole km, turns it green
    assert found.suggested == 13.0 and found.cells == 1
    assert found.threshold == 10.0 and found.unknown is False
    # at 13 km the search has exactly that many green cells
    again = search(
        matrix(gp_km=GP, pharmacy_km=PHARMACY),
        ("gp_km", found.suggested, "must"),
        ("pharmacy_km", 10, "must"),
    )
    assert again.counts["green"] == found.cells


def test_relax_counts_every_cell_the_rounded_threshold_lets_in():
    result = search(matrix(gp_km=[10.4, 10.9, 11.0, 11.2, 30.0]), ("gp_km", 10, "must"))
    found = relax(result)
    assert found.suggested == 11.0 and found.cells == 3  # 10.4, 10.9 and 11.0 km
    assert advice(result) == found


def test_relax_an_at_least_criterion_goes_down_to_a_whole_count_or_drops_it():
    sports = [1.0, 2.0, 0.0, 2.0]
    found = relax(search(matrix(sport_count=sports), ("sport_count", 3, "must")))
    assert (found.suggested, found.cells) == (2.0, 2)
    found = relax(search(matrix(sport_count=[0.0, 0.0]), ("sport_count", 1, "must")))
    assert (found.suggested, found.cells) == (0.0, 2)  # "without it"


def test_relax_when_every_cell_misses_two_must_haves():
    result = search(
        matrix(gp_km=[20.0, 30.0, 40.0], pharmacy_km=[11.0, 30.0, NAN]),
        ("gp_km", 10, "must"),
        ("pharmacy_km", 10, "must"),
    )
    assert result.counts == {"green": 0, "orange": 0, "yellow": 3}
    found = relax(result)
    # no cell is kept out by one alone: the first asked of the two missed most is named
    assert found.criterion.id == "gp_km" and found.failing == 3 and found.blocking == 0
    assert found.suggested is None and found.cells == 0 and found.unknown is False


def test_relax_when_the_value_is_unknown_everywhere():
    result = search(matrix(gp_km=[NAN, NAN, NAN]), ("gp_km", 10, "must"))
    found = relax(result)
    assert found.failing == 3 and found.blocking == 3
    assert found.suggested is None and found.unknown is True
    assert tighten(search(matrix(gp_km=[NAN, NAN, NAN]))) is None  # nothing to split on


def test_relax_a_single_cell():
    found = relax(search(matrix(gp_km=[17.25]), ("gp_km", 5, "must")))
    assert found.suggested == 18.0 and found.cells == 1  # shown 17,3 km → 18 km
    assert tighten(search(matrix(gp_km=[17.25]), ("gp_km", 20, "must"))) is None  # all green: 1


def test_no_advice_without_must_have_to_relax_or_when_some_cells_fit():
    m = matrix(gp_km=GP, pharmacy_km=PHARMACY)
    assert relax(search(m, ("gp_km", 10, "nice"))) is None  # no must-have: every cell is green
    assert advice(search(m, ("gp_km", 13, "must"))) is None  # some green, some not


def test_tighten_an_asked_must_have_to_split_the_cells_near_half():
    result = search(matrix(gp_km=GP, pharmacy_km=PHARMACY), ("gp_km", 40, "must"))
    assert result.counts["green"] == 5
    found = tighten(result)
    # the median GP is 14 km: at most 14 km keeps 12.3, 14 and 2 km
    assert found.criterion.id == "gp_km" and found.importance == "must"
    assert (found.threshold, found.suggested, found.cells, found.total) == (40.0, 14.0, 3, 5)
    assert advice(result) == found


def test_tighten_makes_a_nice_to_have_a_must_have_or_adds_a_criterion():
    m = matrix(gp_km=GP, pharmacy_km=PHARMACY)
    found = tighten(search(m, ("pharmacy_km", 10, "nice")))
    assert found.criterion.id == "pharmacy_km" and found.importance == "nice"
    assert (found.suggested, found.cells) == (3.0, 3)  # median 3 km: 1, 2 and 3 km
    found = tighten(search(m))  # nothing asked: a criterion of the catalogue
    assert found.importance is None and found.threshold is None
    assert found.criterion.id in ("gp_km", "pharmacy_km") and 0 < found.cells < 5


def test_tighten_never_suggests_a_looser_must_have():
    # asked at most 3 km: every cell within, the median (2 km) would not tighten it
    m = matrix(gp_km=[2.0, 2.0, 2.0, 3.0], pharmacy_km=[1.0, 5.0, 6.0, 9.0])
    found = tighten(search(m, ("gp_km", 3, "must")))
    assert found.criterion.id == "gp_km" and found.suggested == 2.0 and found.cells == 3


def test_telling_columns_put_the_criteria_that_split_the_cells_first():
    m = matrix(
        gp_km=[1.0, 2.0, 3.0, 4.0],  # all within 10 km: splits nothing
        pharmacy_km=[1.0, 2.0, 30.0, 40.0],  # half within 10 km
        sport_count=[0.0, 5.0, 5.0, 5.0],  # one cell of four below 3
        bakery_km=[1.0, 1.0, 1.0, 1.0],
    )
    asked = [
        ("gp_km", 10, "must"),
        ("bakery_km", 5, "nice"),
        ("sport_count", 3, "nice"),
        ("pharmacy_km", 10, "must"),
    ]
    result = search(m, *asked)
    assert [w.id for w in telling(result)] == ["pharmacy_km", "sport_count", "gp_km"]
    assert [w.id for w in telling(result, limit=2)] == ["pharmacy_km", "sport_count"]
    assert telling(search(m)) == []


def test_advice_over_a_large_matrix_stays_vectorised():
    """A département-sized matrix (6 000 cells): the advice is a few numpy passes."""
    rng = np.random.default_rng(1)
    n = 6000
    m = matrix(gp_km=rng.uniform(11, 40, n), pharmacy_km=rng.uniform(0, 9, n))
    found = relax(search(m, ("gp_km", 10, "must"), ("pharmacy_km", 10, "must")))
    gp = m.values[ROW["gp_km"]]
    assert found.blocking == n and found.suggested == math.ceil(float(gp.min()))
    assert found.cells == int((gp <= np.float32(found.suggested)).sum())
