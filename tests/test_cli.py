"""The command line as an operator meets it: slugs typed in their host form, plain English."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.registry import Tenant
from tests.private_redis import other_app
from tests.support import TEST_DATABASE_URL


def test_a_slug_in_its_host_form_is_accepted_and_stored_with_underscores(app, runner):
    result = runner.invoke(
        args=["tenants", "create", "--slug", "Pvd-Cli-Test", "--name", "PVD", "--kind", "umbrella"]
    )
    try:
        assert result.exit_code == 0, result.output
        assert "created pvd_cli_test (umbrella) on pvd-cli-test.vivrau.localhost" in result.output
        with app.app_context():
            assert db.session.execute(
                select(Tenant.slug).where(Tenant.slug == "pvd_cli_test")
            ).scalar()
        shown = runner.invoke(args=["tenants", "suspend", "pvd-cli-test"])
        assert shown.exit_code == 0 and "suspended pvd_cli_test" in shown.output
    finally:
        runner.invoke(args=["tenants", "delete", "pvd_cli_test", "--yes"])


def test_refusals_name_kinds_with_their_article(app, runner, make_tenant):
    town = make_tenant(kind="epci")
    other = make_tenant()
    result = runner.invoke(args=["tenants", "add-member", town.slug, other.slug])
    assert result.exit_code == 1
    assert f"Error: '{town.slug}' is an EPCI, not an umbrella" in result.output
    refused = runner.invoke(
        args=[
            "tenants",
            "create",
            "--slug",
            "u_cli",
            "--name",
            "U",
            "--kind",
            "umbrella",
            "--code",
            "12",
        ]
    )
    assert refused.exit_code == 1
    assert "for an umbrella" in refused.output and "Traceback" not in refused.output


def test_an_unreachable_database_is_one_line_not_a_traceback(app, tmp_path_factory):
    """Any command of any group, the database away: one line on stderr, status 1."""
    gone = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/vivrau_no_such_database"
    grant = ["users", "grant", "x@example.org", "billing_admin"]
    with other_app(app, tmp_path_factory, DATABASE_URL=gone) as without_database:
        runner = without_database.test_cli_runner()
        for args in (["tenants", "list", "--json"], grant):
            result = runner.invoke(args=args)
            assert result.exit_code == 1, result.output
            assert result.output.startswith("Error: database unreachable: "), result.output
            assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
