"""Migrations: one head per script directory, and the fan-out over territory schemas."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.config import ROOT
from core.extensions import db
from migrations.models import (
    public_include_name,
    public_metadata,
    tenant_include_name,
    tenant_metadata,
    unqualified,
)
from tenants.migrate import head, schema_versions
from tenants.template import template_state
from tests.support import tenant_scripts_with


@pytest.mark.parametrize("directory", ["public", "tenant"])
def test_single_head(directory):
    config = AlembicConfig()
    config.set_main_option("script_location", str(ROOT / "migrations" / directory))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def thirty(app, make_tenant):
    return [make_tenant() for _ in range(30)]


@pytest.fixture
def scripts_with_extra(app, tmp_path):
    """A copy of the tenant scripts with one more (additive) revision, made current."""
    with tenant_scripts_with(
        app,
        tmp_path,
        "9001",
        "a column added to pages.",
        '    op.add_column("pages", sa.Column("summary", sa.Text(), nullable=True))',
        '    op.drop_column("pages", "summary")',
    ) as location:
        yield location


def test_fan_out_continues_past_a_broken_schema_and_skips_heads(
    ctx, runner, thirty, scripts_with_extra
):
    previous = head()  # the real head: the schemas' revision before the extra one
    broken = thirty[7]
    # the column exists already in one schema: its migration fails there, and only there
    db.session.execute(text(f'ALTER TABLE "{broken.schema}".pages ADD COLUMN summary text'))
    db.session.commit()

    first = runner.invoke(args=["tenants", "migrate", "--jobs", "2"])
    assert first.exit_code == 1
    assert "29 migrated, 1 failed" in first.output
    assert "template schema tenant_template at head 9001" in first.output  # migrated first
    assert template_state(db.session.connection())[1] == "9001"
    db.session.rollback()
    assert f"FAILED {broken.schema}: ProgrammingError" in first.output
    assert "already exists" in first.output

    status = runner.invoke(args=["tenants", "status", "--json"])
    report = json.loads(status.output)
    assert report["head"] == "9001"
    states = {r["slug"]: r for r in report["schemas"]}
    assert states[broken.slug]["behind"] and states[broken.slug]["revision"] == previous
    assert all(states[t.slug]["revision"] == "9001" for t in thirty if t.slug != broken.slug)

    second = runner.invoke(args=["tenants", "migrate"])
    assert second.exit_code == 1
    assert "1 to migrate" in second.output and "0 migrated, 1 failed" in second.output

    db.session.execute(text(f'ALTER TABLE "{broken.schema}".pages DROP COLUMN summary'))
    db.session.commit()
    third = runner.invoke(args=["tenants", "migrate", "--tenant", broken.slug])
    assert third.exit_code == 0, third.output
    assert "1 migrated, 0 failed" in third.output
    columns = db.session.execute(
        text(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'summary' "
            "AND table_schema = ANY(:s)"
        ),
        {"s": [t.schema for t in thirty]},
    ).scalar()
    assert columns == 30
    db.session.rollback()


def test_migrate_with_nothing_to_do_and_unknown_tenant(runner, make_tenant):
    make_tenant()
    result = runner.invoke(args=["tenants", "migrate"])
    assert result.exit_code == 0 and "0 to migrate" in result.output
    unknown = runner.invoke(args=["tenants", "migrate", "--tenant", "nope_nope"])
    assert unknown.exit_code == 1 and "no territory" in unknown.output


def test_a_schema_without_version_table_counts_as_behind(ctx, make_tenant):
    town = make_tenant()
    versions = schema_versions(db.session.connection(), [town.schema, "t_missing"])
    assert versions == {town.schema: head(), "t_missing": None}
    db.session.rollback()


def test_public_migrations_match_the_models(ctx):
    with db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"include_name": public_include_name})
        assert compare_metadata(mc, public_metadata) == []


def test_provisioned_schema_matches_the_tenant_models(ctx, make_tenant):
    town = make_tenant()
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f'SET LOCAL search_path TO "{town.schema}", public')
        conn.dialect.default_schema_name = town.schema
        try:
            mc = MigrationContext.configure(conn, opts={"include_name": tenant_include_name})
            assert compare_metadata(mc, unqualified(tenant_metadata)) == []
        finally:
            conn.dialect.default_schema_name = "public"
        conn.rollback()
