"""The sites' anonymous audience: page views, visits (pages reached from outside) and searches
counted per territory and day without identifiers, copied into each territory's schema
idempotently, and shown on the console's overview."""

from __future__ import annotations

import re

import pytest
from redis import Redis
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from sites import audience
from sites.audience import AudienceDay, copy_counters, paris_day
from tests.support import TEST_REDIS_URL, host
from tests.test_search_api import hand, post  # noqa: F401 - a searchable territory
from tests.test_search_engine import QUERY


def counters(ref) -> dict[str, int]:
    with Redis.from_url(TEST_REDIS_URL) as redis:
        raw = redis.hgetall(f"vivrau:audience:{ref.id}:{paris_day().isoformat()}")
    return {k.decode(): int(v) for k, v in raw.items()}


@pytest.fixture
def forget_counters():
    """Each test's counters leave Redis with it."""
    yield
    with Redis.from_url(TEST_REDIS_URL) as redis:
        for key in redis.scan_iter(match="vivrau:audience:*"):
            redis.delete(key)


def test_pages_and_visits_are_counted_without_identifiers(
    app, make_tenant, make_account, visitor, forget_counters
):
    town = make_tenant(name="Riom-ès-Montagnes")
    site = visitor(town)
    assert site.get("/").status_code == 200  # typed or from a link: a visit
    own = f"http://{host(town)}/"
    assert site.get("/annonces/", headers={"Referer": own}).status_code == 200  # inside the site
    other = "https://www.example.org/villes"
    assert site.get("/", headers={"Referer": other}).status_code == 200  # from another site
    robot = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    assert site.get("/", headers=robot).status_code == 200
    assert site.get("/page-qui-nexiste-pas").status_code == 404
    assert site.get("/confidentialite").status_code == 200
    # The console is not the site's audience.
    site.login(make_account(roles=[("admin", town)]))
    assert site.get("/console/").status_code == 200
    seen = counters(town)
    assert seen == {"page_views": 4, "visits": 3}
    # Nothing of the visitor is kept: one hash of three numbers per day.
    with Redis.from_url(TEST_REDIS_URL) as redis:
        keys = [k.decode() for k in redis.scan_iter(match=f"vivrau:audience:{town.id}:*")]
    assert keys == [f"vivrau:audience:{town.id}:{paris_day().isoformat()}"]


def test_searches_are_counted_by_the_api_and_the_page(
    app,
    client,
    hand,  # noqa: F811 - the fixture imported above
    visitor,
    forget_counters,
):
    assert post(client, hand, "/api/v1/search", QUERY).status_code == 200
    assert post(client, hand, "/api/v1/search?format=compact", QUERY).status_code == 200
    assert post(client, hand, "/api/v1/search", {"criteria": "x"}).status_code == 400
    site = visitor(hand)
    site.get("/recherche")  # the empty form: no search yet
    assert site.get("/recherche?c=gp_km&gp_km=10&gp_km_i=must").status_code == 200
    assert counters(hand)["searches"] == 3


def test_the_copy_into_the_territory_is_idempotent_and_never_lowers_a_day(
    app, make_tenant, make_account, visitor, forget_counters
):
    town = make_tenant(name="Trizac")
    site = visitor(town)
    for _ in range(3):
        site.get("/")
    with app.app_context():
        assert copy_counters()[town.slug] == 1
        copy_counters()  # again: the same figures, not twice them
        with tenant_scope(town):
            day = db.session.execute(select(AudienceDay)).scalar_one()
            assert (day.day, day.page_views, day.visits, day.searches) == (paris_day(), 3, 3, 0)
            db.session.rollback()
    # Redis lost its counters (a restart without persistence): the day keeps what it had.
    with Redis.from_url(TEST_REDIS_URL) as redis:
        redis.delete(f"vivrau:audience:{town.id}:{paris_day().isoformat()}")
    site.get("/")
    with app.app_context():
        copy_counters()
        with tenant_scope(town):
            assert db.session.execute(select(AudienceDay.page_views)).scalar_one() == 3
            db.session.rollback()
    # The overview shows the month's figures.
    site.login(make_account(roles=[("admin", town)]))
    page = site.get("/console/").get_data(as_text=True)
    visits = re.search(r'<tr id="trend-visits">.*?<td class="num">(\d+)</td>', page, re.S)
    assert visits and visits.group(1) == "3"


def test_counting_never_fails_a_page_when_redis_is_away(app, make_tenant, visitor, monkeypatch):
    town = make_tenant(name="Marcenat")

    def away(what, work, fallback):
        return fallback

    monkeypatch.setattr(audience, "with_redis", away)
    assert visitor(town).get("/").status_code == 200
    with app.app_context():
        assert copy_counters() == {}
