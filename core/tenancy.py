"""The current territory: slug validation, binding to a schema, and Host → territory resolution."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from threading import Lock
from weakref import WeakKeyDictionary

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
#: Host labels kept for the platform itself, never given to a territory.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "www", "static", "mail", "smtp", "imap", "ftp", "status", "docs", "public"}
)


class TenancyError(RuntimeError):
    """Base for misuse of tenant binding."""


class TenantNotBound(TenancyError):
    """A territory's table was touched with no territory bound."""


class TenantSwitchError(TenancyError):
    """The bound territory changed while a transaction was open."""


class InvalidSlug(ValueError):
    """A slug that cannot name a territory."""


@dataclass(frozen=True, slots=True)
class TenantRef:
    """What a request or job needs to know about its territory, detached from any session."""

    id: int
    slug: str
    name: str
    kind: str
    status: str
    schema: str
    theme: str
    locale: str
    #: "open" or "staged" (core.registry.Tenant.site_access).
    site_access: str = "open"

    @property
    def active(self) -> bool:
        return self.status == "active"


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise InvalidSlug(
            f"invalid slug {slug!r}: 2 to 41 characters, lower-case letters, digits and "
            "underscores, starting with a letter"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidSlug(f"invalid slug {slug!r}: reserved for the platform")
    return slug


def slug_of(name: str) -> str:
    """The slug a person means when they type a host label: `Pvd-Cantal` → `pvd_cantal`
    (`host_label` turned back; not checked here)."""
    return name.strip().lower().replace("-", "_")


def schema_for(slug: str) -> str:
    """The schema name is derived, never taken from input."""
    return "t_" + validate_slug(slug)


def host_label(slug: str) -> str:
    """Underscores are not valid in host names: `saint_flour` is served on `saint-flour.`."""
    return validate_slug(slug).replace("_", "-")


#: The schema every new territory's schema is cloned from, kept at the territories' head revision.
#: Not shaped like `t_<slug>`, so no territory can ever be given its name.
TEMPLATE_SCHEMA = "tenant_template"


def quote(schema: str) -> str:
    if schema != TEMPLATE_SCHEMA and not re.fullmatch(r"t_[a-z][a-z0-9_]{1,40}", schema):
        raise InvalidSlug(f"not a territory schema: {schema!r}")
    return f'"{schema}"'


# --- binding ------------------------------------------------------------------------------

_current: ContextVar[TenantRef | None] = ContextVar("current_tenant", default=None)


def current_tenant() -> TenantRef | None:
    return _current.get()


def current_schema() -> str | None:
    tenant = _current.get()
    return tenant.schema if tenant is not None else None


def require_tenant() -> TenantRef:
    tenant = _current.get()
    if tenant is None:
        raise TenantNotBound("no territory is bound")
    return tenant


@contextmanager
def tenant_scope(tenant: TenantRef | None) -> Iterator[TenantRef | None]:
    """Bind `tenant` for the block (None binds no territory), restoring the previous one."""
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)


def bind(tenant: TenantRef | None):
    """Bind for the rest of a request; returns the token `unbind` needs."""
    return _current.set(tenant)


def unbind(token) -> None:
    _current.reset(token)


_engines: WeakKeyDictionary = WeakKeyDictionary()


def engine_for(engine, schema: str):
    """A view of `engine` sharing its pool, that maps the `tenant` schema to `schema`."""
    views = _engines.get(engine)
    if views is None:
        views = _engines[engine] = {}
    bound = views.get(schema)
    if bound is None:
        bound = views[schema] = engine.execution_options(schema_translate_map={"tenant": schema})
    return bound


# --- host resolution ----------------------------------------------------------------------


def split_host(host: str) -> tuple[str, str]:
    """A Host header's (name, port), the name lower-case without its trailing dot:
    `Demo.Example.org.:8000` → (`demo.example.org`, `8000`); an IPv6 literal stays whole."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        return name + "]", rest[1:] if rest.startswith(":") else ""
    name, sep, port = host.rpartition(":")
    if not sep:
        name, port = host, ""
    return name.rstrip("."), port


def normalize_host(host: str) -> str:
    """The host name alone: `Demo.Example.org.:8000` → `demo.example.org`."""
    return split_host(host)[0]


class HostCache:
    """A small per-process TTL cache of host → TenantRef (or None for unknown hosts)."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._data: dict[str, tuple[float, TenantRef | None]] = {}
        self._lock = Lock()

    def get(self, host: str, load):
        if self.ttl <= 0:
            return load(host)
        now = time.monotonic()
        hit = self._data.get(host)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load(host)
        with self._lock:
            if len(self._data) > 10_000:
                self._data.clear()
            self._data[host] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
