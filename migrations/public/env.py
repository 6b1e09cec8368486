"""Alembic environment of the public schema (platform tables and national reference data)."""

from alembic import context
from flask import current_app
from geoalchemy2 import alembic_helpers

from migrations.models import public_include_name, public_metadata


def run_migrations_online() -> None:
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=public_metadata,
            include_name=public_include_name,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline mode is not supported: run against a database")
run_migrations_online()
