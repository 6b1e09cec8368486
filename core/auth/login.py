"""Sessions: Flask-Login wiring, and how a session starts and ends.

A session names an account *and* its session version (bumped by a new password or "log out
everywhere": every older session ends). It also carries its own id, its start and its last
activity: it ends after SESSION_IDLE_MINUTES without a request, SESSION_MAX_HOURS after login
whatever happens, and at logout, when its id joins the ended ones kept in Redis — so a copy of
the cookie dies with it.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core.auth.models import Account
from core.extensions import db, login_manager, with_redis

SESSION_ID, STARTED, SEEN = "_sid", "_started", "_seen"
#: The activity stamp is renewed at most this often (seconds): each renewal re-sends the cookie.
SEEN_EVERY = 60
#: Seconds since the epoch (tests move it).
clock = time.time


def _ended_key(session_id: str) -> str:
    return f"vivrau:session-ended:{session_id}"


def max_seconds() -> int:
    return current_app.config["SESSION_MAX_HOURS"] * 3600


def _ended(session_id: str) -> bool:
    # While Redis is away the idle timeout and the maximal lifetime still bound a session;
    # refusing every session meanwhile would log everyone out.
    return bool(with_redis("ended sessions", lambda conn: conn.exists(_ended_key(session_id)), 0))


def _alive() -> bool:
    """This request's session is within its time limits and was not ended; its activity stamp
    is renewed."""
    session_id, started, seen = session.get(SESSION_ID), session.get(STARTED), session.get(SEEN)
    if not isinstance(session_id, str) or not isinstance(started, int):
        return False  # a session from before these limits: log in again
    if not isinstance(seen, int):
        return False
    now = clock()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if now - seen > idle or now - started > max_seconds() or _ended(session_id):
        return False
    if now - seen >= SEEN_EVERY:
        session[SEEN] = int(now)
    return True


@login_manager.user_loader
def load_account(user_id: str) -> Account | None:
    account_id, _, version = user_id.partition(":")
    if not account_id.isdigit() or not version.isdigit() or not _alive():
        return None
    account = db.session.get(Account, int(account_id))
    if account is None or account.session_version != int(version):
        return None  # the password changed, everywhere was logged out, or it is being erased
    return account


@login_manager.unauthorized_handler
def to_login():
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def start_session(account: Account) -> None:
    """Log `account` in on this browser: a new session, with its own id and clock."""
    login_user(account)
    now = int(clock())
    session[SESSION_ID] = secrets.token_urlsafe(18)
    session[STARTED] = session[SEEN] = now


def end_session() -> None:
    """Log out this browser's session, on the server too: a copy of its cookie is refused."""
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        ended = with_redis(
            "ended sessions",
            lambda conn: conn.set(_ended_key(session_id), 1, ex=max_seconds()),
            False,
        )
        if not ended and current_user.is_authenticated:
            # Rather than leave a copy of the cookie valid: every session of the account ends.
            current_user.session_version += 1
    logout_user()
    for key in (SESSION_ID, STARTED, SEEN):
        session.pop(key, None)
