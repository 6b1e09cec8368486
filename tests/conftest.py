"""Fixtures: one test database (real PostgreSQL/PostGIS), real Redis, throwaway territories."""

from __future__ import annotations

import itertools
import os
import socket
import uuid

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.app import create_app
from core.config import database_url
from core.extensions import db

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_counter = itertools.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wipe(url: str = TEST_DATABASE_URL) -> None:
    """Drop every territory schema and empty the registry."""
    engine = create_engine(database_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        schemas = conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        ).scalars()
        for schema in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        if conn.execute(text("SELECT to_regclass('public.tenants')")).scalar():
            conn.exec_driver_sql(
                "TRUNCATE tenants, tenant_domains, memberships, mail_outbox CASCADE"
            )
    engine.dispose()


def settings_for_tests(tmp_path_factory, **extra) -> dict:
    base = tmp_path_factory.getbasetemp()
    settings = {
        "TESTING": True,
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "TENANT_CACHE_SECONDS": 0,
        "STORAGE_URL": f"file://{base / 'storage'}",
        "SMTP_URL": "smtp://127.0.0.1:9",  # discard port: nothing listens
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "test-secret",
        "VAR_DIR": str(base / "var"),
    }
    settings.update(extra)
    return settings


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    wipe()
    application = create_app(settings_for_tests(tmp_path_factory))
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    wipe()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_conn():
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}{next(_counter)}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def make_tenant(app):
    """Create territories for one test; they are dropped at its end."""
    from tenants.provisioning import TenantSpec, create_tenant

    created: list[str] = []

    def make(
        slug: str | None = None,
        kind: str = "commune",
        code: str | None = "15187",
        name: str | None = None,
        **kwargs,
    ):
        slug = slug or unique_slug()
        if kind == "epci" and code == "15187":
            code = "200066660"
        if kind == "umbrella" and code == "15187":
            code = None
        with app.app_context():
            tenant = create_tenant(TenantSpec(slug, name or f"Ville {slug}", kind, code, **kwargs))
            ref = tenant.ref()
        created.append(slug)
        return ref

    yield make
    drop_tenants(created)


def drop_tenants(slugs) -> None:
    from flask import has_app_context

    if has_app_context():  # a failed test may leave its transaction (and locks) open
        db.session.rollback()
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.begin() as conn:
        for slug in slugs:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "t_{slug}" CASCADE')
            conn.execute(text("DELETE FROM tenants WHERE slug = :s"), {"s": slug})
    engine.dispose()


def host(ref) -> str:
    return ref.slug.replace("_", "-") + ".vivrau.localhost"
