"""Sessions end on the server: at logout (a copied cookie dies with it), after a while without
activity, at the latest some hours after login, and everywhere at once on request."""

from __future__ import annotations

import pytest

from core.auth import login
from tests.support import Visitor


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, frozen; `advance(seconds)` moves it."""
    now = [2_000_000_000.0]
    monkeypatch.setattr(login, "clock", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def signed_in(response) -> bool:
    """Whether /compte/ answered the account page (else it sent to the login page)."""
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of(app, site: Visitor) -> Visitor:
    """Another browser holding a copy of `site`'s session cookie."""
    thief = Visitor(app, site.host)
    cookie = site.client.get_cookie("session", domain=site.host)
    thief.client.set_cookie("session", cookie.value, domain=site.host)
    return thief


def test_a_copied_cookie_stops_working_at_logout(app, make_tenant, make_account, visitor):
    site = visitor(make_tenant())
    email = make_account()
    site.login(email)
    thief = copy_of(app, site)
    assert signed_in(thief.get("/compte/"))
    assert site.post("/compte/deconnexion", csrf_from="/compte/").status_code == 302
    assert not signed_in(site.get("/compte/"))
    assert not signed_in(thief.get("/compte/"))
    # Only that session ended: the person's other ones go on.
    other = visitor(site.host)
    other.login(email)
    assert signed_in(other.get("/compte/"))


def test_a_session_expires_after_two_idle_hours(app, clock, make_tenant, make_account, visitor):
    site = visitor(make_tenant())
    site.login(make_account())
    for _ in range(3):  # activity keeps it alive: the timeout slides
        clock(110 * 60)
        assert signed_in(site.get("/compte/"))
    clock(121 * 60)
    assert not signed_in(site.get("/compte/"))


def test_a_session_ends_at_the_latest_twelve_hours_after_login(
    app, clock, make_tenant, make_account, visitor
):
    site = visitor(make_tenant())
    email = make_account()
    site.login(email)
    for _ in range(11):
        clock(3600)
        assert signed_in(site.get("/compte/"))
    clock(3601)
    assert not signed_in(site.get("/compte/"))
    site.login(email)
    assert signed_in(site.get("/compte/"))


def test_log_out_everywhere(app, make_tenant, make_account, visitor):
    town = make_tenant()
    email = make_account()
    phone, laptop, library = visitor(town), visitor(town), visitor(town)
    for device in (phone, laptop, library):
        device.login(email)
    page = laptop.get("/compte/").get_data(as_text=True)
    assert 'action="/compte/deconnexion-partout"' in page
    assert "Se déconnecter partout" in page
    refused = laptop.client.post("/compte/deconnexion-partout", base_url=laptop.base)
    assert refused.status_code == 400  # no CSRF token: nothing ended
    assert signed_in(library.get("/compte/"))
    done = laptop.post("/compte/deconnexion-partout", csrf_from="/compte/")
    assert done.status_code == 302 and done.headers["Location"] == "/compte/connexion"
    for device in (phone, laptop, library):
        assert not signed_in(device.get("/compte/"))
    laptop.login(email)
    assert signed_in(laptop.get("/compte/"))
