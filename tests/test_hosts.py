"""Host → territory resolution, and what odd or hostile Host headers get."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from core.extensions import db
from tenants.provisioning import ProvisioningError, TenantSpec, create_tenant
from tests.support import host


@pytest.fixture
def town(make_tenant):
    return make_tenant(name="Murat", code="15138")


def test_territory_page_shows_name_and_kind(client, town):
    response = client.get("/", headers={"Host": host(town)})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(r"<h1[^>]*>Vivre à Murat</h1>", body) and "Commune" in body


@pytest.mark.parametrize("variant", ["{h}:8000", "{H}", "{h}.", "{H}.:8000"])
def test_port_case_and_trailing_dot_resolve_to_the_same_territory(client, town, variant):
    name = host(town)
    response = client.get("/", headers={"Host": variant.format(h=name, H=name.upper())})
    assert response.status_code == 200
    assert "Murat" in response.get_data(as_text=True)


def test_unknown_host_is_a_404_page_in_french_and_english(client, town):
    response = client.get("/", headers={"Host": "inconnu.vivrau.localhost"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Territoire inconnu" in body and "Unknown territory" in body
    # Its inline style carries the response's CSP nonce, so the browser applies it.
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in body


def test_unknown_host_answers_api_clients_in_problem_json(client, town):
    response = client.get("/api/v1/listings", headers={"Host": "inconnu.vivrau.localhost"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and "No territory is served" in body["detail"]


def test_unknown_host_touches_no_territory_schema(app, client, town):
    statements = []
    with app.app_context():
        engine = db.engine

    def spy(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, conn.get_execution_options().get("schema_translate_map")))

    event.listen(engine, "before_cursor_execute", spy)
    try:
        client.get("/", headers={"Host": "inconnu.vivrau.localhost"})
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert statements, "the lookup runs a query"
    for statement, translate in statements:
        assert translate is None
        assert "search_path" not in statement
        assert not re.search(r'(?<![a-z0-9_])"?t_[a-z0-9_]+"?\.', statement)


def test_host_outside_the_platform_is_refused(client, town):
    assert client.get("/", headers={"Host": "evil.example.com"}).status_code == 400


def test_suspended_territory_answers_503(app, client, runner, town):
    assert runner.invoke(args=["tenants", "suspend", town.slug]).exit_code == 0
    response = client.get("/", headers={"Host": host(town)})
    assert response.status_code == 503
    assert "suspendu" in response.get_data(as_text=True)
    assert client.get("/healthz", headers={"Host": host(town)}).status_code == 200
    assert runner.invoke(args=["tenants", "resume", town.slug]).exit_code == 0
    assert client.get("/", headers={"Host": host(town)}).status_code == 200


def test_admin_host_is_the_console_and_never_a_territory(client, town):
    response = client.get("/", headers={"Host": "admin.vivrau.localhost"})
    assert response.status_code == 302 and response.location.endswith("/plateforme/")
    console = client.get("/plateforme/", headers={"Host": "admin.vivrau.localhost:8000"})
    assert console.status_code == 302 and "/compte/connexion" in console.location
    assert (
        client.get("/pages/accueil", headers={"Host": "admin.vivrau.localhost"}).status_code == 404
    )
    assert client.get("/plateforme/", headers={"Host": host(town)}).status_code == 404


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "reserved"),
        ('x"; drop schema public cascade; --', "invalid slug"),
        ("Saint_Flour", "invalid slug"),
        ("a", "invalid slug"),
        ("x" * 42, "invalid slug"),
    ],
)
def test_bad_slugs_are_refused_and_nothing_is_created(ctx, slug, message):
    schemas = db.session.execute(text("SELECT count(*) FROM pg_namespace")).scalar()
    tenants = db.session.execute(text("SELECT count(*) FROM tenants")).scalar()
    db.session.rollback()
    with pytest.raises(ProvisioningError, match=message):
        create_tenant(TenantSpec(slug, "Nom", "commune", "15187"))
    assert db.session.execute(text("SELECT count(*) FROM pg_namespace")).scalar() == schemas
    assert db.session.execute(text("SELECT count(*) FROM tenants")).scalar() == tenants


def test_console_host_cannot_be_claimed_as_a_custom_domain(ctx):
    with pytest.raises(ProvisioningError, match="reserved"):
        create_tenant(TenantSpec("claimer", "Nom", "commune", "15187", ("admin.vivrau.localhost",)))


def test_cli_refuses_sql_slug_with_one_line_and_exit_1(runner):
    result = runner.invoke(
        args=[
            "tenants",
            "create",
            "--slug",
            'x"; drop schema',
            "--name",
            "X",
            "--kind",
            "commune",
            "--code",
            "15187",
        ]
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: invalid slug")
    assert len(result.output.strip().splitlines()) == 1


def test_custom_domain_serves_the_territory(client, make_tenant):
    ref = make_tenant(domains=("www.mairie-murat.fr",))
    client.application.config["TRUSTED_HOSTS"].append("www.mairie-murat.fr")
    try:
        assert client.get("/", headers={"Host": "www.mairie-murat.fr"}).status_code == 200
    finally:
        client.application.config["TRUSTED_HOSTS"].remove("www.mairie-murat.fr")
    assert ref.slug
