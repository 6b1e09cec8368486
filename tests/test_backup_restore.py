"""Backup → delete → restore gives back the same rows; restore under a new slug."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core.extensions import db
from core.registry import get_by_slug
from core.storage import get_storage
from core.tenancy import tenant_scope
from sites.models import Page
from tests.support import drop_tenants, entitle, host, unique_slug


def rows(ref):
    with tenant_scope(ref):
        out = [
            (p.id, p.slug, p.title, p.body, p.published, p.created_at)
            for p in db.session.execute(select(Page).order_by(Page.id)).scalars()
        ]
        db.session.rollback()
    return out


def fill(ref, n=5):
    with tenant_scope(ref):
        for i in range(n):
            db.session.add(Page(slug=f"p{i}", title=f"Page « {i} » d'{ref.name}", body="é" * i))
        db.session.commit()


def test_backup_delete_restore_gives_identical_rows(ctx, runner, client, tmp_path):
    slug = unique_slug("bk")
    try:
        result = runner.invoke(
            args=[
                "tenants",
                "create",
                "--slug",
                slug,
                "--name",
                "Salers l'ancienne",
                "--kind",
                "commune",
                "--code",
                "15219",
            ]
        )
        assert result.exit_code == 0, result.output
        ref = get_by_slug(db.session, slug).ref()
        db.session.rollback()
        fill(ref)
        before = rows(ref)
        deleted = runner.invoke(args=["tenants", "delete", slug, "--yes"])
        assert deleted.exit_code == 0, deleted.output
        key = deleted.output.strip().rsplit(" ", 1)[1]
        assert key.startswith(f"tenants/{slug}/backups/")
        assert get_by_slug(db.session, slug) is None
        assert (
            db.session.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :n"), {"n": f"t_{slug}"}
            ).scalar()
            == 0
        )
        db.session.rollback()
        dump = tmp_path / "from-storage.dump"
        dump.write_bytes(get_storage().get(key))
        restored = runner.invoke(args=["tenants", "restore", slug, str(dump)])
        assert restored.exit_code == 0, restored.output
        tenant = get_by_slug(db.session, slug)
        assert (tenant.name, tenant.kind.value, tenant.official_code) == (
            "Salers l'ancienne",
            "commune",
            "15219",
        )
        ref2 = tenant.ref()
        # A new registry row: what it may use is granted again (its grants went with the old).
        entitle(tenant)
        db.session.commit()
        assert rows(ref2) == before
        assert client.get("/pages/p3", headers={"Host": host(ref2)}).status_code == 200
    finally:
        drop_tenants([slug])


def test_restore_under_a_new_slug_while_the_source_lives(ctx, runner, make_tenant, tmp_path):
    source = make_tenant(name="Pleaux", code="15153")
    fill(source, 3)
    dump = tmp_path / "pleaux.dump"
    assert runner.invoke(args=["tenants", "backup", source.slug, str(dump)]).exit_code == 0
    copy = unique_slug("copy")
    try:
        result = runner.invoke(
            args=[
                "tenants",
                "restore",
                copy,
                str(dump),
                "--name",
                "Pleaux (copie)",
                "--kind",
                "commune",
                "--code",
                "15153",
            ]
        )
        assert result.exit_code == 0, result.output
        ref = get_by_slug(db.session, copy).ref()
        db.session.rollback()
        assert rows(ref) == rows(source)
        with tenant_scope(source):  # the source is untouched and still its own
            db.session.add(Page(slug="only-source", title="x"))
            db.session.commit()
        assert len(rows(source)) == len(rows(ref)) + 1
    finally:
        drop_tenants([copy])


def test_restore_refuses_a_schema_in_use(ctx, runner, make_tenant, tmp_path):
    town = make_tenant()
    fill(town, 1)
    dump = tmp_path / "t.dump"
    assert runner.invoke(args=["tenants", "backup", town.slug, str(dump)]).exit_code == 0
    result = runner.invoke(args=["tenants", "restore", town.slug, str(dump)])
    assert result.exit_code == 1 and "not empty" in result.output
    assert len(rows(town)) == 1


def test_restore_refuses_a_file_that_is_no_backup(ctx, runner, tmp_path):
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("not a dump")
    result = runner.invoke(args=["tenants", "restore", unique_slug(), str(bogus)])
    assert result.exit_code == 1 and result.output.startswith("Error: pg_restore failed")


@pytest.fixture(autouse=True)
def _no_leftover_hold_schema(ctx):
    yield
    assert not db.session.execute(
        text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_restore\\_hold%'")
    ).scalar()
    db.session.rollback()
