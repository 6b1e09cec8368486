"""The registry of territories (public schema): who they are, which hosts serve them, who belongs
to which umbrella. Every layer reads it, so it lives in the kernel."""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import PublicBase, Timestamped, utcnow
from core.i18n import pick
from core.tenancy import TenantRef, normalize_host


class TenantKind(enum.StrEnum):
    commune = "commune"
    epci = "epci"
    departement = "departement"
    umbrella = "umbrella"


class TenantStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"


#: What the official code of each kind looks like, and how to say it in an error.
OFFICIAL_CODES = {
    TenantKind.commune: (
        re.compile(r"^(\d{5}|2[AB]\d{3})$"),
        "an INSEE commune code (5 characters)",
    ),
    TenantKind.departement: (re.compile(r"^(\d{2}|2[AB]|97\d)$"), "an INSEE département code"),
    TenantKind.epci: (re.compile(r"^\d{9}$"), "the EPCI's SIREN (9 digits)"),
    TenantKind.umbrella: (re.compile(r"^\d{9}$"), "the umbrella body's SIREN (9 digits)"),
}
#: How a kind of territory is named, (French, English): on its site, in the consoles, and as a
#: billing tier (a contract's tier is its customer's kind).
KIND_LABELS = {
    TenantKind.commune: ("Commune", "Commune"),
    TenantKind.epci: ("Communauté de communes", "Community of communes"),
    TenantKind.departement: ("Département", "Département"),
    TenantKind.umbrella: (
        "Regroupement Petites villes de demain",
        "Petites villes de demain umbrella",
    ),
}
#: The kind with its article, in the operators' English of refusals and command output.
KIND_NAMES = {
    TenantKind.commune: "a commune",
    TenantKind.epci: "an EPCI",
    TenantKind.departement: "a département",
    TenantKind.umbrella: "an umbrella",
}
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)


def kind_label(kind, locale: str | None = None) -> str:
    """A kind of territory (or billing tier) as people read it, in `locale` or the reader's."""
    return pick(*KIND_LABELS[TenantKind(str(kind))], locale)


def validate_code(kind: TenantKind, code: str | None) -> str | None:
    if kind == TenantKind.umbrella and not code:
        return None
    pattern, what = OFFICIAL_CODES[kind]
    if not code or not pattern.match(code):
        raise ValueError(f"invalid code {code!r} for {KIND_NAMES[kind]}: expected {what}")
    return code


def validate_host(host: str) -> str:
    normalized = normalize_host(host)
    if not HOST_RE.match(normalized):
        raise ValueError(f"invalid host name {host!r}")
    return normalized


#: How a territory's site is opened: to everyone, or by the stages of a person's project.
SITE_ACCESS = ("open", "staged")
_kind_enum = Enum(TenantKind, name="tenant_kind", values_callable=lambda e: [m.value for m in e])
_status_enum = Enum(
    TenantStatus, name="tenant_status", values_callable=lambda e: [m.value for m in e]
)


