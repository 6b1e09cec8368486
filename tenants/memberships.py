"""Member towns of a PVD umbrella, defined once with their join and leave dates: hosting reads
who is a member on a day (`members_of`), billing reads the stays over a contract's term, and
the entitlements follow the same dates. A daily job applies the day's joins and departures to
the umbrellas' perimeters (their cells, their member sites)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core.extensions import db
from core.jobs import job
from core.registry import Membership, Tenant, TenantKind
from core.signals import announce, entitlements_changed, perimeter_changed, territories_changed
from tenants.entitlements import today

#: What may be a member of an umbrella.
MEMBER_KINDS = (TenantKind.commune, TenantKind.epci)


class MembershipError(ValueError):
    """A refused join or departure, said to the person; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _overlapping(member_id: int, start: date, stop: date | None, umbrella_id: int | None = None):
    """The member's stays (in any umbrella, or in `umbrella_id`) that meet [start, stop)."""
    query = select(Membership, Tenant).join(Tenant, Membership.umbrella_id == Tenant.id)
    query = query.where(
        Membership.member_id == member_id,
        or_(Membership.left_on.is_(None), Membership.left_on > start),
    )
    if stop is not None:
        query = query.where(Membership.joined_on < stop)
    if umbrella_id is not None:
        query = query.where(Membership.umbrella_id == umbrella_id)
    return db.session.execute(query).all()


def join(umbrella: Tenant, member: Tenant, on: date, until: date | None = None) -> Membership:
    """`member` belongs to `umbrella` from `on` (until `until`, exclusive, when known); flushed
    and announced, never committed here. A town belongs to one umbrella at a time."""
    if umbrella.kind != TenantKind.umbrella:
        raise MembershipError(
            _(
                "%(name)s is not an umbrella: only a PVD umbrella has member towns.",
                name=umbrella.name,
            ),
            "umbrella",
        )
    if member.kind not in MEMBER_KINDS:
        raise MembershipError(
            _("%(name)s cannot be a member: members are communes or EPCIs.", name=member.name),
            "tenant_id",
        )
    if on is None:
        raise MembershipError(_("Say when the town joins."), "on")
    if until is not None and until < on:
        raise MembershipError(_("A town cannot leave before it joined."), "on")
    check_free(umbrella, member, on, until)
    stay = Membership(umbrella=umbrella, member=member, joined_on=on, left_on=until)
    db.session.add(stay)
    db.session.flush()
    _changed(umbrella)
    return stay


def belongs(umbrella: Tenant, member: Tenant, on: date, until: date | None) -> bool:
    """Has `member` a stay in `umbrella` on some day of [on, until)?"""
    return bool(_overlapping(member.id, on, until, umbrella.id))


def check_free(
    umbrella: Tenant, member: Tenant, on: date, until: date | None, *, here_ok: bool = False
) -> None:
    """Refuse when `member` already belongs to an umbrella on a day of [on, until): another
    one always, this one unless `here_ok`."""
    for stay, other in _overlapping(member.id, on, until):
        if other.id == umbrella.id and here_ok:
            continue
        if other.id == umbrella.id:
            raise MembershipError(
                _("%(name)s is already a member on these dates.", name=member.name), "tenant_id"
            )
        raise MembershipError(
            _(
                "%(name)s belongs to %(other)s from %(start)s: a town is a member of one "
                "umbrella at a time.",
                name=member.name,
                other=other.name,
                start=stay.joined_on.strftime("%d/%m/%Y"),
            ),
            "tenant_id",
        )


def leave(stay: Membership, on: date) -> Membership:
    """The stay ends on `on` (its first day out; the day it joined: it never was a member);
    flushed and announced, never committed here."""
    if on is None:
        raise MembershipError(_("Say when the town leaves."), "on")
    if stay.left_on is not None and stay.left_on <= today():
        raise MembershipError(_("This town has already left."), "on")
    if on < stay.joined_on:
        raise MembershipError(
            _(
                "A town cannot leave before it joined (%(day)s).",
                day=stay.joined_on.strftime("%d/%m/%Y"),
            ),
            "on",
        )
    stay.left_on = on
    db.session.flush()
    _changed(db.session.get(Tenant, stay.umbrella_id))
    return stay


def open_stay(umbrella: Tenant, member: Tenant) -> Membership | None:
    """The member's stay in `umbrella` with no end yet, if any."""
    return db.session.execute(
        select(Membership).where(
            Membership.umbrella_id == umbrella.id,
            Membership.member_id == member.id,
            Membership.left_on.is_(None),
        )
    ).scalar_one_or_none()


def _changed(umbrella: Tenant) -> None:
    """Its perimeter, its member sites and its members' entitlements follow, once committed."""
    announce(perimeter_changed, umbrella.ref(), official_code=umbrella.official_code)
    announce(territories_changed, umbrella.ref())
    announce(entitlements_changed)


@job("low")
def apply_the_days_changes() -> int:
    """Cron, just after midnight in Paris: the umbrellas a town joins or leaves today have their
    perimeter recomputed (a dated change is written ahead of its day). Run twice, it does the
    same work twice, harmlessly."""
    day = today()
    umbrellas = db.session.execute(
        select(Tenant)
        .join(Membership, Membership.umbrella_id == Tenant.id)
        .where(or_(Membership.joined_on == day, Membership.left_on == day))
        .distinct()
    ).scalars()
    count = 0
    for umbrella in umbrellas:
        _changed(umbrella)
        count += 1
    return count
