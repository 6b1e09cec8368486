"""Error pages that cannot fail: a commit refused at the end of a request, a broken page helper,
the API's problem answers; and nothing kept of the failed request."""

from __future__ import annotations

import pytest
from flask import Blueprint, g
from sqlalchemy import func, select

from application import create_app
from core.auth.models import Account
from core.extensions import db
from tests.support import Visitor, host, settings_for_tests

RID = "trace-0123456789"


def _duplicate_account(email: str) -> None:
    """Queue an account whose address exists: PostgreSQL refuses it at the request's commit."""
    db.session.add(Account(email=email.upper(), display_name="Copie", password_hash="x"))


@pytest.fixture(scope="module")
def failing_app(tmp_path_factory):
    """The application with three views whose commit fails, and a page helper that breaks on
    demand; exceptions are answered as in production (no propagation to the test)."""
    application = create_app(settings_for_tests(tmp_path_factory, PROPAGATE_EXCEPTIONS=False))
    bp = Blueprint("failing", __name__)

    @bp.get("/echec-commit/<email>")
    def commit_fails(email):
        _duplicate_account(email)
        return "enregistré"

    @bp.get("/echec-gabarit/<email>")
    def helper_fails(email):
        g.break_helpers = True
        _duplicate_account(email)
        return "enregistré"

    @bp.get("/api/v1/echec-commit/<email>")
    def api_commit_fails(email):
        _duplicate_account(email)
        return {"ok": True}

    application.register_blueprint(bp)

    @application.context_processor
    def fragile():
        if g.get("break_helpers"):
            raise RuntimeError("a page helper broke")
        return {}

    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _accounts(app, email: str) -> int:
    with app.app_context():
        count = db.session.execute(
            select(func.count()).where(func.lower(Account.email) == email.lower())
        ).scalar()
        db.session.rollback()
        return count


def _assert_guarded(response):
    assert response.headers["X-Request-ID"] == RID
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def _signed_in_error_page(app, ref, email: str, path: str) -> tuple[Visitor, str]:
    """`path` asked by a signed-in person: a guarded 500 page in both languages with the
    request's reference; the visitor and the page's text."""
    visitor = Visitor(app, host(ref))
    visitor.login(email)
    response = visitor.get(path, headers={"X-Request-ID": RID})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Erreur du serveur" in body and "Server error" in body and RID in body
    _assert_guarded(response)
    return visitor, body


def test_a_commit_refused_gives_the_error_page_to_a_signed_in_person(
    failing_app, make_tenant, make_account
):
    """The page reads the person's language from the database: it must after a failed commit."""
    ref = make_tenant()
    email = make_account(locale="en")
    visitor, body = _signed_in_error_page(failing_app, ref, email, f"/echec-commit/{email}")
    assert "Traceback" not in body and "UniqueViolation" not in body
    assert _accounts(failing_app, email) == 1
    # The session is usable again: the next page of the same person is served.
    assert visitor.get("/compte/").status_code == 200


def test_a_broken_page_helper_still_gives_a_guarded_error_page(
    failing_app, make_tenant, make_account
):
    ref = make_tenant()
    email = make_account()
    _, body = _signed_in_error_page(failing_app, ref, email, f"/echec-gabarit/{email}")
    assert "a page helper broke" not in body


def test_a_commit_refused_under_the_api_answers_problem_json(
    failing_app, make_tenant, make_account
):
    ref = make_tenant()
    email = make_account()
    visitor = Visitor(failing_app, host(ref))
    visitor.login(email)  # the answer's language comes from the account
    response = visitor.get(f"/api/v1/echec-commit/{email}", headers={"X-Request-ID": RID})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 500
    _assert_guarded(response)
    assert _accounts(failing_app, email) == 1
