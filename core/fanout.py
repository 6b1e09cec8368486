"""Reading other territories from a request or a job: the explicit fan-out over schemas.

A transaction is bound to one territory (core.db): an umbrella reading its member towns, or the
platform reading every territory, reads each one in a short transaction of its own, in a
session apart from the caller's — the caller's transaction (and anything it has written) is
left as it is. There is no view that unions schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from flask import current_app

from core.extensions import db
from core.tenancy import TenantRef, tenant_scope

T = TypeVar("T")


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
