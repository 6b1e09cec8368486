"""The Citus schema-sharding rule, checked over the models."""

from __future__ import annotations

from migrations.models import public_metadata, tenant_metadata

#: Public tables a territory table may reference: national reference data only.
NATIONAL_REFERENCE = {
    name for name, table in public_metadata.tables.items() if table.info.get("national_reference")
}


def test_tenant_tables_reference_only_their_schema_or_national_reference():
    for table in tenant_metadata.tables.values():
        for fk in table.foreign_keys:
            target = fk.column.table
            assert target.schema == "tenant" or target.name in NATIONAL_REFERENCE, (
                f"{table.name}.{fk.parent.name} references {target.fullname}"
            )


def test_no_public_table_references_a_tenant_table():
    for table in public_metadata.tables.values():
        assert table.schema is None, f"{table.name} must live in the default (public) schema"
        for fk in table.foreign_keys:
            assert fk.column.table.schema != "tenant", (
                f"{table.name}.{fk.parent.name} references tenant table {fk.column.table.name}"
            )


def test_tenant_and_public_table_names_never_collide():
    """Inside a territory `search_path` puts its schema first: a shared name would shadow."""
    tenant_names = {t.name for t in tenant_metadata.tables.values()}
    assert tenant_names.isdisjoint(t.name for t in public_metadata.tables.values())
    assert "alembic_version" not in tenant_names


def test_every_tenant_table_is_declared_in_the_placeholder_schema():
    assert tenant_metadata.tables
    assert all(t.schema == "tenant" for t in tenant_metadata.tables.values())
