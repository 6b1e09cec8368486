"""Account rules, callable without HTTP: register, verify, log in, reset, grant, audit (the
invitations are in `core.auth.invitations`)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, has_request_context, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.auth import throttle
from core.auth.models import Account, AuditEvent, Role, RoleGrant
from core.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from core.db import utcnow
from core.extensions import db
from core.mail import queue_mail
from core.registry import Tenant, primary_host
from core.signals import account_registered, account_verified, announce
from core.tenancy import TenantRef, current_tenant

VERIFY_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 3600
INVITATION_DAYS = 14


class AuthError(ValueError):
    """A refused account operation; `code` lets views pick their (translated) message."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


class Throttled(AuthError):
    """Too many failed logins for this address: try again in `seconds`."""

    def __init__(self, seconds: int):
        super().__init__("throttled", f"try again in {seconds} s")
        self.seconds = seconds


def pseudonym(kind: str, value) -> str:
    """A stable, keyed stand-in for a person in the audit log (kept after erasure)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def audit(
    action: str,
    actor: Account | None = None,
    subject: str | None = None,
    tenant: TenantRef | None = None,
    **details,
) -> None:
    tenant = tenant or current_tenant()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_ref=pseudonym("account", actor.id) if actor else None,
        subject_ref=subject,
        tenant_id=tenant.id if tenant else None,
        tenant_slug=tenant.slug if tenant else None,
        details=details,
    )
    if has_request_context():
        event.ip = (request.remote_addr or "")[:45]
        event.user_agent = (request.user_agent.string or "")[:300]
    db.session.add(event)


def normalise_email(email: str) -> str:
    return (email or "").strip()


def find_account(email: str) -> Account | None:
    return db.session.execute(
        select(Account).where(func.lower(Account.email) == normalise_email(email).lower())
    ).scalar_one_or_none()


def check_password_rules(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AuthError("password_length")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"vivrau-{purpose}")


def _root(host: str) -> str:
    """`scheme://host[:port]` as this request reaches us (local runs serve every host on one
    port); https outside a request."""
    port = ""
    if has_request_context() and request.host.count(":") == 1:
        port = ":" + request.host.rsplit(":", 1)[1]
    scheme = request.scheme if has_request_context() else "https"
    return f"{scheme}://{host}{port}"


def site_root(tenant: TenantRef) -> str:
    """`scheme://host` of a territory's site, to link to it from another host."""
    return _root(primary_host(db.session, tenant.id))


def link_on(host: str, endpoint: str = "site.home", **values) -> str:
    """An absolute link to a page of the territory site served on `host`."""
    return _root(host) + site_path(endpoint, **values)


def portal_root() -> str:
    """`scheme://host` of the national portal (`<BASE_DOMAIN>`), to link to it from any host."""
    return _root(current_app.config["BASE_DOMAIN"])


def portal_link(endpoint: str, **values) -> str:
    """An absolute link to a page of the national portal, from any host."""
    adapter = current_app.extensions["portal_map"].bind(current_app.config["BASE_DOMAIN"])
    return portal_root() + adapter.build(endpoint, values)


def link_to(endpoint: str, tenant: TenantRef | None = None, **values) -> str:
    """An absolute link; on `tenant`'s own host when given (e.g. sent from the console host)."""
    if tenant is None or (current_tenant() is not None and current_tenant().id == tenant.id):
        return url_for(endpoint, _external=True, **values)
    return site_root(tenant) + site_path(endpoint, **values)


def site_path(endpoint: str, **values) -> str:
    """The path of a territory site's page, built on the territories' URL map whichever host
    asks (the portal's host has its own)."""
    return current_app.url_map.bind("territory").build(endpoint, values)


def territory_link(tenant: TenantRef, endpoint: str = "site.home", **values) -> str:
    """An absolute link to a page of `tenant`'s site (a member town's, from its umbrella's)."""
    return link_to(endpoint, tenant, **values)


# --- registration and verification ------------------------------------------------------------


