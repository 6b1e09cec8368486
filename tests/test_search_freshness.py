"""The search cache hears changes: no Redis round trip per search while subscribed, a bump made by
any process reloads the matrix, and without the subscription each search reads the tokens."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from sqlalchemy import text

from core.extensions import db
from sites.search import freshness
from tests import test_search_engine as engine_tests
from tests.support import TEST_REDIS_URL
from tests.test_search_engine import CELLS, run

hand = engine_tests.hand  # the five hand-made cells, as a fixture of this module too
GP = {"criteria": [{"id": "gp_km", "threshold": 10}]}


@pytest.fixture
def shared():
    conn = Redis.from_url(TEST_REDIS_URL)
    yield conn
    conn.close()


def token_reads(conn: Redis) -> int:
    return int(conn.info("commandstats").get("cmdstat_mget", {}).get("calls", 0))


def subscribed(listener: freshness.Listener) -> bool:
    return listener.stamp() is not None


def wait_for(condition, what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def move_gp(cell: str, km: float) -> None:
    """Change a stored value behind the cache's back (no bump)."""
    db.session.rollback()
    db.session.execute(text("UPDATE cell_profiles SET gp_km = :km WHERE cell_id = :c"), {
        "km": km, "c": cell})  # fmt: skip
    db.session.commit()


def test_a_subscribed_process_serves_its_matrix_without_asking_redis(hand, shared):
    first = run(hand, GP)
    listener = freshness.listener()
    wait_for(lambda: subscribed(listener), "the subscription")
    run(hand, GP)  # tokens checked once subscribed: trusted from now on
    before = token_reads(shared)
    for _ in range(5):
        assert run(hand, GP).matrix is first.matrix
    assert token_reads(shared) == before


def test_a_bump_made_by_another_process_is_heard(hand, shared):
    assert run(hand, GP).statuses() == "gooog"
    listener = freshness.listener()
    wait_for(lambda: subscribed(listener), "the subscription")
    run(hand, GP)
    move_gp(CELLS[1], 1.0)
    assert run(hand, GP).statuses() == "gooog"  # nobody told
    # Another process bumps the national token as freshness does: the token, then the message.
    stamp = listener.stamp()
    shared.set(f"{freshness.PREFIX}profiles", "elsewhere")
    shared.publish(freshness.CHANNEL, "bump")
    wait_for(lambda: listener.stamp() != stamp, "the bump to be heard")
    assert run(hand, GP).statuses() == "ggoog"


def test_without_the_subscription_each_search_reads_the_tokens(hand, shared):
    run(hand, GP)
    listener = freshness.listener()
    wait_for(lambda: subscribed(listener), "the subscription")
    listener._wait = 3.0  # a long gap before it subscribes again, to search in between
    shared.client_kill_filter(_type="pubsub")
    wait_for(lambda: not subscribed(listener), "the subscription to be lost")
    move_gp(CELLS[1], 1.0)
    shared.set(f"{freshness.PREFIX}profiles", "changed-unannounced")  # no message
    before = token_reads(shared)
    assert run(hand, GP).statuses() == "ggoog"
    assert token_reads(shared) > before
    wait_for(lambda: subscribed(listener), "the subscription again", seconds=10)


def test_a_trusted_matrix_is_checked_again_after_a_while(hand, shared, monkeypatch):
    monkeypatch.setattr(freshness, "VERIFY_SECONDS", 0.0)
    listener = freshness.listener()
    wait_for(lambda: subscribed(listener), "the subscription")
    run(hand, GP)
    move_gp(CELLS[1], 1.0)
    shared.set(f"{freshness.PREFIX}profiles", "flushed-and-rewritten")  # e.g. an emptied Redis
    assert run(hand, GP).statuses() == "ggoog"
