"""Declarative bases for the two kinds of tables, and the tenant-aware ORM session.

`PublicBase` tables live in the `public` schema (platform and national reference data); they
are left unqualified, and no territory table may share a public table's name (a test checks).
`TenantBase` tables are declared in the placeholder schema `tenant`; a session bound to a
territory translates it to `t_<slug>` and sets `search_path` for the transaction only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

import flask_sqlalchemy.session
from sqlalchemy import DateTime, MetaData, event, exc, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.util import find_tables

from core import tenancy

TENANT_SCHEMA = "tenant"
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_BOUND = "tenant_schema"
_AFTER_COMMIT = "after_commit"
log = logging.getLogger("vivrau.db")


def utcnow() -> datetime:
    return datetime.now(UTC)


class PublicBase(DeclarativeBase):
    """Platform tables: registry, accounts, billing, national reference data."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class TenantBase(DeclarativeBase):
    """Tables every territory has a copy of, in its own schema."""

    metadata = MetaData(schema=TENANT_SCHEMA, naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Timestamped:
    """created_at / updated_at kept by the database."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=utcnow)


def _touches_tenant(mapper, clause) -> bool:
    if mapper is not None and mapper.persist_selectable.schema == TENANT_SCHEMA:
        return True
    if clause is not None:
        return any(
            getattr(t, "schema", None) == TENANT_SCHEMA
            for t in find_tables(clause, include_crud=True, include_joins=True)
        )
    return False


class TenantSession(flask_sqlalchemy.session.Session):
    """Routes every statement through an engine that maps `tenant` to the bound territory."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is not None:
            return bind
        engine = super().get_bind(mapper=mapper, clause=clause, **kwargs)
        schema = tenancy.current_schema()
        if _BOUND in self.info and self.info[_BOUND] != schema:
            raise tenancy.TenantSwitchError(
                f"this transaction is bound to {self.info[_BOUND] or 'no territory'}; "
                f"commit or roll back before working on {schema or 'no territory'}"
            )
        if schema is None:
            if _touches_tenant(mapper, clause):
                raise tenancy.TenantNotBound(
                    "a territory's table was used with no territory bound (use tenant_scope)"
                )
            return engine
        return tenancy.engine_for(engine, schema)

    def run_after_commit(self, callback: Callable[[], object], key: Hashable = None) -> None:
        """Call `callback` once this session's transaction commits; forget it on rollback.
        Callbacks with the same `key` run once (a change announced twice is announced once)."""
        pending = self.info.setdefault(_AFTER_COMMIT, {})
        pending.setdefault(key if key is not None else object(), callback)

    def commit(self) -> None:
        super().commit()
        pending = self.info.pop(_AFTER_COMMIT, None)
        for callback in (pending or {}).values():
            try:
                callback()
            except Exception:  # noqa: BLE001 - the work is committed: report, never undo it
                log.exception("after-commit work failed: %r", callback)

    def rollback(self) -> None:
        self.info.pop(_AFTER_COMMIT, None)
        super().rollback()

    def close(self) -> None:
        self.info.pop(_AFTER_COMMIT, None)
        super().close()


@event.listens_for(TenantSession, "after_begin")
def _bind_transaction(session, transaction, connection):
    translate = connection.get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(TENANT_SCHEMA)
    session.info[_BOUND] = schema
    if schema is not None:
        # Transaction-scoped: reverted by COMMIT/ROLLBACK, so a pooled connection never
        # carries a territory's search_path to its next user.
        connection.exec_driver_sql(f"SET LOCAL search_path TO {tenancy.quote(schema)}, public")


@event.listens_for(TenantSession, "after_transaction_end")
def _unbind_transaction(session, transaction):
    if transaction.parent is None:
        session.info.pop(_BOUND, None)


def install_fork_guard(engine) -> None:
    """A pooled connection opened before a fork (worker jobs) is never reused after it."""

    @event.listens_for(engine, "connect")
    def _remember_pid(dbapi_connection, record):
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_pid(dbapi_connection, record, proxy):
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise exc.DisconnectionError("connection opened by another process")
