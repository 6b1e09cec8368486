"""Reading other territories from a request or a job: the explicit fan-out over schemas.

A transaction is bound to one territory (core.db): an umbrella reading its member towns, or the
platform reading every territory, reads each one in a short transaction of its own, in a
session apart from the caller's — the caller's transaction (and anything it has written) is
left as it is. There is no view that unions schemas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import current_app

from core.extensions import db
from core.tenancy import TenantRef, tenant_scope

T = TypeVar("T")
log = logging.getLogger("vivrau.fanout")
#: Territories read at once by `read_many`: its threads each take a connection of the process's
#: pool (DB_POOL_SIZE), which must keep one for the request that fans out.
FANOUT_THREADS = 4


def read_in(territory: TenantRef, read: Callable[[], T]) -> T:
    """`read()` bound to `territory`, in a session and transaction of its own, rolled back."""
    with current_app.app_context(), tenant_scope(territory):
        try:
            return read()
        finally:
            db.session.rollback()
            db.session.remove()


def write_in(territory: TenantRef, work: Callable[[], T]) -> T:
    """`work()` bound to `territory`, in a session of its own, committed when it returns (rolled
    back if it raises): a change that spans territories commits territory by territory."""
    with current_app.app_context(), tenant_scope(territory):
        try:
            result = work()
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def read_each(territories: Iterable[TenantRef], read: Callable[[TenantRef], T]) -> dict[int, T]:
    """`read(territory)` for each territory, one at a time; results by territory id."""
    return {ref.id: read_in(ref, lambda ref=ref: read(ref)) for ref in territories}


@dataclass(frozen=True)
class Read(Generic[T]):
    """What reading one territory gave: its value, or why it could not be read."""

    value: T | None = None
    error: str | None = None


def read_many(
    territories: Iterable[TenantRef], read: Callable[[TenantRef], T]
) -> dict[int, Read[T]]:
    """`read(territory)` for each territory, FANOUT_THREADS at a time, each in its own session;
    one that fails (its schema missing, a query refused) has its error, the others their value:
    a page of many territories shows each failure on its own row."""
    app = current_app._get_current_object()
    refs = list(territories)

    def one(ref: TenantRef) -> tuple[int, Read[T]]:
        with app.app_context():
            try:
                return ref.id, Read(value=read_in(ref, lambda: read(ref)))
            except Exception as exc:  # noqa: BLE001 - reported on the territory's own row
                log.exception("reading territory %s failed", ref.slug)
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                return ref.id, Read(error=f"{type(exc).__name__}: {first}"[:200])

    if not refs:
        return {}
    workers = min(FANOUT_THREADS, len(refs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
        return dict(pool.map(one, refs))
