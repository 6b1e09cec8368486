"""Alembic environment of territory schemas, used to write new revisions (`flask tenants revision`).

Running migrations goes through `tenants.migrate.upgrade_schema`, not through this file.
Autogenerate compares the models with a scratch schema brought to head first, then dropped.
"""

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

from migrations.models import tenant_include_name, tenant_metadata, unqualified
from tenants.migrate import upgrade_schema

SCRATCH = "t_autogenerate"


def run() -> None:
    engine = current_app.extensions["migrate"].db.engine
    location = current_app.config["TENANT_MIGRATIONS"]
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCRATCH}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{SCRATCH}"')
        upgrade_schema(connection, SCRATCH, location=location)
        context.configure(
            connection=connection,
            target_metadata=unqualified(tenant_metadata),
            version_table_schema=SCRATCH,
            include_name=tenant_include_name,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.rollback()  # the scratch schema never outlives the command


run()
