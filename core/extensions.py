"""Extensions, created unbound here and bound to the application in `create_app`.

Models derive from `core.db.PublicBase` / `TenantBase`, not from `db.Model`: the extension
provides the engine and the request-scoped, tenant-aware session.
"""

from flask import current_app, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis

from core.db import TenantSession
from core.tenancy import current_tenant


def client_key() -> str:
    """Rate limits count per territory and client address."""
    tenant = current_tenant()
    return f"{tenant.slug if tenant else 'platform'}:{request.remote_addr or '-'}"


db = SQLAlchemy(session_options={"class_": TenantSession})
migrate = Migrate()
babel = Babel()
#: gzip/brotli/zstd for pages, JSON, CSS and JS (the map page's weight budget counts on it).
compress = Compress()
#: Files up to this size are read whole so that they can be compressed.
BUFFERED_FILE_MAX = 2 * 1024 * 1024


def buffer_small_files(response):
    """A static file is served as a stream that Flask-Compress leaves alone: read a small,
    compressible one into memory (closing it) so that it goes out compressed."""
    if (
        response.direct_passthrough
        and response.status_code == 200
        and response.mimetype in compress.compress_mimetypes_set
        and response.content_length is not None
        and response.content_length <= BUFFERED_FILE_MAX
    ):
        body = response.response
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        response.direct_passthrough = False
        response.set_data(data)
    return response


login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)


def redis_connection() -> Redis:
    """The application's Redis client (queues, cache tokens), made once per application."""
    app = current_app._get_current_object()
    conn = app.extensions.get("redis")
    if conn is None:
        conn = app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])
    return conn
