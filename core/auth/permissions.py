"""The one permission check of every console view and API: roles held on the bound territory."""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.auth.models import Role
from core.auth.service import roles_of
from core.extensions import login_manager
from core.tenancy import current_tenant

#: A role also holds the rights of the roles listed here.
IMPLIES = {Role.admin: {Role.editor}}
#: How people read each role.
ROLE_LABELS = {
    Role.admin: _l("Admin"),
    Role.editor: _l("Editor"),
    Role.coordinator: _l("Coordinator"),
    Role.billing_admin: _l("Billing admin"),
}


def role_label(role: Role | str) -> str:
    return str(ROLE_LABELS[Role(str(getattr(role, "value", role)))])


def effective_roles() -> set[Role]:
    """The signed-in person's roles on this host's territory (platform roles on the console)."""
    if not current_user.is_authenticated:
        return set()
    cached = g.get("effective_roles")
    if cached is None:
        held = roles_of(current_user, current_tenant())
        cached = set(held)
        for role in held:
            cached |= IMPLIES.get(role, set())
        g.effective_roles = cached
    return cached


def can(*roles: Role) -> bool:
    return bool(effective_roles() & set(roles))


def requires(*roles: Role):
    """Not signed in → the login page; signed in without one of `roles` here → 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = roles
        return wrapper

    return decorate
