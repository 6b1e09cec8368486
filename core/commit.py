"""The one commit point of a request or a job, and the work that waits for a commit.

A request that succeeds commits once (`core.web`), one that fails rolls back; a job commits
once when it returns (`core.jobs`). Services and views never decide that themselves. Work that
must follow a commit hangs on it: `after_commit` (the transaction's own commit: cache tokens,
signals) or `after_commit_point` (the request's or job's commit: nudging the mail sender).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from flask import g, has_app_context

from core.extensions import db

log = logging.getLogger("vivrau.commit")
_WAITING = "after_commit_point"


def after_commit(callback: Callable[[], object], key: Hashable = None) -> None:
    """Run `callback` once the current transaction commits (at once when none is open);
    forgotten if it rolls back. The same `key` twice in a transaction runs once."""
    session = db.session()
    if session.in_transaction():
        session.run_after_commit(callback, key)
    else:
        callback()


def after_commit_point(callback: Callable[[], object], key: Hashable = None) -> None:
    """Run `callback` after the request's or job's commit point has committed; outside a
    request or a job (a shell, a test) nothing runs it."""
    if has_app_context():
        waiting = g.setdefault(_WAITING, {})
        waiting.setdefault(key if key is not None else object(), callback)


def commit_point() -> None:
    """Commit the request's or job's work, then run what waited for it."""
    db.session.commit()
    for callback in g.pop(_WAITING, {}).values():
        try:
            callback()
        except Exception:  # noqa: BLE001 - the work is committed: report, never undo it
            log.exception("work after the commit point failed: %r", callback)


def rollback_point() -> None:
    """Roll the request's or job's work back; what waited for its commit is dropped."""
    g.pop(_WAITING, None)
    db.session.rollback()
