"""A territory's campaigns (in its schema) and their figures per day, with the queries the
console and the links need. Figures are counts only: nothing of a person is kept."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, String, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import TenantBase
from core.extensions import db

#: Where a campaign's link is spread, as the console names them.
CHANNELS = {
    "poster": _l("Posters, leaflets"),
    "press": _l("Press"),
    "social": _l("Social networks"),
    "email": _l("E-mailing, newsletter"),
    "radio": _l("Radio, television"),
    "event": _l("Fair, event"),
    "partner": _l("Partner website"),
    "other": _l("Other"),
}
#: What a campaign's link is counted for, in the funnel's order.
FIGURES = ("visits", "registrations", "searches", "contacts", "prospects")
#: A campaign code: what a link carries (`/c/<code>`, `utm_campaign=<code>`).
CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")


class Campaign(TenantBase):
    """A campaign the territory runs: its name, its code in links, its channel and dates."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"channel IN {tuple(CHANNELS)}", name="channel_known"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    @property
    def channel_words(self) -> str:
        return str(CHANNELS.get(self.channel, self.channel))


class CampaignDay(TenantBase):
    """One day of a campaign: the visits its links brought, and what those visitors did."""

    __tablename__ = "campaign_days"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visits: Mapped[int] = mapped_column(default=0, server_default="0")
    registrations: Mapped[int] = mapped_column(default=0, server_default="0")
    searches: Mapped[int] = mapped_column(default=0, server_default="0")
    contacts: Mapped[int] = mapped_column(default=0, server_default="0")
    prospects: Mapped[int] = mapped_column(default=0, server_default="0")


def normal_code(raw: str | None) -> str | None:
    """A code as links may carry it (any case, spaces around), or None when it cannot be one."""
    code = (raw or "").strip().lower()
    return code if CODE.fullmatch(code) else None


def find(raw_code: str | None) -> Campaign | None:
    """The bound territory's campaign of this code; None for anything else (never an error)."""
    code = normal_code(raw_code)
    if code is None:
        return None
    return db.session.scalar(select(Campaign).where(Campaign.code == code))


def campaign_ids() -> set[int]:
    """The bound territory's campaigns (figures of a deleted one are left uncopied)."""
    return set(db.session.scalars(select(Campaign.id)))


def with_totals() -> list[tuple[Campaign, dict[str, int]]]:
    """The bound territory's campaigns, the latest first, each with its figures so far."""
    sums = (
        select(
            CampaignDay.campaign_id,
            *(func.sum(getattr(CampaignDay, name)).label(name) for name in FIGURES),
        )
        .group_by(CampaignDay.campaign_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Campaign, *(func.coalesce(getattr(sums.c, n), 0) for n in FIGURES))
        .outerjoin(sums, sums.c.campaign_id == Campaign.id)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    ).all()
    return [(row[0], dict(zip(FIGURES, row[1:], strict=True))) for row in rows]


def has_figures(campaign: Campaign) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(CampaignDay.campaign_id == campaign.id).limit(1)
        )
    )
