"""Leads in the territory's schema: one per person and commune, their events, and consents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase

STAGES = ("contact", "prospect")
#: Where a lead was captured: the territory's own site, or the national portal.
ORIGINS = ("site", "portal")


class Lead(TenantBase):
    """A registered visitor interested in one commune of the territory: a contact (a precise
    search made some of its cells green), then a prospect (they opened one of those cells)."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("uq_leads_account_commune", "account_id", "commune_insee", unique=True),
        CheckConstraint(f"stage IN {STAGES}", name="stage_known"),
        CheckConstraint(f"origin IN {ORIGINS}", name="lead_origin_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: An account id (public schema), without a foreign key; erased with the person.
    account_id: Mapped[int] = mapped_column(index=True)
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    stage: Mapped[str] = mapped_column(String(10), default="contact")
    first_seen_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_seen_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    prospect_at: Mapped[datetime | None] = mapped_column()
    #: Where the person first became a lead (kept when they come back by the other way).
    origin: Mapped[str] = mapped_column(String(10), default="site", server_default="site")


class LeadEvent(TenantBase):
    """What made (or kept) someone a lead: a search or a click, with its cells and criteria, or
    a message to a listing's advertiser (`contact`: the listing in `criteria`, never the text)."""

    __tablename__ = "lead_events"
    __table_args__ = (
        CheckConstraint("kind IN ('search', 'click', 'contact')", name="event_kind_known"),
        CheckConstraint(f"origin IN {ORIGINS}", name="event_origin_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(server_default=text("now()"), index=True)
    cells: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    #: A snapshot of the search's criteria, as sent.
    criteria: Mapped[dict] = mapped_column(JSONB)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    origin: Mapped[str] = mapped_column(String(10), default="site", server_default="site")


class LeadConsent(TenantBase):
    """A person's consent to share their identity with the territory: the text they ticked,
    its version and date; withdrawn at any time (a new consent is a new row)."""

    __tablename__ = "lead_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    text_version: Mapped[str] = mapped_column(String(20))
    #: The words the person ticked, as shown to them.
    wording: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    withdrawn_at: Mapped[datetime | None] = mapped_column()


holds_people(Lead, "account_id", on_erase="delete")
holds_people(LeadEvent, "lead_id", on_erase="cascade", through=Lead)
holds_people(LeadConsent, "account_id", on_erase="delete")
