"""Consent to share one's identity with a territory: the versioned wording, grant, withdraw.

A consent lives in the territory's schema (LeadConsent). The wording is a legal text, not an
interface string: it is kept here per version and per language, and the exact words shown are
stored with each grant. Change the text → bump CONSENT_VERSION.
"""

from __future__ import annotations

from sqlalchemy import exists, select, text, update

from core.auth.models import Account
from core.db import utcnow
from core.extensions import db
from core.fanout import read_each
from core.registry import Tenant, TenantStatus
from core.tenancy import TenantRef, require_tenant
from sites.leads.models import Lead, LeadConsent

CONSENT_VERSION = "2026-11"

#: The label of the box, then what it means, per language.
WORDING = {
    "fr": (
        "Partager mes coordonnées avec {territory}",
        "{territory} recevra mon nom, mon adresse e-mail et mes recherches sur son site "
        "(critères, budget, composition du foyer, dalles et communes consultées) pour me "
        "recontacter au sujet de mon installation. Je peux retirer cet accord à tout moment "
        "dans mon espace (« Partage de mes coordonnées ») ; mes recherches restent alors "
        "comptées de façon anonyme.",
    ),
    "en": (
        "Share my details with {territory}",
        "{territory} will receive my name, my e-mail address and my searches on its site "
        "(criteria, budget, household, cells and communes viewed) to contact me about settling "
        "there. I can withdraw this consent at any time in my account (“Sharing my details”); "
        "my searches are then only counted anonymously.",
    ),
}


def wording(territory_name: str, locale: str = "fr") -> tuple[str, str]:
    """(label, explanation) for a territory, in the page's language (French by default)."""
    label, text = WORDING.get(str(locale)[:2], WORDING["fr"])
    return label.format(territory=territory_name), text.format(territory=territory_name)


def current(account_id: int) -> LeadConsent | None:
    """The person's consent in force on the bound territory, if any."""
    return db.session.execute(
        select(LeadConsent)
        .where(LeadConsent.account_id == account_id, LeadConsent.withdrawn_at.is_(None))
        .order_by(LeadConsent.granted_at.desc(), LeadConsent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def grant(account_id: int, territory_name: str, locale: str = "fr") -> LeadConsent:
    """Record the consent on the bound territory (kept as is if one is already in force)."""
    # Two grants at once (a double submit, the confirmation link opened twice) must leave one
    # consent in force: the person's grants on this territory take turns, each seeing the last.
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key), :account)"),
        {"key": f"lead-consent:{require_tenant().slug}", "account": account_id},
    )
    found = current(account_id)
    if found is not None:
        return found
    label, explanation = wording(territory_name, locale)
    row = LeadConsent(
        account_id=account_id,
        text_version=CONSENT_VERSION,
        wording=f"{label}\n{explanation}",
        granted_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def withdraw(account_id: int) -> int:
    """End every consent in force on the bound territory; returns how many were ended."""
    return db.session.execute(
        update(LeadConsent)
        .where(LeadConsent.account_id == account_id, LeadConsent.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
    ).rowcount


def consenting(account_ids) -> set[int]:
    """Which of these people have a consent in force on the bound territory: given, not
    withdrawn, and their address confirmed (an unproven address identifies nobody)."""
    ids = list(account_ids)
    if not ids:
        return set()
    return set(
        db.session.execute(
            select(LeadConsent.account_id)
            .join(Account, Account.id == LeadConsent.account_id)
            .where(
                LeadConsent.account_id.in_(ids),
                LeadConsent.withdrawn_at.is_(None),
                Account.email_verified_at.is_not(None),
            )
            .distinct()
        ).scalars()
    )


def territories_of(account, here: TenantRef | None) -> list[tuple[TenantRef, bool]]:
    """The territories whose box the person sees: this site's, the one they registered on, and
    every one holding a lead or a consent of theirs — each with whether consent is in force.

    Fans out over the active territories' schemas, one short read each (an account page, not
    a hot path).
    """

    account_id = account.id
    wanted = {here.id if here else None, account.registered_on_id} - {None}
    tenants = [
        t.ref()
        for t in db.session.execute(
            select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.name)
        ).scalars()
    ]

    def holds(_territory) -> tuple[bool, bool]:
        return db.session.execute(
            select(
                exists().where(Lead.account_id == account_id),
                exists().where(
                    LeadConsent.account_id == account_id, LeadConsent.withdrawn_at.is_(None)
                ),
            )
        ).one()

    held = read_each(tenants, holds)
    found: list[tuple[TenantRef, bool]] = []
    for ref in tenants:
        has_leads, granted = held[ref.id]
        if ref.id in wanted or has_leads or granted:
            found.append((ref, bool(granted)))
    # This site's territory first: it is the one the person is looking at.
    found.sort(key=lambda item: (here is None or item[0].id != here.id, item[0].name))
    return found
