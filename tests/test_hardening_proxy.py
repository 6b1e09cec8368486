"""Behind a reverse proxy: the client's address and scheme come from the trusted hops only (rate
limits, audit, HSTS); with no trusted proxy, forwarded headers change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from application import create_app
from core.auth.models import AuditEvent
from core.extensions import db
from tests.support import PASSWORD, Visitor, host, settings_for_tests

ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.20"
HSTS = "Strict-Transport-Security"


@pytest.fixture(scope="module")
def proxied(app, tmp_path_factory):
    """The application as deployed behind one nginx (TRUSTED_PROXIES=1)."""
    application = create_app(
        settings_for_tests(tmp_path_factory, TRUSTED_PROXIES=1, SEARCH_RATE_LIMIT="2/minute")
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def failed_logins(site: Visitor, forwarded_for: str, times: int = 5) -> None:
    """`times` wrong passwords, each for another unknown address: only the client's limit counts."""
    token = site.csrf("/compte/connexion")
    for i in range(times):
        response = site.post(
            "/compte/connexion",
            {"email": f"guess{i}@example.org", "password": "wrong password!", "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
        )
        assert response.status_code == 200


def log_in(site: Visitor, email: str, forwarded_for: str):
    return site.post(
        "/compte/connexion",
        {"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_behind_one_proxy_each_client_has_its_own_login_limit(proxied, make_tenant, make_account):
    town = make_tenant()
    email = make_account()
    site = Visitor(proxied, host(town))
    failed_logins(site, ATTACKER)
    assert log_in(site, email, ATTACKER).status_code == 429
    # The neighbour, behind the same proxy, is not punished for the attacker's guesses.
    assert log_in(Visitor(proxied, host(town)), email, NEIGHBOUR).status_code == 302
    with proxied.app_context():
        ips = set(
            db.session.execute(
                select(AuditEvent.ip).where(
                    AuditEvent.tenant_slug == town.slug, AuditEvent.action.like("login%")
                )
            ).scalars()
        )
        db.session.rollback()
    assert ips == {ATTACKER, NEIGHBOUR}


def test_a_client_cannot_choose_its_address_through_the_proxy(proxied, make_tenant):
    """nginx appends the address it saw: only the last (trusted) hop counts."""
    town = make_tenant()
    site = Visitor(proxied, host(town))
    failed_logins(site, f"10.9.9.9, {ATTACKER}")
    token = site.csrf("/compte/connexion")
    again = site.post(
        "/compte/connexion",
        {"email": "x@example.org", "password": "wrong password!", "csrf_token": token},
        headers={"X-Forwarded-For": f"10.0.0.1, {ATTACKER}"},
    )
    assert again.status_code == 429


def test_behind_one_proxy_searches_are_counted_per_client(proxied, make_tenant):
    town = make_tenant()
    client = proxied.test_client()
    body = {"criteria": [{"id": "gp_km", "threshold": 10, "importance": "must"}]}

    def search(forwarded_for: str) -> int:
        return client.post(
            "/api/v1/search",
            base_url=f"http://{host(town)}",
            json=body,
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code

    assert [search(ATTACKER) for _ in range(3)] == [200, 200, 429]
    assert search(NEIGHBOUR) == 200


def test_without_a_trusted_proxy_forwarded_headers_change_nothing(
    app, make_tenant, make_account, visitor
):
    town = make_tenant()
    email = make_account()
    site = visitor(town)
    failed_logins(site, ATTACKER)
    # A spoofed header neither escapes the limit nor lands in the audit log.
    assert log_in(site, email, NEIGHBOUR).status_code == 429
    with app.app_context():
        ips = set(
            db.session.execute(
                select(AuditEvent.ip).where(
                    AuditEvent.tenant_slug == town.slug, AuditEvent.action.like("login%")
                )
            ).scalars()
        )
        db.session.rollback()
    assert ips == {"127.0.0.1"}


# --- HSTS ----------------------------------------------------------------------------------------


def test_hsts_on_https_only(app, make_tenant):
    town = make_tenant()
    client = app.test_client()
    secure = client.get("/", base_url=f"https://{host(town)}")
    assert secure.status_code == 200
    assert secure.headers[HSTS] == "max-age=31536000"
    assert HSTS not in client.get("/", base_url=f"http://{host(town)}").headers
    # Without a trusted proxy, a client saying "https" does not make the request secure.
    spoofed = client.get(
        "/", base_url=f"http://{host(town)}", headers={"X-Forwarded-Proto": "https"}
    )
    assert HSTS not in spoofed.headers


def test_hsts_behind_a_proxy_that_terminates_tls(proxied, make_tenant):
    town = make_tenant()
    client = proxied.test_client()
    behind_tls = client.get(
        "/", base_url=f"http://{host(town)}", headers={"X-Forwarded-Proto": "https"}
    )
    assert behind_tls.headers[HSTS] == "max-age=31536000"
    plain = client.get("/", base_url=f"http://{host(town)}", headers={"X-Forwarded-Proto": "http"})
    assert HSTS not in plain.headers
