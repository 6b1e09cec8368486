"""What tests share besides fixtures: the test database and Redis, hosts, a password, a visitor
with its own cookies, a real SMTP server's inbox."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import uuid
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_app_context
from rq import SimpleWorker, Worker
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.config import ROOT, database_url
from core.extensions import db
from tenants import entitlements, grants
from tenants.entitlements import OFFER
from tenants.migrate import head

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/vivrau_test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: Every account made by the tests has this password.
PASSWORD = "correct horse battery"
_counter = itertools.count()
_CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class _NoControlChannel:
    """RQ's control channel left out of the tests' workers: its thread waits up to a minute for
    a message before it notices that a burst is over, once a job took more than a moment."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


class InProcessWorker(_NoControlChannel, SimpleWorker):
    """An RQ worker that runs its jobs in the test's process."""


class ForkingWorker(_NoControlChannel, Worker):
    """An RQ worker that forks a work-horse for each job, as in production."""


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
    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            catalogue = read_po(fh)
        with po.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalogue)


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}{next(_counter)}_{uuid.uuid4().hex[:6]}"


def drop_tenants(slugs) -> None:
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
        page = self.get(path).get_data(as_text=True)
        found = _CSRF_FIELD.search(page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/compte/connexion", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def cookies(self) -> set[str]:
        return {c.key for c in self.client._cookies.values()}


class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"

    def mails_to(self, address: str) -> list:
        """The messages received for `address`, parsed (headers and parts)."""
        return [
            message_from_bytes(envelope.content, policy=policy.default)
            for envelope in self.messages
            if address in envelope.rcpt_tos
        ]

    def bodies_to(self, address: str) -> list[str]:
        return [m.get_body(("plain",)).get_content() for m in self.mails_to(address)]

    def link_to(self, address: str, path_part: str) -> str:
        for body in reversed(self.bodies_to(address)):
            found = re.search(r"https?://\S*" + re.escape(path_part) + r"\S*", body)
            if found:
                return found.group(0)
        raise AssertionError(f"no mail to {address} with a link containing {path_part}")


_REVISION = '''"""Test-only: {doc}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


@contextmanager
def tenant_scripts_with(app, folder, revision: str, doc: str, upgrade: str, downgrade: str):
    """A copy of the tenant scripts in `folder` with one more revision after the head, made
    the application's tenant migrations for the duration (bodies indented by the caller)."""
    location = folder / "tenant"
    shutil.copytree(
        ROOT / "migrations" / "tenant", location, ignore=shutil.ignore_patterns("__pycache__")
    )
    source = _REVISION.format(
        doc=doc, revision=revision, down=head(), upgrade=upgrade, downgrade=downgrade
    )
    (location / "versions" / f"{revision}_test.py").write_text(source)
    original = app.config["TENANT_MIGRATIONS"]
    app.config["TENANT_MIGRATIONS"] = str(location)
    try:
        yield str(location)
    finally:
        app.config["TENANT_MIGRATIONS"] = original


def entitle(tenant) -> None:
    """The offer's four items for a year, as a territory being set up is granted (flushed, not
    committed): the test territories' pages are open unless a test says otherwise."""
    start = entitlements.today()
    grants.grant(tenant, list(OFFER), start, start + timedelta(days=365), "tests")
