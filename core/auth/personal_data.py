"""A person's data across the platform: export it (JSON) and erase it everywhere (one job).

Territory tables holding people register here once; export and erasure fan out over every
territory schema explicitly, one transaction per schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from core.auth.models import Account, AuditEvent, Invitation, RoleGrant
from core.auth.service import audit, pseudonym
from core.commit import after_commit
from core.db import utcnow
from core.extensions import db
from core.fanout import read_in, write_in
from core.jobs import job
from core.registry import territories

log = logging.getLogger("vivrau.rgpd")


@dataclass(frozen=True)
class PersonalColumn:
    """A tenant table column holding an account id; `delete` rows are the person's own.

    With `through`, the column holds the id of a row of that model (itself registered with
    the person's account id): such rows are exported with it and erased by its cascade.
    """

    model: type
    column: str
    on_erase: str = "nullify"  # or "delete", or "cascade" (with `through`)
    through: type | None = None


PERSONAL_COLUMNS: list[PersonalColumn] = []


def holds_people(model, column: str, on_erase: str = "nullify", through: type | None = None):
    PERSONAL_COLUMNS.append(PersonalColumn(model, column, on_erase, through))


#: A part of the export a feature adds from the public schema (the territory tables are found
#: through PERSONAL_COLUMNS): its name, and what the person's account id gives there.
PUBLIC_PARTS: dict[str, Callable[[int], object]] = {}


def exported_as(name: str):
    """Register a feature's public-schema part of a person's export (erased by the accounts'
    own cascade)."""

    def register(read: Callable[[int], object]):
        PUBLIC_PARTS[name] = read
        return read

    return register


def _owned_by(spec: PersonalColumn, account_id: int):
    """The condition selecting the person's rows of `spec`'s table."""
    column = spec.model.__table__.c[spec.column]
    if spec.through is None:
        return column == account_id
    parent = next(p for p in PERSONAL_COLUMNS if p.model is spec.through and p.through is None)
    table = parent.model.__table__
    return column.in_(select(table.c.id).where(table.c[parent.column] == account_id))


def export_personal_data(account: Account) -> dict:
    grants = db.session.execute(select(RoleGrant).where(RoleGrant.account_id == account.id))
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.actor_id == account.id).order_by(AuditEvent.at)
    ).scalars()
    invitations = db.session.execute(
        select(Invitation).where(Invitation.email.ilike(account.email))
    ).scalars()
    data = {
        "account": {
            "email": account.email,
            "display_name": account.display_name,
            "locale": account.locale,
            "created_at": account.created_at,
            "email_verified_at": account.email_verified_at,
            "last_login_at": account.last_login_at,
        },
        "roles": [{"tenant_id": g.tenant_id, "role": g.role.value} for g in grants.scalars()],
        "activity": [
            {"at": e.at, "action": e.action, "territory": e.tenant_slug, "ip": e.ip} for e in events
        ],
        "invitations": [
            {"territory_id": i.tenant_id, "role": i.role.value, "sent_at": i.created_at}
            for i in invitations
        ],
        "territories": {},
    }
    account_id = account.id
    for name, read in PUBLIC_PARTS.items():
        if (part := read(account_id)) is not None:
            data[name] = part

    def held_here(_territory) -> dict[str, list[dict]]:
        rows = {}
        for spec in PERSONAL_COLUMNS:
            table = spec.model.__table__
            found = db.session.execute(select(table).where(_owned_by(spec, account_id)))
            if items := [dict(r) for r in found.mappings()]:
                rows[table.name] = items
        return rows

    refs = territories(db.session)
    for ref in refs:
        if rows := read_in(ref, lambda ref=ref: held_here(ref)):
            data["territories"][ref.slug] = rows
    return data


def request_erasure(account: Account) -> None:
    """Close every session now; the job erases. Recorded first, so a lost job is swept later."""
    account.deletion_requested_at = utcnow()
    account.session_version += 1
    audit("account.deletion_requested", actor=account)
    account_id = account.id
    db.session.flush()

    def enqueue() -> None:
        try:
            erase_account.enqueue(account_id, tenant=None, job_id=f"erase-account-{account_id}")
        except Exception as exc:  # noqa: BLE001 - the sweep picks it up
            log.warning("could not enqueue erasure of account %s: %s", account_id, exc)

    after_commit(enqueue)


@job(queue="low")
def erase_account(account_id: int) -> int:
    """Erase a person from every territory schema, then from the platform.

    Returns how many territory schemas held something of theirs.
    """

    def erase_here() -> int:
        changed = 0
        for spec in PERSONAL_COLUMNS:
            table = spec.model.__table__
            column = table.c[spec.column]
            if spec.on_erase == "cascade":  # gone with the row it belongs to
                continue
            if spec.on_erase == "delete":
                statement = delete(table).where(column == account_id)
            else:
                statement = update(table).where(column == account_id).values({spec.column: None})
            changed += db.session.execute(statement).rowcount
        return changed

    # One transaction per territory schema, each committed as it goes: a crash midway leaves
    # the erasure request in place, and the sweep erases the rest.
    touched = sum(bool(write_in(ref, erase_here)) for ref in territories(db.session))
    account = db.session.get(Account, account_id)
    if account is not None:
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.actor_id == account_id)
            .values(ip=None, user_agent=None)
        )
        audit("account.erased", subject=pseudonym("account", account_id), schemas=touched)
        db.session.delete(account)  # grants cascade; audit events keep only the pseudonym
        db.session.commit()
    return touched


def sweep_erasures() -> int:
    """Cron: erase accounts whose erasure was requested but whose job never ran."""
    ids = list(
        db.session.execute(
            select(Account.id).where(Account.deletion_requested_at.is_not(None))
        ).scalars()
    )
    db.session.rollback()
    for account_id in ids:
        erase_account(account_id)
    return len(ids)
