"""Password guessing, per account and platform-wide: after a few failures each attempt waits,
twice as long after each further failure, up to a ceiling; the right password works as soon as
the wait is over (the owner is slowed down, never locked out).

Counted in Redis under the pseudonym of the address typed, whether or not an account uses it
(the same answer either way: no tell). Without Redis nothing is throttled — the per-address
limit (counted in memory meanwhile) and the password hash's cost still hold.
"""

from __future__ import annotations

import math
import time

from core.extensions import with_redis

#: Failures answered at once (typing mistakes); the next ones wait.
FREE_FAILURES = 4
#: The wait after the first failure past the free ones (seconds), doubled after each one more.
FIRST_WAIT = 2
#: The ceiling: at worst the owner waits five minutes, a guesser gets 12 tries an hour.
MAX_WAIT = 300
#: Failures are forgotten a day after the last one; the owner is warned at most once a day.
MEMORY = 24 * 3600
#: Seconds since the epoch (tests move it).
clock = time.time


def _key(who: str) -> str:
    return f"vivrau:login-failures:{who}"


def wait_after(failures: int) -> int:
    """The seconds an attempt waits after `failures` failures in a row."""
    if failures <= FREE_FAILURES:
        return 0
    doublings = min(failures - FREE_FAILURES - 1, 16)  # 2 s × 2¹⁶ is far past the ceiling
    return min(FIRST_WAIT * 2**doublings, MAX_WAIT)


def seconds_to_wait(who: str) -> int:
    """How long an attempt for `who` must still wait (0: it may be tried now)."""
    until = with_redis("login throttle", lambda conn: conn.hget(_key(who), "until"), None)
    remaining = float(until) - clock() if until is not None else 0
    return math.ceil(remaining) if remaining > 0 else 0


def record_failure(who: str) -> bool:
    """Count a failure and start the next wait; True once a day, when the waits begin: the
    moment to warn the owner."""
    key = _key(who)

    def count(conn) -> bool:
        wait = wait_after(conn.hincrby(key, "failures", 1))
        with conn.pipeline() as pipe:
            pipe.hset(key, "until", clock() + wait)
            pipe.expire(key, MEMORY)
            pipe.execute()
        return wait > 0 and bool(conn.set(f"{key}:warned", 1, nx=True, ex=MEMORY))

    return with_redis("login throttle", count, False)


def forget(who: str) -> None:
    """The right password was given: its failures no longer count."""
    with_redis("login throttle", lambda conn: conn.delete(_key(who)), None)
