"""Accounts across territories: register, verify, log in elsewhere, reset, CSRF, rate limits."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from core.auth.models import Account, AuditEvent
from core.extensions import db
from tests.support import PASSWORD


def same_page(a, b, a_email: str, b_email: str) -> bool:
    """Equal but for the address typed, the CSP nonce and the CSRF token."""

    def clean(response, email):
        text = response.get_data(as_text=True).replace(email, "@")
        text = re.sub(r'nonce="[^"]+"', "", text)
        return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", text)

    return clean(a, a_email) == clean(b, b_email)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_register_verify_then_log_in_on_another_territory(app, make_tenant, visitor, smtp):
    a, b = make_tenant(name="Mauriac"), make_tenant(name="Murat")
    on_a = visitor(a)
    response = on_a.post(
        "/compte/inscription",
        {
            "email": "Lea.Martin@example.org",
            "display_name": "Léa",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 200 and "Lea.Martin@example.org" in response.get_data(True)
    link = smtp.deliver().link_to("Lea.Martin@example.org", "/compte/verifier/")
    assert urlsplit(link).hostname == on_a.host  # the link leads back where they registered
    assert on_a.get(path_of(link)).status_code == 302
    try:
        on_b = visitor(b)
        on_b.login("lea.martin@EXAMPLE.org")  # case does not matter
        page = on_b.get("/compte/").get_data(as_text=True)
        assert "Léa" in page and "Lea.Martin@example.org" in page
        # host-only session: being logged in on B says nothing on A
        assert "Léa" not in on_a.get("/").get_data(as_text=True)
        assert on_b.post("/compte/deconnexion", csrf_from="/compte/").status_code == 302
        assert on_b.get("/compte/").status_code == 302
    finally:
        with app.app_context():
            db.session.execute(
                Account.__table__.delete().where(Account.email == "Lea.Martin@example.org")
            )
            db.session.commit()


def test_no_enumeration_on_register_login_and_reset(app, make_tenant, make_account, visitor, smtp):
    town = make_tenant()
    email = make_account()
    site = visitor(town)
    taken = site.post(
        "/compte/inscription",
        {"email": email, "display_name": "X", "password": PASSWORD, "confirm": PASSWORD},
    )
    fresh_email = "nobody-yet@example.org"
    fresh = site.post(
        "/compte/inscription",
        {"email": fresh_email, "display_name": "X", "password": PASSWORD, "confirm": PASSWORD},
    )
    try:
        assert taken.status_code == fresh.status_code == 200
        assert same_page(taken, fresh, email, fresh_email)
        smtp.deliver()
        assert "already exists" in smtp.bodies_to(email)[0] or "existe" in smtp.bodies_to(email)[0]
        wrong = site.post("/compte/connexion", {"email": email, "password": "wrong password!"})
        unknown = site.post(
            "/compte/connexion", {"email": "ghost@example.org", "password": "wrong password!"}
        )
        assert wrong.status_code == unknown.status_code == 200
        assert same_page(wrong, unknown, email, "ghost@example.org")
        r1 = site.post("/compte/mot-de-passe-oublie", {"email": email})
        r2 = site.post("/compte/mot-de-passe-oublie", {"email": "ghost@example.org"})
        assert same_page(r1, r2, email, "ghost@example.org")
    finally:
        with app.app_context():
            db.session.execute(Account.__table__.delete().where(Account.email == fresh_email))
            db.session.commit()


def test_password_reset_link_works_once_and_ends_other_sessions(
    make_tenant, make_account, visitor, smtp
):
    town = make_tenant()
    email = make_account()
    elsewhere = visitor(town)
    elsewhere.login(email)
    site = visitor(town)
    site.post("/compte/mot-de-passe-oublie", {"email": email})
    link = path_of(smtp.deliver().link_to(email, "/compte/nouveau-mot-de-passe/"))
    new = "a brand new passphrase"
    assert site.post(link, {"password": new, "confirm": new}).status_code == 302
    assert site.get(link).status_code == 400  # used: the hash it carried has changed
    site.login(email, new)
    assert elsewhere.get("/compte/").status_code == 302  # the old session is over


def test_post_without_csrf_token_is_refused(make_tenant, make_account, visitor):
    town = make_tenant()
    email = make_account()
    site = visitor(town)
    response = site.client.post(
        "/compte/connexion", base_url=site.base, data={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "session" not in {c.key for c in site.client._cookies.values()} or (
        site.get("/compte/").status_code == 302
    )


def test_sixth_failed_login_in_a_minute_gets_a_readable_429(
    app, make_tenant, make_account, visitor
):
    town = make_tenant()
    email = make_account()
    site = visitor(town)
    token = site.csrf("/compte/connexion")
    for _ in range(5):
        r = site.post(
            "/compte/connexion", {"email": email, "password": "nope", "csrf_token": token}
        )
        assert r.status_code == 200
    refused = site.post(
        "/compte/connexion", {"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 429
    body = refused.get_data(as_text=True)
    assert "Trop de tentatives" in body and "Too many attempts" in body
    with app.app_context():
        failures = (
            db.session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "login.failed", AuditEvent.tenant_slug == town.slug
                )
            )
            .scalars()
            .all()
        )
        assert len(failures) == 5 and all(e.ip == "127.0.0.1" for e in failures)
        db.session.rollback()


def test_users_create_reads_the_password_from_stdin(app, runner, make_tenant):
    town = make_tenant()
    email = "premier.admin@example.org"
    try:
        result = runner.invoke(
            args=["users", "create", "--email", email, "--role", "admin", "--tenant", town.slug],
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output
        short = runner.invoke(args=["users", "create", "--email", "x@example.org"], input="short\n")
        assert short.exit_code == 1 and "12 to 128" in short.output
        no_tenant = runner.invoke(
            args=["users", "create", "--email", "y@example.org", "--role", "editor"],
            input=PASSWORD + "\n",
        )
        assert no_tenant.exit_code == 1 and "--tenant" in no_tenant.output
    finally:
        with app.app_context():
            db.session.execute(Account.__table__.delete().where(Account.email == email))
            db.session.commit()


def test_a_password_reset_by_mail_confirms_the_address(
    app, make_tenant, make_account, visitor, smtp
):
    town = make_tenant()
    email = make_account(verified=False)
    site = visitor(town)
    site.post("/compte/mot-de-passe-oublie", {"email": email})
    link = path_of(smtp.deliver().link_to(email, "/compte/nouveau-mot-de-passe/"))
    new = "another fine passphrase"
    assert site.post(link, {"password": new, "confirm": new}).status_code == 302
    with app.app_context():
        account = db.session.execute(select(Account).where(Account.email == email)).scalar_one()
        assert account.is_verified
        db.session.rollback()
