"""Invitations to a territory's team: sent by mail with a link valid INVITATION_DAYS, cancelled
or sent again while they wait, accepted by the invited address only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Account, Invitation, Role, RoleGrant
from core.auth.service import (
    INVITATION_DAYS,
    AuthError,
    audit,
    grant,
    link_to,
    normalise_email,
    pseudonym,
)
from core.db import utcnow
from core.extensions import db
from core.mail import queue_mail
from core.tenancy import TenantRef


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(tenant: TenantRef, email: str, role: Role, by: Account) -> Invitation:
    if role not in (Role.admin, Role.editor, Role.coordinator):
        raise AuthError("role_scope")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant_id=tenant.id,
        email=normalise_email(email),
        role=role,
        token_hash=_token_hash(token),
        invited_by_id=by.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    queue_mail(
        invitation.email,
        _("You are invited to the team of %(name)s", name=tenant.name),
        _(
            "%(who)s invites you to join the team of %(name)s.\n\nAccept with this link "
            "(valid %(days)d days):\n%(link)s\n",
            who=by.display_name,
            name=tenant.name,
            days=INVITATION_DAYS,
            link=link_to("account.accept_invitation", tenant, token=token),
        ),
    )
    audit(
        "invitation.sent",
        actor=by,
        subject=pseudonym("email", invitation.email.lower()),
        tenant=tenant,
        role=role.value,
    )
    return invitation


def _waiting(invitation_id: int, tenant: TenantRef) -> Invitation | None:
    """An invitation of `tenant` still waiting (None: another territory's, used or expired)."""
    invitation = db.session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.tenant_id != tenant.id
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    return invitation


def cancel_invitation(invitation_id: int, tenant: TenantRef, by: Account) -> Invitation | None:
    """Its link stops working now; audited. None: nothing of this territory waits under it."""
    invitation = _waiting(invitation_id, tenant)
    if invitation is None:
        return None
    invitation.expires_at = utcnow()
    audit(
        "invitation.cancelled",
        actor=by,
        subject=pseudonym("email", invitation.email.lower()),
        tenant=tenant,
        role=invitation.role.value,
    )
    return invitation


def resend_invitation(invitation_id: int, tenant: TenantRef, by: Account) -> Invitation | None:
    """A new link, valid INVITATION_DAYS again, sent to the same address for the same role; the
    old link stops working. None: nothing of this territory waits under it."""
    old = cancel_invitation(invitation_id, tenant, by)
    if old is None:
        return None
    return invite(tenant, old.email, old.role, by)


def pending_invitation(token: str, tenant: TenantRef) -> Invitation:
    invitation = db.session.execute(
        select(Invitation).where(
            Invitation.token_hash == _token_hash(token), Invitation.tenant_id == tenant.id
        )
    ).scalar_one_or_none()
    if invitation is None or invitation.accepted_at is not None:
        raise AuthError("link_invalid")
    if invitation.expires_at < utcnow():
        raise AuthError("link_expired")
    return invitation


def accept_invitation(token: str, account: Account, tenant: TenantRef) -> RoleGrant:
    invitation = pending_invitation(token, tenant)
    if invitation.email.lower() != account.email.lower():
        raise AuthError("invitation_other_address")
    invitation.accepted_at = utcnow()
    inviter = (
        db.session.get(Account, invitation.invited_by_id) if invitation.invited_by_id else None
    )
    return grant(account, invitation.role, tenant, inviter)
