"""The territory lifecycle: create, list, members, failures that leave nothing behind."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

import tenants.provisioning as prov
from core.extensions import db
from core.registry import Membership, Tenant, members_of
from tests.support import drop_tenants, unique_slug


def schema_exists(name: str) -> bool:
    found = db.session.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": name}
    ).scalar()
    db.session.rollback()
    return bool(found)


def test_create_then_list_json(runner, ctx):
    slug = unique_slug("cli")
    try:
        create = [
            *"tenants create --name Murat --kind commune --code 15138".split(),
            "--slug",
            slug,
        ]
        result = runner.invoke(args=[*create, "--domain", "www.murat.fr"])
        assert result.exit_code == 0, result.output
        listed = json.loads(runner.invoke(args=["tenants", "list", "--json"]).output)
        row = next(r for r in listed if r["slug"] == slug)
        assert row == {
            "slug": slug,
            "name": "Murat",
            "kind": "commune",
            "code": "15138",
            "status": "active",
            "schema": f"t_{slug}",
            "locale": "fr",
            "theme": "default",
            "hosts": [f"{slug.replace('_', '-')}.vivrau.localhost", "www.murat.fr"],
        }
        assert schema_exists(f"t_{slug}")
        again = runner.invoke(args=create)
        assert again.exit_code == 1 and "already exists" in again.output
    finally:
        drop_tenants([slug])


@pytest.mark.parametrize(
    ("kind", "code", "message"),
    [
        ("commune", "1518", "INSEE commune code"),
        ("commune", None, "INSEE commune code"),
        ("epci", "12345", "SIREN"),
        ("departement", "999", "département"),
        ("region", "84", "invalid kind"),
    ],
)
def test_bad_codes_and_kinds_are_refused(ctx, kind, code, message):
    with pytest.raises(prov.ProvisioningError, match=message):
        prov.create_tenant(prov.TenantSpec(unique_slug(), "Nom", kind, code))


def test_failure_midway_leaves_no_schema_and_no_row(ctx, monkeypatch):
    slug = unique_slug("half")
    real = prov.clone_template

    def failing(connection, schema, location=None):
        real(connection, schema, location)  # the schema and its tables exist at this point
        raise RuntimeError("disk full")

    monkeypatch.setattr(prov, "clone_template", failing)
    with pytest.raises(prov.ProvisioningError, match="disk full"):
        prov.create_tenant(prov.TenantSpec(slug, "Nom", "commune", "15187"))
    assert not schema_exists(f"t_{slug}")
    assert db.session.execute(select(Tenant).where(Tenant.slug == slug)).first() is None
    assert (
        db.session.execute(
            text("SELECT count(*) FROM tenant_domains WHERE host LIKE :h"), {"h": f"{slug[:4]}%"}
        ).scalar()
        == 0
    )


def test_umbrella_members_join_and_leave_with_history(ctx, runner, make_tenant):
    umbrella = make_tenant(kind="umbrella")
    towns = [make_tenant(code=c) for c in ("15120", "15138", "15162")]
    for town in towns:
        assert (
            runner.invoke(args=["tenants", "add-member", umbrella.slug, town.slug]).exit_code == 0
        )
    dup = runner.invoke(args=["tenants", "add-member", umbrella.slug, towns[0].slug])
    assert dup.exit_code == 1 and "already a member" in dup.output
    wrong = runner.invoke(args=["tenants", "add-member", towns[0].slug, towns[1].slug])
    assert wrong.exit_code == 1 and "not an umbrella" in wrong.output
    left = runner.invoke(args=["tenants", "remove-member", umbrella.slug, towns[0].slug])
    assert left.exit_code == 0
    u = db.session.get(Tenant, umbrella.id)
    assert [t.slug for t in members_of(db.session, u.id)] == sorted(
        [towns[1].slug, towns[2].slug], key=lambda s: next(t.name for t in towns if t.slug == s)
    )
    history = (
        db.session.execute(select(Membership).where(Membership.umbrella_id == umbrella.id))
        .scalars()
        .all()
    )
    assert len(history) == 3 and sum(m.left_on is not None for m in history) == 1
    rejoin = runner.invoke(args=["tenants", "add-member", umbrella.slug, towns[0].slug])
    assert rejoin.exit_code == 0


def test_unknown_slug_is_one_line_error(runner):
    for args in (
        ["suspend", "nope_nope"],
        ["resume", "nope_nope"],
        ["delete", "nope_nope", "--yes"],
    ):
        result = runner.invoke(args=["tenants", *args])
        assert result.exit_code == 1
        assert result.output.strip() == "Error: no territory with slug 'nope_nope'"


def test_delete_needs_yes(runner, make_tenant):
    town = make_tenant()
    result = runner.invoke(args=["tenants", "delete", town.slug])
    assert result.exit_code == 1 and "--yes" in result.output
