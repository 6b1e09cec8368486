"""Extensions, created unbound here and bound to the application in `create_app`.

Models derive from `core.db.PublicBase` / `TenantBase`, not from `db.Model`: the extension
provides the engine and the request-scoped, tenant-aware session. Redis is optional at run time:
what each feature does while it is away is in the README ("When Redis is down").
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import flask_limiter
from flask import Flask, current_app, request
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter
from redis import Redis
from redis.exceptions import RedisError

from core.config import ROOT
from core.db import TenantSession
from core.tenancy import current_tenant

log = logging.getLogger("vivrau.redis")
T = TypeVar("T")


def client_key() -> str:
    """Rate limits count per territory and client address."""
    tenant = current_tenant()
    return f"{tenant.slug if tenant else 'platform'}:{request.remote_addr or '-'}"


db = SQLAlchemy(session_options={"class_": TenantSession})
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


class RedisWatch:
    """What a process knows of Redis: once it failed to answer, the callers that can do without
    it (rate limits, the search cache, work a sweep also finds) skip it for REDIS_RETRY_SECONDS
    rather than each waiting REDIS_TIMEOUT, then try it again. One warning per outage."""

    def __init__(self, retry_seconds: float):
        self.retry_seconds = retry_seconds
        self._retry_at = 0.0
        self._away_since: float | None = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        """Whether to try Redis now: it answered last time, or it is time to try it again."""
        return time.monotonic() >= self._retry_at

    def failed(self, what: str, error: Exception) -> None:
        """Redis did not answer `what`: skip it for a while, and say so once per outage."""
        now = time.monotonic()
        with self._lock:
            self._retry_at = now + self.retry_seconds
            first = self._away_since is None
            if first:
                self._away_since = now
        if first:
            log.warning(
                "Redis does not answer (%s): carrying on without it, trying again every %s s: %s",
                what,
                self.retry_seconds,
                error,
            )

    def answered(self) -> None:
        """Redis answered: the outage, if there was one, is over."""
        if self._away_since is None:
            return
        with self._lock:
            since, self._away_since = self._away_since, None
        if since is not None:
            log.info("Redis answers again, after %.0f s away", time.monotonic() - since)


def redis_watch(app: Flask | None = None) -> RedisWatch:
    """The application's RedisWatch (one per application, hence one per process)."""
    app = app or current_app._get_current_object()
    watch = app.extensions.get("redis_watch")
    if watch is None:
        watch = app.extensions["redis_watch"] = RedisWatch(app.config["REDIS_RETRY_SECONDS"])
    return watch


def redis_connection() -> Redis:
    """The application's Redis client (queues, cache tokens), made once per application. It
    gives up after REDIS_TIMEOUT seconds, so nothing hangs on a Redis that does not answer (an
    RQ worker lengthens the read timeout itself for its blocking waits)."""
    app = current_app._get_current_object()
    conn = app.extensions.get("redis")
    if conn is None:
        timeout = app.config["REDIS_TIMEOUT"]
        conn = app.extensions["redis"] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout
        )
    return conn


def with_redis(what: str, work: Callable[[Redis], T], fallback: T) -> T:
    """`work(redis)`, or `fallback` while Redis is away: skipped as long as the watch says so,
    and a failure here starts (or extends) the outage for every caller of this process."""
    watch = redis_watch()
    if not watch.available():
        return fallback
    try:
        result = work(redis_connection())
    except RedisError as error:
        watch.failed(what, error)
        return fallback
    watch.answered()
    return result


class RateCounters:
    """Rate-limit counters (a `limits` strategy): in Redis, shared by every process; while Redis
    does not answer, the same limits counted in this process's memory, never no limit at all (a
    login keeps its limits per address and per account, each process counting on its own)."""

    def __init__(self, shared: RateLimiter, watch: RedisWatch):
        self.shared, self.watch = shared, watch
        self.local = type(shared)(MemoryStorage())

    def _count(self, method: str, *args, **kwargs):
        if self.watch.available():
            try:
                result = getattr(self.shared, method)(*args, **kwargs)
            except StorageError as error:
                self.watch.failed("rate limits", error)
            else:
                self.watch.answered()
                return result
        return getattr(self.local, method)(*args, **kwargs)

    def hit(self, item, *identifiers: str, cost: int = 1) -> bool:
        return self._count("hit", item, *identifiers, cost=cost)

    def test(self, item, *identifiers: str, cost: int = 1) -> bool:
        return self._count("test", item, *identifiers, cost=cost)

    def get_window_stats(self, item, *identifiers: str):
        return self._count("get_window_stats", item, *identifiers)

    def clear(self, item, *identifiers: str) -> None:
        return self._count("clear", item, *identifiers)


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter counting through RateCounters: the decorators' limits and those the API
    guards count themselves (`limiter.limiter.hit`) all carry on in memory while Redis is away.
    Flask-Limiter's own fallback covers only the decorators' limits and returns to Redis on a
    schedule of its own; swallowing its errors (RATELIMIT_SWALLOW_ERRORS) would mean no limit
    at all while Redis is away, which no login can afford."""

    _counters: RateCounters | None = None

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        if self._limiter is not None:  # None when RATELIMIT_ENABLED is off
            self._counters = RateCounters(self._limiter, redis_watch(app))

    @property
    def limiter(self) -> RateCounters:
        return self._counters


def bind_migrations(app: Flask) -> None:
    """Bind Flask-Migrate to `app` (what `flask db …` and the public schema's env.py read), once.
    On demand rather than in `create_app`: alembic would cost every command's start-up."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate  # noqa: PLC0415 - heavy: alembic, when migrating

        Migrate(app, db, directory=str(ROOT / "migrations" / "public"))


login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)
