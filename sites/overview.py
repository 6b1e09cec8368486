"""The territory console's overview: this month against the last for what a territory follows
(visits and searches of its site, new contacts and prospects, saved searches, listings
published, listings about to expire), what its subscription covers today and its next invoice.
Read from the bound territory's schema in a few grouped queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from core.extensions import db
from ingest.listings.models import Listing
from sites.audience import month_figures
from sites.leads.models import Lead
from sites.search.models import SavedSearch
from tenants.entitlements import FEATURE_HEADINGS, OFFER, Feature, current_period, today

PARIS = ZoneInfo("Europe/Paris")
#: Listings that expire within this many days are counted as expiring.
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class Trend:
    """A figure of this month and of the last, and the console page that details it."""

    key: str
    label: str
    this_month: int
    last_month: int
    #: The console page that details it (None: none does yet).
    endpoint: str | None

    @property
    def change(self) -> int:
        return self.this_month - self.last_month


@dataclass(frozen=True)
class Subscribed:
    feature: Feature
    heading: str
    #: Its last day covered today (None: not subscribed; date.max: no end).
    until: date | None


def month_starts(day: date) -> tuple[datetime, datetime, datetime]:
    """The first instants (Paris) of last month, this month and next month."""
    this = day.replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    following = (this + timedelta(days=32)).replace(day=1)
    return tuple(datetime.combine(d, time(), PARIS) for d in (last, this, following))


def _by_month(column, *where):
    """Two counts of rows whose `column` falls this month and last month."""
    last, this, following = month_starts(today())
    return (
        func.count().filter(and_(column >= this, column < following, *where)),
        func.count().filter(and_(column >= last, column < this, *where)),
    )


def trends() -> list[Trend]:
    """This month against the last, in the bound territory."""
    last, this, following = (d.date() for d in month_starts(today()))
    audience_now, audience_before = month_figures(this, following), month_figures(last, this)
    contacts = db.session.execute(
        select(*_by_month(Lead.first_seen_at), *_by_month(Lead.prospect_at))
    ).one()
    searches = db.session.execute(select(*_by_month(SavedSearch.created_at))).one()
    listings = db.session.execute(
        select(*_by_month(Listing.created_at, Listing.status == "published"))
    ).one()
    return [
        Trend(
            "visits",
            str(_l("Visits of the site")),
            audience_now["visits"],
            audience_before["visits"],
            None,
        ),
        Trend(
            "page_views",
            str(_l("Pages seen")),
            audience_now["page_views"],
            audience_before["page_views"],
            None,
        ),
        Trend(
            "searches",
            str(_l("Searches run")),
            audience_now["searches"],
            audience_before["searches"],
            None,
        ),
        Trend("contacts", str(_l("New contacts")), contacts[0], contacts[1], "leads_console.index"),
        Trend(
            "prospects", str(_l("New prospects")), contacts[2], contacts[3], "leads_console.index"
        ),
        Trend("saved", str(_l("Searches saved by visitors")), searches[0], searches[1], None),
        Trend(
            "listings",
            str(_l("New listings published")),
            listings[0],
            listings[1],
            "listings_console.index",
        ),
    ]


def listings_now() -> dict[str, int]:
    """Published listings today, and those of them that expire within EXPIRING_DAYS."""
    day = today()
    published, expiring = db.session.execute(
        select(
            func.count().filter(Listing.status == "published"),
            func.count().filter(
                Listing.status == "published",
                Listing.expires_on >= day,
                Listing.expires_on <= day + timedelta(days=EXPIRING_DAYS),
            ),
        )
    ).one()
    return {"published": published, "expiring": expiring, "days": EXPIRING_DAYS}


def subscription(tenant) -> list[Subscribed]:
    """Each feature of the offer and the last day it is covered today (from the entitlements)."""
    out = []
    for feature in OFFER:
        period = current_period(tenant, feature)
        until = None if period is None else (period.last_day or date.max)
        out.append(Subscribed(feature, str(FEATURE_HEADINGS[feature]), until))
    return out
