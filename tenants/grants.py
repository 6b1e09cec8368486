"""Manual grants: a dated, audited switch-on of a feature for a territory being set up before
its contract is signed (the platform console and `flask tenants grant`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Account
from core.auth.service import audit, pseudonym
from core.extensions import db
from core.registry import Tenant
from core.signals import announce, entitlements_changed
from tenants.entitlements import Feature, Grant, today

#: A grant bridges a signature: a year at most, then a contract decides.
LONGEST = timedelta(days=366)


class GrantError(ValueError):
    """A refused grant or revocation, said to the person; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _feature(value) -> Feature:
    try:
        return Feature(str(getattr(value, "value", value)))
    except ValueError:
        names = ", ".join(f.value for f in Feature)
        raise GrantError(
            _("Unknown feature %(value)s: one of %(names)s.", value=value, names=names), "feature"
        ) from None


def grant(
    tenant: Tenant,
    features,
    starts_on: date | None,
    ends_on: date | None,
    reason: str | None,
    actor: Account | None = None,
) -> list[Grant]:
    """Grant `features` to `tenant` from `starts_on` until `ends_on` (exclusive); both dates and
    a reason are required. Flushed, audited, announced once the caller commits."""
    features = [_feature(f) for f in ([features] if isinstance(features, str) else features)]
    if not features:
        raise GrantError(_("Choose at least one feature."), "feature")
    if ends_on is None:
        raise GrantError(_("A grant needs an end date: it bridges a signature."), "ends_on")
    starts_on = starts_on or today()
    if ends_on <= starts_on:
        raise GrantError(_("The grant must end after it starts."), "ends_on")
    if ends_on - starts_on > LONGEST:
        raise GrantError(_("A grant lasts a year at most: sign a contract for longer."), "ends_on")
    if ends_on <= today():
        raise GrantError(_("This grant would already be over."), "ends_on")
    reason = (reason or "").strip()
    if not reason:
        raise GrantError(
            _("Say why this territory is granted it (e.g. its contract is being signed)."),
            "reason",
        )
    if len(reason) > 500:
        raise GrantError(_("The reason is longer than 500 characters."), "reason")
    by = pseudonym("account", actor.id) if actor else "cli"
    made = []
    for feature in dict.fromkeys(features):
        row = Grant(
            tenant_id=tenant.id,
            feature=feature,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            granted_by=actor.id if actor else None,
            granted_by_ref=by,
        )
        db.session.add(row)
        made.append(row)
    db.session.flush()
    audit(
        "entitlement.granted",
        actor=actor,
        tenant=tenant.ref(),
        features=[f.value for f in dict.fromkeys(features)],
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
        reason=reason,
        grants=[g.id for g in made],
    )
    announce(entitlements_changed)
    return made


def revoke(grant_id: int, actor: Account | None = None, tenant: Tenant | None = None) -> Grant:
    """End a grant now (a future one never starts); audited. `tenant`, when given, must own it."""
    row = db.session.get(Grant, grant_id)
    if row is None or (tenant is not None and row.tenant_id != tenant.id):
        raise GrantError(_("No such grant."), "grant")
    if row.revoked_at is not None:
        raise GrantError(_("This grant is already revoked."), "grant")
    if row.ends_on <= today():
        raise GrantError(_("This grant is already over."), "grant")
    row.revoked_at = datetime.now(UTC)
    row.revoked_by_ref = pseudonym("account", actor.id) if actor else "cli"
    db.session.flush()
    owner = db.session.get(Tenant, row.tenant_id)
    audit(
        "entitlement.revoked",
        actor=actor,
        tenant=owner.ref(),
        grant=row.id,
        feature=row.feature.value,
    )
    announce(entitlements_changed)
    return row


def grants_of(tenant_id: int) -> list[Grant]:
    """Every grant of the territory, newest first (the history the console shows)."""
    return list(
        db.session.execute(
            select(Grant).where(Grant.tenant_id == tenant_id).order_by(Grant.created_at.desc())
        ).scalars()
    )
