"""Inputs the database cannot hold, refused before it sees them: ids past PostgreSQL's integer
(404, or the parameter's default), NUL characters (400 saying where), and the addresses the
account forms refuse, refused by `flask users create` too."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.auth.models import Account
from core.extensions import db
from core.inputs import INT_MAX, bounded_int
from tests.support import host


@pytest.fixture
def person(make_tenant, make_account, visitor):
    site = visitor(make_tenant())
    site.login(make_account())
    return site


@pytest.mark.parametrize("value", [INT_MAX + 1, 2**63, 10**30])
def test_an_id_past_the_integer_column_is_a_404(person, value):
    assert person.get(f"/compte/favoris/{value}").status_code == 404
    assert person.get(f"/compte/favoris/{INT_MAX}").status_code == 404  # the largest: no row


def test_a_query_or_form_integer_past_the_column_falls_back(person):
    saved = person.post(
        "/compte/favoris/basculer", {"listing": str(2**63), "action": "add"}, csrf_from="/"
    )
    assert saved.status_code == 400
    assert person.get(f"/annonces/real_estate?page={2**63}").status_code == 200
    assert bounded_int(str(INT_MAX)) == INT_MAX
    with pytest.raises(ValueError):
        bounded_int(str(INT_MAX + 1))


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/pages/a%00b", "L'adresse de la page"),
        ("/annonces/real_estate/A%00B", "L'adresse de la page"),
        ("/recherche?q=%00", "Le paramètre « q »"),
        ("/annonces/real_estate?commune=15%0014", "Le paramètre « commune »"),
    ],
)
def test_a_nul_in_the_address_is_refused_saying_where(person, path, where):
    response = person.get(path)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert where.replace("'", "&#39;") in body and "U+0000" in body
    assert response.headers["X-Request-ID"]


def test_a_nul_in_a_form_is_refused_saying_which_field(person):
    response = person.post(
        "/compte/connexion", {"email": "a\x00@example.org", "password": "x"}, csrf_from="/"
    )
    assert response.status_code == 400
    assert "Le champ « email »" in response.get_data(as_text=True)


def test_a_nul_in_an_api_filter_is_a_problem(client, make_tenant):
    response = client.get("/api/v1/listings?kind=%00", base_url=f"http://{host(make_tenant())}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "U+0000" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "address",
    [
        "x@localhost",
        "x y@example.org",
        "x@example..org",
        "a" * 310 + "@example.org",
        "@example.org",
    ],
)
def test_users_create_refuses_what_the_forms_refuse(app, runner, address):
    result = runner.invoke(
        args=["users", "create", "--email", address], input="correct horse battery\n"
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error: invalid e-mail address")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    with app.app_context():
        created = db.session.execute(
            select(func.count()).where(func.lower(Account.email) == address.lower())
        ).scalar()
    assert created == 0


@pytest.mark.parametrize("token", ["vvk_\x00_secret", "vvk_ABC\x00DEF_secret", "vvk_é_secret"])
def test_a_key_that_cannot_exist_is_a_401(client, make_tenant, token):
    response = client.get(
        "/api/v1/listings",
        base_url=f"http://{host(make_tenant())}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
