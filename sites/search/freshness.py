"""Whether a process's cached search matrix is still current: version tokens in Redis, and a
subscription that hears every change as it is made.

Tokens
    A national token (bumped when `profiles_changed` is announced), one for the set of
    territories (`territories_changed`: a wider territory's member sites may have changed) and,
    per territory, one for its cells (`cells_changed`) and one for its listings
    (`listings_changed`, announced by every write path of listings). The signals (core.signals)
    are sent after the commit. A token is a fresh random value, not a counter: an emptied Redis
    never brings an old value back. A token that could not be bumped while Redis was away is
    bumped when Redis answers again (the next check or bump of the process that missed it): a
    Redis restarted with its old tokens never leaves another process's matrix stale.

Hearing changes
    Each bump also publishes on one channel. Every process keeps a thread subscribed to it
    (one per Redis server, started by the first search of the process), which counts what it
    hears. A matrix whose tokens were checked while subscribed is trusted, without asking Redis,
    until the thread hears anything (a bump anywhere, its subscription lost or made again) or
    VERIFY_SECONDS pass (what a flushed Redis would not announce). So a search pays no Redis
    round trip for its cache in the steady state; while the subscription is down, each search
    reads the tokens again, as it always did.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

from core import signals
from core.extensions import redis_connection, redis_watch
from core.tenancy import TenantRef

log = logging.getLogger(__name__)

PREFIX = "vivrau:search:"
CHANNEL = f"{PREFIX}bumps"
#: A trusted matrix's tokens are read again after this long (seconds), heard of or not.
VERIFY_SECONDS = 5.0
#: How long the listener waits before subscribing again after losing Redis (seconds).
_RECONNECT_SECONDS = (0.2, 5.0)

#: Tokens this process could not bump while Redis was away, bumped when it answers again.
_missed: set[str] = set()
_missed_lock = threading.Lock()


def keys(slug: str, members: tuple[str, ...]) -> list[str]:
    """The tokens a territory's matrix depends on: a communauté's, département's or umbrella's
    include its member sites' listings, and every one the set of territories (a commune site
    created within a communauté is a new member, rare enough to reload every matrix)."""
    found = [f"{PREFIX}profiles", f"{PREFIX}territories", f"{PREFIX}cells:{slug}"]
    return found + [f"{PREFIX}listings:{s}" for s in (slug, *members)]


def tokens(slug: str, members: tuple[str, ...]) -> tuple | None:
    """The tokens now, or None while Redis is away (then matrices are trusted for a while)."""
    watch = redis_watch()
    if not watch.available():
        return None
    try:
        conn = redis_connection()
        if _missed:
            _bump_missed(conn)
        found = tuple(conn.mget(keys(slug, members)))
    except RedisError as error:
        watch.failed("search cache", error)
        return None
    watch.answered()
    return found


def _bump(*names: str) -> None:
    with _missed_lock:
        _missed.update(names)
    for listener in list(_listeners.values()):  # this process's own matrices, Redis or not
        listener.heard()
    watch = redis_watch()
    if not watch.available():
        return  # the matrices are trusted only a while as long as Redis is away
    try:
        _bump_missed(redis_connection())
    except RedisError as error:
        watch.failed("search cache", error)
    else:
        watch.answered()


def _bump_missed(conn: Redis) -> None:
    # Under the lock: a key added during the write stays missed, never wrongly crossed off.
    with _missed_lock:
        if _missed:  # another thread may have bumped them meanwhile
            pipe = conn.pipeline(transaction=False)
            pipe.mset(dict.fromkeys(_missed, uuid.uuid4().hex[:12]))
            pipe.publish(CHANNEL, "bump")  # after the tokens: whoever hears it reads new ones
            pipe.execute()
            _missed.clear()


@signals.profiles_changed.connect
def profiles_changed(sender=None, **_data) -> None:
    """The national profiles changed (build-profiles, loaders): every matrix reloads."""
    _bump(f"{PREFIX}profiles")


@signals.cells_changed.connect
def cells_changed(tenant: TenantRef, **_data) -> None:
    """A territory's cells changed (refresh_cells): its matrix and its layer order reload."""
    _bump(f"{PREFIX}cells:{tenant.slug}")


@signals.territories_changed.connect
def territories_changed(tenant: TenantRef, **_data) -> None:
    """A territory was created, deleted or restored, its status or an umbrella's members
    changed: wider territories' members are read again."""
    _bump(f"{PREFIX}territories")


@signals.listings_changed.connect
def listings_changed(tenant: TenantRef, **_data) -> None:
    """A territory's listings changed (announced after the commit: bumped before it, a
    concurrent search could cache the old rows under the new token): its matrix and those of
    the wider territories it belongs to (umbrellas, communauté, département), which read its
    tokens, reload."""
    _bump(f"{PREFIX}listings:{tenant.slug}")


# --- hearing bumps --------------------------------------------------------------------------


class Listener:
    """A thread subscribed to CHANNEL on one Redis server. `generation` changes whenever it
    hears a bump, subscribes, or loses its subscription; `subscribed` says whether it listens."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        self._lock = threading.Lock()
        self._generation = 0
        self._subscribed = False
        self._wait = _RECONNECT_SECONDS[0]
        thread = threading.Thread(target=self._run, name="search-bumps", daemon=True)
        thread.start()

    def stamp(self) -> int | None:
        """The generation now if subscribed (read before the tokens are), else None."""
        with self._lock:
            return self._generation if self._subscribed else None

    def current(self, stamp: int | None) -> bool:
        """Whether nothing was heard since `stamp` and the subscription still holds."""
        with self._lock:
            return stamp is not None and self._subscribed and stamp == self._generation

    def heard(self, subscribed: bool | None = None) -> None:
        with self._lock:
            self._generation += 1
            if subscribed is not None:
                self._subscribed = subscribed

    def _run(self) -> None:
        while True:
            conn = Redis.from_url(
                self.url,
                socket_connect_timeout=self.timeout,
                socket_keepalive=True,
                health_check_interval=30,  # a PING on a silent subscription finds a dead link
            )
            try:
                self._listen(conn)
            except (RedisError, OSError) as error:
                log.debug("search cache: subscription to %s lost: %s", CHANNEL, error)
            except Exception as error:  # noqa: BLE001 - the thread must live: searches fall back
                log.warning("search cache: the subscription to %s failed: %r", CHANNEL, error)
            finally:
                self.heard(subscribed=False)
                conn.close()
            time.sleep(self._wait)
            self._wait = min(self._wait * 2, _RECONNECT_SECONDS[1])

    def _listen(self, conn: Redis) -> None:
        pubsub = conn.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            while True:
                message = pubsub.get_message(timeout=10.0)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self.heard(subscribed=True)  # tokens read from now on are current
                    self._wait = _RECONNECT_SECONDS[0]
                elif message["type"] == "message":
                    self.heard()
        finally:
            pubsub.close()


_listeners: dict[tuple[int, str], Listener] = {}
_listeners_lock = threading.Lock()


def listener() -> Listener:
    """This process's listener for the application's Redis, started when first asked (after a
    fork, the child starts its own)."""
    url = current_app.config["REDIS_URL"]
    key = (os.getpid(), url)
    found = _listeners.get(key)
    if found is None:
        with _listeners_lock:
            found = _listeners.get(key)
            if found is None:
                found = _listeners[key] = Listener(url, current_app.config["REDIS_TIMEOUT"])
    return found
