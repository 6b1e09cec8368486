"""A territory's site content and team as its consoles read and change them: home texts, pages,
team members and pending invitations, the theme; and a member town's, read from its umbrella."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from core.auth import service
from core.auth.models import Account, Invitation, Role, RoleGrant
from core.commit import after_commit
from core.db import utcnow
from core.extensions import db
from core.fanout import read_in
from core.registry import Tenant
from core.tenancy import TenantRef
from sites.models import HomeText, Page


@dataclass
class SiteFacts:
    """What the console's overview and a coordinator's view of a town say of a site."""

    team: int
    texts: dict[str, tuple[str, str]]  # locale → (title, introduction)
    pages: int


def team_size(tenant_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(RoleGrant).where(RoleGrant.tenant_id == tenant_id)
    ).scalar()


def _texts_and_pages() -> tuple[dict[str, tuple[str, str]], int]:
    rows = db.session.execute(select(HomeText)).scalars()
    texts = {t.locale: (t.title, t.introduction) for t in rows}
    return texts, db.session.execute(select(func.count()).select_from(Page)).scalar()


def facts_here(tenant: TenantRef) -> SiteFacts:
    """The bound territory's own site."""
    texts, pages = _texts_and_pages()
    return SiteFacts(team_size(tenant.id), texts, pages)


def facts_of_member(member: TenantRef) -> SiteFacts:
    """A member town's site, read from its own schema apart from the umbrella's transaction."""
    texts, pages = read_in(member, _texts_and_pages)
    return SiteFacts(team_size(member.id), texts, pages)


def team(tenant_id: int) -> list[tuple[RoleGrant, Account]]:
    return list(
        db.session.execute(
            select(RoleGrant, Account)
            .join(Account, Account.id == RoleGrant.account_id)
            .where(RoleGrant.tenant_id == tenant_id)
            .order_by(Account.display_name)
        ).all()
    )


def pending_invitations(tenant_id: int) -> list[Invitation]:
    return list(
        db.session.execute(
            select(Invitation).where(
                Invitation.tenant_id == tenant_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        ).scalars()
    )


class LastAdmin(ValueError):
    """Removing this role would leave the territory with no admin."""


def remove_role(tenant: TenantRef, grant_id: int, by: Account) -> bool:
    """Remove a role of the territory's team; False when no such grant is the territory's.
    Raises LastAdmin when the only admin would remove themselves."""
    row = db.session.execute(
        select(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.tenant_id == tenant.id)
    ).scalar_one_or_none()
    if row is None:
        return False
    if row.account_id == by.id and row.role == Role.admin:
        admins = db.session.execute(
            select(func.count())
            .select_from(RoleGrant)
            .where(RoleGrant.tenant_id == tenant.id, RoleGrant.role == Role.admin)
        ).scalar()
        if admins == 1:
            raise LastAdmin()
    service.revoke(row, by, tenant)
    return True


def home_texts() -> dict[str, HomeText]:
    return {t.locale: t for t in db.session.execute(select(HomeText)).scalars()}


#: The three axes of a territory's economy: (field, heading field, the platform's heading).
AXES = (
    ("axis_productive", "axis_productive_title", _l("Productive economy")),
    ("axis_tourism", "axis_tourism_title", _l("Tourism economy")),
    ("axis_residential", "axis_residential_title", _l("Residential economy")),
)
_TEXTS = ("title", "introduction", "hero_alt")


@dataclass
class Shown:
    """A text of the home page as shown: in `lang`, which is not the reader's when `fallback`."""

    text: str
    lang: str
    fallback: bool = False


@dataclass
class Axis:
    heading: Shown
    text: Shown


@dataclass
class HomeContent:
    texts: dict[str, Shown | None]  # title, introduction, hero_alt
    axes: list[Axis]

    @property
    def fallback(self) -> str | None:
        """The other language some texts are shown in, when the reader's lacks them."""
        shown = [*self.texts.values(), *(a.text for a in self.axes)]
        return next((s.lang for s in shown if s is not None and s.fallback), None)


def _pick(rows: dict[str, HomeText], name: str, order: tuple[str, str]) -> Shown | None:
    for code in order:
        value = getattr(rows.get(code), name, "") or ""
        if value.strip():
            return Shown(value, code, code != order[0])
    return None


def home_content(locale: str) -> HomeContent:
    """The home texts in the reader's language; each missing one in the other language, marked
    so the page can say it."""
    rows = home_texts()
    order = (locale, "en" if locale == "fr" else "fr")
    axes = []
    for name, heading, default in AXES:
        text = _pick(rows, name, order)
        if text is None:
            continue
        # A renamed heading in the reader's language, else the other's, else the platform's.
        axes.append(Axis(_pick(rows, heading, order) or Shown(str(default), locale), text))
    return HomeContent({name: _pick(rows, name, order) for name in _TEXTS}, axes)


def home_text_for_update(locale: str) -> HomeText:
    """A language's home texts, created if missing and locked: two first saves at once take turns
    instead of both inserting the row."""
    db.session.execute(insert(HomeText).values(locale=locale).on_conflict_do_nothing())
    return db.session.execute(
        select(HomeText).where(HomeText.locale == locale).with_for_update()
    ).scalar_one()


def set_theme(tenant: TenantRef, theme: str) -> None:
    """The territory's theme (registry); hosts serve it once the change is committed."""
    db.session.get(Tenant, tenant.id).theme = theme
    after_commit(current_app.extensions["host_cache"].clear)


def set_site_access(tenant: TenantRef, access: str) -> None:
    """Open the territory's site to everyone, or by the stages of a person's project
    (registry); hosts follow once the change is committed."""
    db.session.get(Tenant, tenant.id).site_access = access
    after_commit(current_app.extensions["host_cache"].clear)
