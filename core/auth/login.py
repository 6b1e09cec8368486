"""Flask-Login wiring: sessions name an account *and* its session version."""

from __future__ import annotations

from flask import redirect, request, url_for

from core.auth.models import Account
from core.extensions import db, login_manager


@login_manager.user_loader
def load_account(user_id: str) -> Account | None:
    account_id, _, version = user_id.partition(":")
    if not account_id.isdigit() or not version.isdigit():
        return None
    account = db.session.get(Account, int(account_id))
    if account is None or account.session_version != int(version):
        return None  # the password changed, or the account is being erased
    return account


@login_manager.unauthorized_handler
def to_login():
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
