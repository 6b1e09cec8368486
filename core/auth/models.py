"""Accounts, role grants, invitations and audit events (public schema: one identity per person)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import PublicBase


class Role(enum.StrEnum):
    admin = "admin"  # of a territory: its team, theme, pages, listings
    editor = "editor"  # of a territory: its pages and listings
    coordinator = "coordinator"  # of an umbrella: reads its members' consoles
    billing_admin = "billing_admin"  # platform-wide, on admin.<BASE_DOMAIN>


_role_enum = Enum(Role, name="role", values_callable=lambda e: [m.value for m in e])


class Account(PublicBase):
    """A person, whatever the territory they registered on."""

    __tablename__ = "accounts"
    __table_args__ = (Index("uq_accounts_email_lower", func.lower(text("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")
    #: Bumped when the password changes: every older session stops being valid.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_login_at: Mapped[datetime | None]
    #: Set when the person deletes the account; the erasure job removes everything after.
    deletion_requested_at: Mapped[datetime | None]
    registered_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL")
    )

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="account", cascade="all, delete-orphan", foreign_keys="RoleGrant.account_id"
    )

    # Flask-Login protocol
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_verified(self) -> bool:
        """The address is proven to be the person's. Until then they may browse and save, but
        nothing of theirs reaches a territory (no lead, no consent) and no alert is mailed."""
        return self.email_verified_at is not None


class RoleGrant(PublicBase):
    """A role of a person on one territory (or platform-wide for billing admins)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("account_id", "tenant_id", "role"),
        CheckConstraint(
            "(role = 'billing_admin') = (tenant_id IS NULL)", name="platform_role_has_no_tenant"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(_role_enum)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    account: Mapped[Account] = relationship(back_populates="grants", foreign_keys=[account_id])


class Invitation(PublicBase):
    """An e-mailed invitation to join a territory's team; the link's token is stored hashed."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(_role_enum)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class AuditEvent(PublicBase):
    """Who did what, when, from where. People appear by pseudonym, which survives deletion."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(server_default=text("now()"), index=True)
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    actor_ref: Mapped[str | None] = mapped_column(String(32))
    subject_ref: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    tenant_slug: Mapped[str | None] = mapped_column(String(41))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
