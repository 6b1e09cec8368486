"""The demo that looks alive: its listings (generated, imported as normed files) and its
synthetic equipment, against which every search preset must separate the communauté's cells."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import text

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.declaration import KINDS
from ingest.listings.demo import demo_rows, normed_csv
from ingest.listings.demo import words as w
from ingest.listings.normed import read_normed
from sites.search.engine import score
from sites.search.presets import PRESETS
from sites.search.query import parse_query

#: The demo territories that hold listings: slug → (kind, INSEE or SIREN code).
DEMO = {
    "saint_flour": ("commune", "15187"),
    "saint_flour_communaute": ("epci", "200066660"),
    "mauriac": ("commune", "15120"),
    "murat": ("commune", "15138"),
    "riom_es_montagnes": ("commune", "15162"),
}
DAY = date(2026, 12, 7)
PHONE = re.compile(r"^04 65 71 \d\d \d\d$")


@pytest.fixture
def communaute(ctx, cantal, make_tenant):
    return make_tenant(kind="epci", code="200066660", name="Saint-Flour Communauté")


def test_demo_files_are_valid_varied_and_plausible(communaute):
    for kind in KINDS:
        rows = demo_rows(communaute, kind, 60, today=DAY)
        db.session.rollback()
        assert demo_rows(communaute, kind, 60, today=DAY) == rows  # deterministic
        db.session.rollback()
        parsed = read_normed(kind, normed_csv(kind, rows), f"{kind}.csv")
        assert [i for i in parsed.issues if i.error] == [] and len(parsed.rows) == 60, kind
        # spread over the communauté's communes, towns first
        communes = Counter(r["commune_insee"] for r in rows)
        assert len(communes) >= 20, kind
        assert len({r["description"] for r in rows}) >= 50, kind  # descriptions vary
        for r in rows:
            assert r["description"].endswith(w.FICTITIOUS)
            assert r["contact_email"].endswith((".example.org", ".test"))
            assert PHONE.match(r["contact_phone"]), r["contact_phone"]
    homes = demo_rows(communaute, "real_estate", 200, today=DAY)
    for r in homes:
        if r["property_type"] not in ("house", "flat", "farm", "building"):
            continue
        per_m2 = int(r["price"]) / int(r["living_area_m2"])
        if r["transaction"] == "rent":
            assert 6.5 <= per_m2 <= 10.5, r
        else:
            low, high = w.SALE_PER_M2[r["property_type"]]
            assert low * 0.95 <= per_m2 <= high * 1.05, r
    houses = [r for r in homes if r["property_type"] == "house" and r["transaction"] == "sale"]
    assert len(houses) >= 50
    jobs = demo_rows(communaute, "job", 60, today=DAY)
    codes = {r["rome_code"] for r in jobs}
    assert codes <= set(w.JOBS) and len(codes) > 15
    assert all(r["contract_type"] in w.JOBS[r["rome_code"]][1] for r in jobs)
    leisure = demo_rows(communaute, "leisure", 60, today=DAY)
    assert {r["category"] for r in leisure} <= set(w.LEISURE)
    for r in leisure:  # an event has its dates, a place its opening hours
        assert bool(r.get("start_on")) == (r["category"] in w.EVENTS), r
    places = demo_rows(communaute, "poi", 60, today=DAY)
    assert all(re.fullmatch(r"[A-G]\d{3}", r["bpe_code"]) for r in places if r["bpe_code"])


def _published(slug: str) -> dict[str, int]:
    rows = db.session.execute(
        text(
            f'SELECT kind, count(*) FROM "t_{slug}".listings '  # noqa: S608 - a test's slug
            "WHERE status = 'published' GROUP BY kind"
        )
    ).all()
    return dict(rows)


def test_demo_listings_are_imported_and_every_preset_separates_the_communaute(
    app, ctx, runner, cantal_profiles, make_tenant, tmp_path
):
    refs = {slug: make_tenant(slug=slug, kind=k, code=c) for slug, (k, c) in DEMO.items()}
    result = runner.invoke(args=["ingest", "demo-listings", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("60 valid, 0 errors") == len(DEMO) * len(KINDS)
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "mauriac-business.csv"
    for slug in DEMO:
        assert _published(slug) == dict.fromkeys(KINDS, 60), slug
    again = runner.invoke(args=["ingest", "demo-listings", "-o", str(tmp_path)])
    assert again.exit_code == 0 and again.output.count("unchanged 60") == len(DEMO) * len(KINDS)

    communaute = refs["saint_flour_communaute"]
    greens = {}
    with tenant_scope(communaute):
        for preset in PRESETS:
            result = score(communaute, parse_query({"criteria": preset.as_json()["criteria"]}))
            greens[preset.id] = result.counts["green"]
            total = result.total
        db.session.rollback()
    assert total > 1000  # the communauté's 53 communes
    for preset, green in greens.items():
        assert 0 < green < total, (preset, green, total)
    # and they do not all agree: a retired couple is pickier about care than a remote worker
    assert greens["retired"] < greens["remote_worker"]


def test_demo_listings_need_the_demo_territories(app, runner, tmp_path):
    result = runner.invoke(args=["ingest", "demo-listings", "-o", str(tmp_path)])
    assert result.exit_code != 0
    assert "flask tenants seed-demo" in result.output
