"""The territory schema template: kept at the tenant head, cloned to make each new territory.

Replaying every tenant migration for each new territory costs an Alembic run per creation; the
template is migrated once (by `flask tenants migrate`, or by the first creation that finds it
missing or behind) and a creation copies it with the DDL read from its catalogue
(`tenants.clone`), kept in memory for as long as the template stays the same schema at the
same revision.

Locking: building or upgrading the template takes an exclusive advisory lock in its own
transaction; a clone holds the same lock shared until its creation commits. So two creations
never build the template twice, and no clone ever reads a template halfway through a change.
"""

from __future__ import annotations

from sqlalchemy import text

from core.tenancy import TEMPLATE_SCHEMA, quote
from tenants.clone import CloneError, schema_ddl
from tenants.migrate import Outcome, failed, head, script_directory, upgrade_schema

_LOCK_KEY = f"vivrau:{TEMPLATE_SCHEMA}"
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_LOCK_SHARED = text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:key, 0))")

# The schema's oid tells a rebuilt template from the one whose DDL is kept.
_STATE = text(
    """
    SELECT n.oid,
           CASE WHEN c.oid IS NOT NULL THEN
               (xpath('/table/row/version_num/text()',
                      query_to_xml(format('SELECT version_num FROM %I.alembic_version',
                                          n.nspname), false, false, '')))[1]::text
           END AS version
    FROM pg_namespace n
    LEFT JOIN pg_class c
           ON c.relnamespace = n.oid AND c.relname = 'alembic_version' AND c.relkind = 'r'
    WHERE n.nspname = :schema
    """
)

_DESCRIPTION = (
    "Template of the territory schemas: kept at the tenant head revision, "
    "cloned for every new territory. Holds no data of any territory."
)

_ddl: dict[tuple[int, str], list[str]] = {}


def template_state(connection) -> tuple[int | None, str | None]:
    """The template schema's oid and revision (None, None when it does not exist)."""
    row = connection.execute(_STATE, {"schema": TEMPLATE_SCHEMA}).first()
    return (row.oid, row.version) if row else (None, None)


def _revisions(location: str | None) -> set[str]:
    """The revisions the template can be upgraded from: the head and its ancestors."""
    return {script.revision for script in script_directory(location).walk_revisions()}


def ensure_template(engine, location: str | None = None) -> bool:
    """Bring the template to head in a transaction of its own; True if it had to change.

    A template at an unknown revision (made from other migration scripts) is built afresh.
    """
    target = head(location)
    with engine.connect() as connection:
        if template_state(connection)[1] == target:
            connection.rollback()
            return False
        connection.rollback()
        with connection.begin():
            connection.execute(_LOCK, {"key": _LOCK_KEY})
            _, version = template_state(connection)
            if version == target:  # another process built it while this one waited
                return False
            if version is None or version not in _revisions(location):
                schema = quote(TEMPLATE_SCHEMA)
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
                connection.exec_driver_sql(f"COMMENT ON SCHEMA {schema} IS '{_DESCRIPTION}'")
            upgrade_schema(connection, TEMPLATE_SCHEMA, location=location)
    return True


def migrate_template(engine, location: str | None = None) -> Outcome:
    """`ensure_template` for the fan-out: a failure is reported like a territory's."""
    try:
        ensure_template(engine, location)
    except Exception as exc:  # noqa: BLE001 - reported, the territories' fan-out goes on
        return failed(TEMPLATE_SCHEMA, exc)
    return Outcome(TEMPLATE_SCHEMA)


def clone_template(connection, schema: str, location: str | None = None) -> None:
    """Fill the new, empty `schema` with a copy of the template, inside the connection's
    transaction. The template must be at head (`ensure_template` first, outside it)."""
    target = head(location)
    connection.execute(_LOCK_SHARED, {"key": _LOCK_KEY})
    oid, version = template_state(connection)
    if version != target:
        raise CloneError(
            f"the template schema is at revision {version or 'none'}, not at head {target}: "
            "it changed meanwhile, try again"
        )
    statements = _ddl.get((oid, version))
    if statements is None:
        statements = _ddl[oid, version] = schema_ddl(connection, TEMPLATE_SCHEMA)
    script = [
        f"SET LOCAL search_path TO {quote(schema)}, public",
        "SET LOCAL check_function_bodies = off",  # functions may name tables made after them
        *statements,
    ]
    # Sent as one simple-protocol query: one round trip, and no placeholder parsing of the DDL.
    connection.connection.driver_connection.execute(";\n".join(script))