class Tenant(Timestamped, PublicBase):
    """A customer territory: a commune, an EPCI, a département or a PVD umbrella."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(r"slug ~ '^[a-z][a-z0-9_]{1,40}$'", name="slug_format"),
        CheckConstraint("schema_name = 't_' || slug", name="schema_from_slug"),
        CheckConstraint(f"site_access IN {SITE_ACCESS}", name="site_access_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(41), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(_kind_enum)
    official_code: Mapped[str | None] = mapped_column(String(9))
    status: Mapped[TenantStatus] = mapped_column(
        _status_enum, default=TenantStatus.active, server_default="active"
    )
    default_locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")
    theme: Mapped[str] = mapped_column(String(40), default="default", server_default="default")
    schema_name: Mapped[str] = mapped_column(String(43), unique=True)
    #: "open": everything for everyone (the default); "staged": the profile stages of the
    #: portal (a few criteria for guests, all from a 70 % project, listings from a full one).
    site_access: Mapped[str] = mapped_column(String(10), default="open", server_default="open")

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantDomain.id"
    )

    def ref(self) -> TenantRef:
        return TenantRef(
            id=self.id,
            slug=self.slug,
            name=self.name,
            kind=self.kind.value,
            status=self.status.value,
            schema=self.schema_name,
            theme=self.theme,
            locale=self.default_locale,
            site_access=self.site_access,
        )


class TenantDomain(PublicBase):
    """A host name serving a territory: `<slug>.<BASE_DOMAIN>` or a verified custom domain."""

    __tablename__ = "tenant_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(253), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False, server_default="false")
    verified_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class Membership(PublicBase):
    """A member town of a PVD umbrella from `joined_on` until `left_on` (exclusive: its first
    day out). The one definition of who belongs to an umbrella: hosting (its search, leads and
    consoles) and billing (its price per member) both read it; past stays are kept."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("umbrella_id <> member_id", name="not_self"),
        CheckConstraint("left_on IS NULL OR left_on > joined_on", name="left_after_joined"),
        Index(
            "uq_memberships_current",
            "umbrella_id",
            "member_id",
            unique=True,
            postgresql_where=text("left_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    umbrella_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)

    umbrella: Mapped[Tenant] = relationship(foreign_keys=[umbrella_id])
    member: Mapped[Tenant] = relationship(foreign_keys=[member_id])


def lookup_host(conn, host: str) -> TenantRef | None:
    """The territory served on `host` (normalised), or None; reads the public schema only."""
    row = conn.execute(
        select(
            Tenant.id,
            Tenant.slug,
            Tenant.name,
            Tenant.kind,
            Tenant.status,
            Tenant.schema_name,
            Tenant.theme,
            Tenant.default_locale,
            Tenant.site_access,
        )
        .join_from(TenantDomain, Tenant)
        .where(TenantDomain.host == host, TenantDomain.verified_at.is_not(None))
    ).one_or_none()
    if row is None:
        return None
    return TenantRef(
        id=row.id,
        slug=row.slug,
        name=row.name,
        kind=TenantKind(row.kind).value,
        status=TenantStatus(row.status).value,
        schema=row.schema_name,
        theme=row.theme,
        locale=row.default_locale,
        site_access=row.site_access,
    )


def primary_host(session, tenant_id: int) -> str:
    return (
        session.execute(
            select(TenantDomain.host)
            .where(TenantDomain.tenant_id == tenant_id)
            .order_by(TenantDomain.is_primary.desc(), TenantDomain.id)
        )
        .scalars()
        .first()
    )


def primary_hosts(session, tenant_ids) -> dict[int, str]:
    """Each territory's primary host, in one statement (a page listing many territories)."""
    ids = list(tenant_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(TenantDomain.tenant_id, TenantDomain.host)
        .where(TenantDomain.tenant_id.in_(ids))
        .order_by(TenantDomain.tenant_id, TenantDomain.is_primary.desc(), TenantDomain.id)
        .ext(distinct_on(TenantDomain.tenant_id))
    )
    return dict(rows.all())


def get_by_slug(session, slug: str) -> Tenant | None:
    return session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def territories(session) -> list[TenantRef]:
    """Every territory, oldest first, detached from the session (for explicit fan-outs)."""
    return [t.ref() for t in session.execute(select(Tenant).order_by(Tenant.id)).scalars()]


def members_of(session, umbrella_id: int, on: date | None = None) -> list[Tenant]:
    """The member towns of an umbrella on `on` (today), by name; the one way hosting reads
    membership (search, leads, consoles). Billing reads the stays themselves (`stays_in`)."""
    day = on or date.today()
    return list(
        session.execute(
            select(Tenant)
            .join(Membership, Membership.member_id == Tenant.id)
            .where(
                Membership.umbrella_id == umbrella_id,
                Membership.joined_on <= day,
                or_(Membership.left_on.is_(None), Membership.left_on > day),
            )
            .order_by(Tenant.name)
        ).scalars()
    )


def stays_in(session, umbrella_id: int) -> list[tuple[Membership, Tenant]]:
    """Every stay of every member town of an umbrella, past, present and to come, with its town."""
    return list(
        session.execute(
            select(Membership, Tenant)
            .join(Tenant, Membership.member_id == Tenant.id)
            .where(Membership.umbrella_id == umbrella_id)
            .order_by(Membership.joined_on, Tenant.name)
        )
    )