def register(
    email: str, password: str, display_name: str, locale: str, share: bool = False
) -> Account | None:
    """Create the account and mail a verification link; None when the address is taken.

    Callers show the same message either way: the owner of a taken address gets a mail.
    `share`: the person ticked "share my details" with this site's territory; only a new
    account carries it (a taken address is not proof of its owner), in its verification link:
    it applies once the address is confirmed (`account_verified`).
    """
    check_password_rules(password)
    email = normalise_email(email)
    existing = find_account(email)
    if existing is not None:
        hash_password(password)  # the same work as a real registration: no timing tell
        with force_locale(existing.locale):
            queue_mail(
                existing.email,
                _("Someone tried to register with your address"),
                _(
                    "An account already exists for this address. If you forgot your password, "
                    "reset it here: %(link)s",
                    link=link_to("account.forgot"),
                ),
            )
        audit("account.register_taken", subject=pseudonym("email", email.lower()))
        return None
    tenant = current_tenant()
    account = Account(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        locale=locale,
        registered_on_id=tenant.id if tenant else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(account)
            db.session.flush()
    except IntegrityError:  # a racing registration of the same address won: it is taken
        audit("account.register_taken", subject=pseudonym("email", email.lower()))
        return None
    send_verification(account, share=share and tenant is not None)
    audit("account.register", actor=account)
    announce(account_registered, account.id, territory=tenant)
    return account


def send_verification(account: Account, share: bool = False) -> None:
    """Mail the link that confirms the address; `share` (registration only) rides in it."""
    data = {"a": account.id, "e": account.email.lower()}
    if share:
        data |= {"s": 1, "l": account.locale}
    token = _serializer("verify").dumps(data)
    with force_locale(account.locale):
        queue_mail(
            account.email,
            _("Confirm your e-mail address"),
            _(
                "Hello %(name)s,\n\nConfirm your address by opening this link (valid 7 days):\n"
                "%(link)s\n",
                name=account.display_name,
                link=link_to("account.verify", token=token),
            ),
        )


def resend_verification(email: str) -> None:
    """A new confirmation link for an address not confirmed yet; nothing for an unknown,
    confirmed or departing one (the caller answers the same either way)."""
    account = find_account(email)
    if account is not None and not account.is_verified and account.deletion_requested_at is None:
        send_verification(account)


def _load_link(purpose: str, token: str, max_age: int) -> tuple[Account | None, dict]:
    """The account a signed link names, and the link's data; expired or altered → AuthError."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise AuthError("link_expired") from None
    except BadSignature:
        raise AuthError("link_invalid") from None
    return db.session.get(Account, data.get("a")), data


def verify_email(token: str) -> Account:
    account, data = _load_link("verify", token, VERIFY_MAX_AGE)
    if account is None or account.email.lower() != data.get("e"):
        raise AuthError("link_invalid")
    _address_proven(account, share=bool(data.get("s")), locale=data.get("l") or account.locale)
    return account


def _address_proven(account: Account, share: bool = False, locale: str = "fr") -> None:
    """A link mailed to the address was opened: the address is the person's (once)."""
    if account.email_verified_at is not None:
        return
    account.email_verified_at = utcnow()
    audit("account.verify", actor=account)
    registered_on = (
        db.session.get(Tenant, account.registered_on_id) if account.registered_on_id else None
    )
    announce(
        account_verified,
        account.id,
        territory=registered_on.ref() if registered_on else None,
        share=share,
        locale=locale,
    )


# --- login, password --------------------------------------------------------------------------


def authenticate(email: str, password: str) -> Account | None:
    """The account when the password is right, None when not; `Throttled` while the address
    typed must wait after too many failures (the password is then not even checked)."""
    who = pseudonym("email", normalise_email(email).lower())
    _wait_for(who)
    account = find_account(email)
    if not _password_right(who, account, password):
        audit("login.failed", subject=who)
        return None
    if needs_rehash(account.password_hash):  # hashes follow the current argon2 parameters
        account.password_hash = hash_password(password)
    account.last_login_at = utcnow()
    audit("login", actor=account)
    return account


def confirm_password(account: Account, password: str) -> bool:
    """A signed-in person's password asked again (to change it, to delete the account): counted
    with the failed logins of their address and waiting the same — a borrowed session is no
    way to guess it faster."""
    who = pseudonym("email", account.email.lower())
    _wait_for(who)
    return _password_right(who, account, password)


def _wait_for(who: str) -> None:
    wait = throttle.seconds_to_wait(who)
    if wait:
        raise Throttled(wait)


def _password_right(who: str, account: Account | None, password: str) -> bool:
    """Check the password (the same work when there is no account); a failure counts towards
    the waits and may warn the owner, a success forgets the failures."""
    if verify_password(account.password_hash if account else None, password):
        throttle.forget(who)
        return True
    if throttle.record_failure(who) and account is not None:
        warn_of_guessing(account)
    return False


def warn_of_guessing(account: Account) -> None:
    """Tell the owner, once, that their password is being guessed."""
    with force_locale(account.locale):
        queue_mail(
            account.email,
            _("Someone is trying to log in to your account"),
            _(
                "Hello %(name)s,\n\nSeveral attempts to log in to your account with a wrong "
                "password have just failed. Your account is protected: each new attempt now has "
                "to wait longer.\n\nIf it was you, no need to do anything. If not, and your "
                "password is short or used on another site, choose a new one: %(link)s\n",
                name=account.display_name,
                link=link_to("account.forgot"),
            ),
        )
    audit("login.owner_warned", actor=account)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; callers answer the same either way."""
    account = find_account(email)
    if account is None:
        audit("password.reset_unknown", subject=pseudonym("email", normalise_email(email).lower()))
        return
    # The current hash is in the token: the link dies once the password changes.
    token = _serializer("reset").dumps({"a": account.id, "h": account.password_hash[-16:]})
    with force_locale(account.locale):
        queue_mail(
            account.email,
            _("Reset your password"),
            _(
                "Hello %(name)s,\n\nChoose a new password with this link (valid one hour):\n"
                "%(link)s\n\nIf you did not ask for it, ignore this message.",
                name=account.display_name,
                link=link_to("account.reset", token=token),
            ),
        )
    audit("password.reset_requested", actor=account)


def account_for_reset(token: str) -> Account:
    account, data = _load_link("reset", token, RESET_MAX_AGE)
    if account is None or account.password_hash[-16:] != data.get("h"):
        raise AuthError("link_invalid")
    return account


def reset_password(token: str, password: str) -> Account:
    """The new password chosen through a mailed reset link, which proves the address too."""
    account = account_for_reset(token)
    set_password(account, password)
    _address_proven(account, locale=account.locale)
    return account


def set_password(account: Account, password: str) -> None:
    """New password; every existing session of the account ends."""
    check_password_rules(password)
    account.password_hash = hash_password(password)
    account.session_version += 1
    audit("password.changed", actor=account)


def log_out_everywhere(account: Account) -> None:
    """Every session of the account ends (each names the version it started with)."""
    account.session_version += 1
    audit("logout.everywhere", actor=account)


def change_password(account: Account, current: str, new: str) -> None:
    if not confirm_password(account, current):
        raise AuthError("wrong_password")
    set_password(account, new)


# --- roles and invitations ----------------------------------------------------------------------


def roles_of(account: Account | None, tenant: TenantRef | None) -> set[Role]:
    """The roles `account` holds on `tenant` (platform roles when tenant is None)."""
    if account is None or not getattr(account, "id", None):
        return set()
    query = select(RoleGrant.role).where(RoleGrant.account_id == account.id)
    if tenant is None:
        query = query.where(RoleGrant.tenant_id.is_(None))
    else:
        query = query.where(RoleGrant.tenant_id == tenant.id)
    return set(db.session.execute(query).scalars())


def grant(account: Account, role: Role, tenant: TenantRef | None, by: Account | None) -> RoleGrant:
    if (role == Role.billing_admin) != (tenant is None):
        raise AuthError(
            "role_scope", "billing_admin is platform-wide; other roles need a territory"
        )
    if role == Role.coordinator and tenant is not None and tenant.kind != "umbrella":
        raise AuthError("role_scope", "coordinators are granted on umbrellas")
    same = select(RoleGrant).where(
        RoleGrant.account_id == account.id,
        RoleGrant.role == role,
        RoleGrant.tenant_id.is_(None) if tenant is None else RoleGrant.tenant_id == tenant.id,
    )
    existing = db.session.execute(same).scalar_one_or_none()
    if existing is not None:
        return existing
    try:
        with db.session.begin_nested():  # made inside: the savepoint's own flush precedes it
            row = RoleGrant(
                account=account,
                role=role,
                tenant_id=tenant.id if tenant else None,
                granted_by_id=by.id if by else None,
            )
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # granted meanwhile by a racing request (an invitation accepted twice)
        return db.session.execute(same).scalar_one()
    audit(
        "role.grant",
        actor=by,
        subject=pseudonym("account", account.id),
        tenant=tenant,
        role=role.value,
    )
    return row


def revoke(grant_row: RoleGrant, by: Account | None, tenant: TenantRef | None) -> None:
    audit(
        "role.revoke",
        actor=by,
        subject=pseudonym("account", grant_row.account_id),
        tenant=tenant,
        role=grant_row.role.value,
    )
    db.session.delete(grant_row)
