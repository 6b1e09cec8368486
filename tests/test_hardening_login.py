"""Password guessing: growing waits per account (platform-wide) instead of refusing its owner, the
per-address limit kept, the owner warned once by e-mail."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from core.auth import throttle
from core.auth.models import AuditEvent
from core.extensions import db
from tests.support import PASSWORD

WRONG = "not the password"
_addresses = (f"10.77.{i // 250}.{i % 250 + 1}" for i in itertools.count())


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, frozen; `advance(seconds)` moves it."""
    now = [2_000_000_000.0]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def attempt(site, email: str, password: str = WRONG):
    """One login from an address of its own: only the account's throttle applies."""
    return site.post(
        "/compte/connexion",
        {"email": email, "password": password},
        csrf_from="/compte/connexion",
        environ_base={"REMOTE_ADDR": next(_addresses)},
    )


def page(response, email: str) -> str:
    """The page but for the address typed, the CSP nonce and the CSRF token."""
    text = response.get_data(as_text=True).replace(email, "@")
    text = re.sub(r'nonce="[^"]+"', "", text)
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", text)


def waits(response) -> int | None:
    """The seconds the page asks to wait, or None when the attempt was answered. (Retry-After
    may say more: the per-address limit's window, when it ends later.)"""
    if response.status_code != 429:
        return None
    found = re.search(r"réessayez dans (\d+) secondes?", response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) >= int(found.group(1))
    return int(found.group(1))


def test_the_waits_grow_then_stop_growing():
    assert [throttle.wait_after(n) for n in range(1, 15)] == [
        0,
        0,
        0,
        0,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        300,
        300,
    ]
    assert throttle.wait_after(10_000) == throttle.MAX_WAIT


def test_the_right_password_works_once_the_wait_is_over(
    app, clock, make_tenant, make_account, visitor
):
    site = visitor(make_tenant())
    email = make_account()
    assert [attempt(site, email).status_code for _ in range(5)] == [200] * 5
    early = attempt(site, email, PASSWORD)
    assert waits(early) == 2
    assert "réessayez dans 2 secondes" in early.get_data(as_text=True)
    clock(2)
    assert attempt(site, email, PASSWORD).status_code == 302
    # A success forgets the failures: the next mistake is answered at once.
    assert attempt(visitor(make_tenant()), email).status_code == 200


def test_the_password_is_not_checked_while_the_wait_runs(
    app, clock, make_tenant, make_account, visitor
):
    town = make_tenant()
    site = visitor(town)
    email = make_account()
    for _ in range(5):
        attempt(site, email)
    right, wrong = attempt(site, email, PASSWORD), attempt(site, email)
    assert waits(right) == waits(wrong) == 2
    clock(1)
    assert waits(attempt(site, email)) == 1  # an early attempt does not lengthen the wait
    with app.app_context():
        actions = db.session.execute(
            select(AuditEvent.action).where(
                AuditEvent.tenant_slug == town.slug,
                AuditEvent.action.in_(["login", "login.failed"]),
            )
        ).scalars()
        assert list(actions) == ["login.failed"] * 5  # the early ones were not even tried
        db.session.rollback()
    clock(1)
    assert attempt(site, email).status_code == 200  # the 6th failure: now 4 s
    clock(3)
    assert waits(attempt(site, email, PASSWORD)) == 1


def test_one_account_one_count_whatever_the_territory(clock, make_tenant, make_account, visitor):
    """Accounts are platform-wide: guessing on five sites does not give five times the tries."""
    email = make_account()
    sites = [visitor(make_tenant()) for _ in range(3)]
    for i in range(5):
        assert attempt(sites[i % 2], email).status_code == 200
    assert waits(attempt(sites[2], email)) == 2


def test_an_unknown_address_waits_the_same(clock, make_tenant, make_account, visitor):
    """No tell: an address without an account is throttled exactly like one with."""
    site = visitor(make_tenant())
    known, unknown = make_account(), "nobody-here@example.org"
    for email in (known, unknown):
        for _ in range(5):
            attempt(site, email)
    a, b = attempt(site, known), attempt(site, unknown)
    assert waits(a) == waits(b) == 2
    assert page(a, known) == page(b, unknown)


def test_the_owner_is_warned_once(clock, make_tenant, make_account, visitor, smtp):
    site = visitor(make_tenant())
    email = make_account(name="Odile")
    for _ in range(4):
        attempt(site, email)
    assert smtp.deliver().bodies_to(email) == []
    for _ in range(4):  # the 5th failure warns; the next ones do not again
        attempt(site, email)
        clock(throttle.MAX_WAIT)
    bodies = smtp.deliver().bodies_to(email)
    assert len(bodies) == 1
    assert "Odile" in bodies[0] and "mot de passe" in bodies[0]
    assert "/compte/mot-de-passe-oublie" in bodies[0]


def test_the_address_limit_still_holds(clock, make_tenant, visitor):
    """Five failures a minute from one address, whatever the accounts tried."""
    site = visitor(make_tenant())
    for i in range(5):
        response = site.post(
            "/compte/connexion",
            {"email": f"guess{i}@example.org", "password": WRONG},
            csrf_from="/compte/connexion",
        )
        assert response.status_code == 200
    refused = site.post(
        "/compte/connexion",
        {"email": "guess9@example.org", "password": WRONG},
        csrf_from="/compte/connexion",
    )
    assert refused.status_code == 429


def test_password_reset_requests_are_counted_per_account_platform_wide(
    make_tenant, make_account, visitor
):
    email = make_account()
    answers = [
        visitor(make_tenant())
        .post(
            "/compte/mot-de-passe-oublie",
            {"email": email},
            environ_base={"REMOTE_ADDR": next(_addresses)},
        )
        .status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]


def test_a_signed_in_session_guesses_no_faster(clock, make_tenant, make_account, visitor):
    """The password asked again (to change it, to delete the account) waits like a login."""
    site = visitor(make_tenant())
    email = make_account()
    site.login(email)
    new = "a fresh passphrase here"

    def change(current: str):
        return site.post(
            "/compte/mot-de-passe",
            {"current": current, "password": new, "confirm": new},
            csrf_from="/compte/",
        )

    assert [change(WRONG).status_code for _ in range(5)] == [200] * 5
    assert waits(change(PASSWORD)) == 2
    deleted = site.post(
        "/compte/supprimer", {"password": PASSWORD}, csrf_from="/compte/", follow_redirects=True
    )
    assert "réessayez dans 2 secondes" in deleted.get_data(as_text=True)
    assert waits(attempt(visitor(make_tenant()), email, PASSWORD)) == 2  # one count
    clock(2)
    assert change(PASSWORD).status_code == 302
