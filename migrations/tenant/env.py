"""Alembic environment of territory schemas, used to write new revisions (`flask tenants revision`).

Running migrations goes through `tenants.migrate.upgrade_schema`, not through this file.
Autogenerate compares the models with a scratch schema brought to head first.
"""

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers
from sqlalchemy import MetaData

from migrations.models import public_metadata, tenant_metadata
from tenants.migrate import upgrade_schema

SCRATCH = "t_autogenerate"
#: Tables visible through `search_path` that are not the territory's.
NOT_TENANT = set(public_metadata.tables) | {
    "alembic_version", "spatial_ref_sys", "geography_columns", "geometry_columns"
}


def include_name(name, type_, parent_names):
    return type_ != "table" or name not in NOT_TENANT


def unqualified(metadata: MetaData) -> MetaData:
    """The tenant tables without their placeholder schema, as they are inside a territory schema."""
    out = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(out, schema=None)
    return out


def run() -> None:
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCRATCH}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{SCRATCH}"')
        upgrade_schema(connection, SCRATCH, location=current_app.config["TENANT_MIGRATIONS"])
        context.configure(
            connection=connection,
            target_metadata=unqualified(tenant_metadata),
            version_table_schema=SCRATCH,
            include_name=include_name,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.rollback()  # the scratch schema never outlives the command


run()
