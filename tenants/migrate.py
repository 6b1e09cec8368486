"""Migrations of territory schemas: one schema at a time, or fanned out over all of them."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from core.config import ROOT
from core.tenancy import quote

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

TENANT_SCRIPTS = ROOT / "migrations" / "tenant"


@cache
def script_directory(location: str | None = None) -> ScriptDirectory:
    # heavy (alembic and its templates): imported when a territory's schema is migrated
    from alembic.config import Config as AlembicConfig  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    config = AlembicConfig()
    config.set_main_option("script_location", str(location or TENANT_SCRIPTS))
    return ScriptDirectory.from_config(config)


def head(location: str | None = None) -> str:
    return script_directory(location).get_current_head()


_HAS_TABLE = text(
    "SELECT to_regclass(format('%I.%I', CAST(:schema AS text), CAST(:table AS text))) IS NOT NULL"
)


@cache
def _schema_migration_context() -> type:
    """Alembic's migration context, its version-table check made one index lookup.

    The generic check (SQLAlchemy's has_table) compares pg_class names as varchar, so it reads
    the whole of pg_class: 20 ms a schema once there are 500 territories, half the cost of an
    additive migration of one schema. Made on first use: alembic is heavy for start-up.
    """
    from alembic.migration import MigrationContext  # noqa: PLC0415

    class SchemaMigrationContext(MigrationContext):
        def _has_version_table(self) -> bool:
            found = self.connection.execute(
                _HAS_TABLE, {"schema": self.version_table_schema, "table": self.version_table}
            )
            return bool(found.scalar())

    return SchemaMigrationContext


def upgrade_schema(
    connection, schema: str, target: str = "head", location: str | None = None
) -> None:
    """Bring `schema` to `target` inside the connection's current transaction."""
    # heavy (alembic), imported when a schema is migrated; alembic_helpers registers
    # op.create_geospatial_table & co. for the migration scripts.
    import geoalchemy2.alembic_helpers  # noqa: F401, PLC0415
    from alembic.operations import Operations  # noqa: PLC0415

    script = script_directory(location)
    connection.exec_driver_sql(f"SET LOCAL search_path TO {quote(schema)}, public")

    def upgrade(rev, context):
        return script._upgrade_revs(target, rev)

    # What MigrationContext.configure does for a connection, with this class (it names its own).
    context = _schema_migration_context()(
        connection.dialect,
        connection,
        {"script": script, "fn": upgrade, "version_table_schema": schema},
    )
    with Operations.context(context):
        context.run_migrations()


_VERSIONS_SQL = text(
    """
    SELECT n.nspname AS schema,
           (xpath('/table/row/version_num/text()',
                  query_to_xml(format('SELECT version_num FROM %I.alembic_version', n.nspname),
                               false, false, '')))[1]::text AS version
    FROM pg_namespace n
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'alembic_version' AND c.relkind = 'r'
    WHERE n.nspname = ANY(:schemas)
    """
)


def schema_versions(connection, schemas: list[str]) -> dict[str, str | None]:
    """Every schema's revision, in one query (None: no version table, or no such schema)."""
    found = dict(connection.execute(_VERSIONS_SQL, {"schemas": schemas}).all())
    return {s: found.get(s) for s in schemas}


@dataclass
class Outcome:
    schema: str
    error: str | None = None


_worker: dict = {}


def _engine(url: str):
    """One connection, kept from schema to schema: a new one per schema costs its connection
    and a server process with cold catalogue caches, more than many migrations themselves."""
    return create_engine(url, pool_size=1, max_overflow=0)


def _init_worker(url: str, location: str | None) -> None:
    _worker.update(engine=_engine(url), location=location)


def _migrate_in_worker(schema: str) -> Outcome:
    return migrate_one(_worker["engine"], schema, _worker["location"])


def migrate_one(engine, schema: str, location: str | None = None) -> Outcome:
    """Migrate one schema in its own transaction; a failure is reported, never raised."""
    try:
        with engine.begin() as connection:
            upgrade_schema(connection, schema, location=location)
    except Exception as exc:  # noqa: BLE001 - reported per schema, the fan-out goes on
        return failed(schema, exc)
    return Outcome(schema)


def failed(schema: str, exc: Exception) -> Outcome:
    """A schema's failure as the fan-out reports it: the exception's kind and first line."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Outcome(schema, f"{type(exc).__name__}: {message}"[:500])


def migrate_many(
    url: str, schemas: list[str], jobs: int = 1, progress=None, location: str | None = None
) -> list[Outcome]:
    """Migrate `schemas` with `jobs` processes (alembic's `op` is process-global)."""
    outcomes = []
    if jobs <= 1 or len(schemas) <= 1:
        engine = _engine(url)
        try:
            for schema in schemas:
                outcomes.append(migrate_one(engine, schema, location))
                if progress:
                    progress(1)
        finally:
            engine.dispose()
        return outcomes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(url, location)
    ) as pool:
        futures = [pool.submit(_migrate_in_worker, schema) for schema in schemas]
        for future in as_completed(futures):
            outcomes.append(future.result())
            if progress:
                progress(1)
    return outcomes
