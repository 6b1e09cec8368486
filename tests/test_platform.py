"""Health and readiness, structured logs, settings."""

from __future__ import annotations

import json
import logging

from flask import g
from pythonjsonlogger.json import JsonFormatter

from application import create_app
from core.config import Config
from core.logs import ContextFilter
from core.tenancy import tenant_scope
from tests.support import TEST_REDIS_URL, host, settings_for_tests


def test_healthz_and_readyz(client, make_tenant):
    town = make_tenant()
    assert client.get("/healthz", headers={"Host": host(town)}).json == {"status": "ok"}
    assert client.get("/healthz", headers={"Host": "inconnu.vivrau.localhost"}).status_code == 200
    ready = client.get("/readyz", headers={"Host": "admin.vivrau.localhost"})
    assert ready.status_code == 200 and ready.json == {"status": "ok"}


def test_readyz_says_what_is_down(tmp_path_factory):
    broken = create_app(
        settings_for_tests(
            tmp_path_factory,
            REDIS_URL="redis://127.0.0.1:9/0",
            DATABASE_URL="postgresql://root@127.0.0.1:9/nowhere",
            # one rate-limiter object per process: keep its storage the working one
            RATELIMIT_STORAGE_URI=TEST_REDIS_URL,
        )
    )
    response = broken.test_client().get("/readyz", headers={"Host": "admin.vivrau.localhost"})
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert set(response.json["reasons"]) == {"database", "redis"}


def test_request_id_is_echoed_or_made(client, make_tenant):
    town = make_tenant()
    given = client.get("/", headers={"Host": host(town), "X-Request-ID": "abc12345-req"})
    assert given.headers["X-Request-ID"] == "abc12345-req"
    made = client.get("/", headers={"Host": host(town), "X-Request-ID": "bad id <script>"})
    assert len(made.headers["X-Request-ID"]) == 32


def test_log_lines_carry_tenant_and_request_id(app, make_tenant):
    town = make_tenant()
    record = logging.LogRecord("vivrau", logging.INFO, __file__, 1, "import done", (), None)
    with app.test_request_context("/", headers={"Host": host(town)}):
        g.request_id = "req-123456"
        with tenant_scope(town):
            ContextFilter().filter(record)
    line = json.loads(JsonFormatter("%(message)s %(tenant)s %(request_id)s").format(record))
    assert line == {"message": "import done", "tenant": town.slug, "request_id": "req-123456"}


def test_settings_from_environment(tmp_path):
    config = Config.from_env(
        {
            "BASE_DOMAIN": "vivrau.fr",
            "TENANT_CACHE_SECONDS": "2.5",
            "DB_POOL_SIZE": "9",
            "SESSION_COOKIE_SECURE": "true",
            "TRUSTED_HOSTS": "www.mairie-murat.fr, .murat.fr",
            "DATABASE_URL": "postgres://u@db/x",
            "VAR_DIR": str(tmp_path),
        }
    )
    flask_config = config.to_flask()
    assert flask_config["TRUSTED_HOSTS"] == [
        ".vivrau.fr",
        "vivrau.fr",
        "www.mairie-murat.fr",
        ".murat.fr",
    ]
    assert flask_config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/x"
    assert flask_config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 9
    assert config.TENANT_CACHE_SECONDS == 2.5 and config.SESSION_COOKIE_SECURE is True
    key = flask_config["SECRET_KEY"]
    assert len(key) > 40 and (tmp_path / "secret_key").read_text() == key
    assert Config.from_env({"VAR_DIR": str(tmp_path)}).to_flask()["SECRET_KEY"] == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
