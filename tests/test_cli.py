"""The command line as an operator meets it: slugs typed in their host form, plain English."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.registry import Tenant


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
