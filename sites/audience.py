"""Anonymous audience measurement of a territory's site: page views, visits and searches per
day, counted without any identifier, address or cookie (the CNIL's exemption for audience
measurement), so they need no consent and survive any erasure; and per campaign, the visits a
campaign's link brought and what those visits led to (registrations, searches, contacts,
prospects), the link remembered in the session cookie the site already sets, never in a cookie
of its own. Counted in Redis as they happen, copied into the territory's `audience_days` and
`campaign_days` by a cron job (idempotently: a day's counters only grow, so the copy keeps the
larger figure)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, Response, has_request_context, request, session
from sqlalchemy import Date, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from core.db import TenantBase
from core.extensions import db, with_redis
from core.jobs import for_each_territory
from core.signals import account_registered, lead_gained
from core.tenancy import current_tenant
from sites.campaigns import models as campaigns
from sites.campaigns.models import CampaignDay

log = logging.getLogger("vivrau.audience")
PARIS = ZoneInfo("Europe/Paris")

#: The figures counted, as the table's columns.
FIGURES = ("page_views", "visits", "searches")
#: The public site's pages (their HTML answers are page views; consoles, APIs and files are not).
SITE_PAGES = {"site", "search", "listings_site", "favourites", "leads_account"}
#: Days kept in Redis after their own (the copy runs every few minutes; this covers outages).
KEPT_DAYS = 3
#: Robots announce themselves; they are nobody's audience.
ROBOTS = re.compile(r"bot|crawl|spider|slurp|preview|monitor|curl|wget|python-|headless", re.I)


class AudienceDay(TenantBase):
    """One day of the territory's site: how often it was seen, entered and searched."""

    __tablename__ = "audience_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    page_views: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Page views that entered the site (from another site, a link or typed): no cookie needed.
    visits: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Searches run (the page, the map's script and the API alike).
    searches: Mapped[int] = mapped_column(default=0, server_default="0")


def paris_day() -> date:
    return datetime.now(PARIS).date()


def _key(tenant_id: int, day: date) -> str:
    return f"vivrau:audience:{tenant_id}:{day.isoformat()}"


def count(tenant_id: int, **figures: int) -> None:
    """Add to today's counters of a territory; never fails the page (Redis away: not counted)."""
    key = _key(tenant_id, paris_day())

    def add(redis) -> None:
        pipe = redis.pipeline(transaction=False)
        for name, amount in figures.items():
            pipe.hincrby(key, name, amount)
        pipe.expire(key, (KEPT_DAYS + 1) * 86400)
        pipe.execute()

    with_redis("audience counters", add, None)


def _robot() -> bool:
    return bool(ROBOTS.search(request.user_agent.string or ""))


def count_search() -> None:
    """One search: on the bound territory's site (none on the portal's), and for the campaign
    this visit came by."""
    if _robot():
        return
    tenant = current_tenant()
    if tenant is not None:
        count(tenant.id, searches=1)
    count_for_campaign("searches", None if tenant is None else tenant.id)


# --- campaigns ----------------------------------------------------------------------------------

#: The session's campaign: [territory id, campaign id] of the link this visit came by.
SESSION_CAMPAIGN = "campaign"


def _campaign_field(campaign_id: int, figure: str) -> str:
    return f"campaign:{campaign_id}:{figure}"


def session_campaign() -> tuple[int, int] | None:
    held = session.get(SESSION_CAMPAIGN)
    if isinstance(held, list) and len(held) == 2 and all(isinstance(i, int) for i in held):
        return held[0], held[1]
    return None


def arrived(tenant_id: int, campaign_id: int, visit: bool = True) -> None:
    """A visitor followed a campaign's link: the visit is counted (unless they were already on
    the site) and what they do next is counted for the campaign."""
    session[SESSION_CAMPAIGN] = [tenant_id, campaign_id]
    if visit and not _robot():
        count(tenant_id, **{_campaign_field(campaign_id, "visits"): 1})


def count_for_campaign(figure: str, tenant_id: int | None = None) -> None:
    """One more `figure` for the campaign this visit came by, if any (and if it is
    `tenant_id`'s, when given: a campaign counts what happens for its own territory)."""
    held = session_campaign() if has_request_context() else None
    if held is None or (tenant_id is not None and held[0] != tenant_id):
        return
    count(held[0], **{_campaign_field(held[1], figure): 1})


def _registered(_account_id, **_data) -> None:
    count_for_campaign("registrations")


def _gained(territory, stage: str = "contact", **_data) -> None:
    count_for_campaign("prospects" if stage == "prospect" else "contacts", territory.id)


account_registered.connect(_registered)
lead_gained.connect(_gained)


def entered(referrer: str | None, host: str) -> bool:
    """A page view that enters the site: no referrer, or one from another host."""
    if not referrer:
        return True
    return (urlsplit(referrer).hostname or "") != host.split(":", 1)[0]


def count_page_view(response: Response) -> Response:
    """After a public page's HTML answer: one page view, and a visit when it enters the site."""
    tenant = current_tenant()
    if (
        tenant is None
        or request.method != "GET"
        or request.blueprint not in SITE_PAGES
        or response.status_code != 200
        or response.mimetype != "text/html"
        or request.headers.get("Sec-Purpose")
        or request.headers.get("Purpose")  # prefetches
        or ROBOTS.search(request.user_agent.string or "")
    ):
        return response
    visit = entered(request.referrer, request.host)
    count(tenant.id, page_views=1, visits=int(visit))
    return response


def register(app: Flask) -> None:
    app.after_request(count_page_view)


# --- the copy into each territory's schema ------------------------------------------------------


def _counters() -> dict[int, dict[date, dict[str, int]]]:
    """Every territory's counters in Redis: {tenant id: {day: {figure: n}}}."""

    def read(redis) -> dict[int, dict[date, dict[str, int]]]:
        out: dict[int, dict[date, dict[str, int]]] = {}
        for raw in redis.scan_iter(match="vivrau:audience:*", count=500):
            key = raw.decode()
            try:
                _p, _a, tenant_id, day = key.split(":")
                values = {k.decode(): int(v) for k, v in redis.hgetall(raw).items()}
                out.setdefault(int(tenant_id), {})[date.fromisoformat(day)] = values
            except ValueError:
                log.warning("audience: key %s is not ours, left alone", key)
        return out

    return with_redis("audience copy", read, {})


def copy_counters() -> dict[str, object]:
    """Cron: each territory's counters into its `audience_days` (the larger figure kept, so a
    second copy, or one after Redis lost its data, never lowers a day); Redis keeps the last
    few days only."""
    counters = _counters()

    def copy(ref) -> int:
        days = counters.get(ref.id, {})
        known = campaigns.campaign_ids()
        for day, values in days.items():
            _keep_larger(AudienceDay, [AudienceDay.day], {"day": day}, FIGURES, values)
            for campaign_id, figures in _by_campaign(values).items():
                if campaign_id in known:  # a deleted campaign's last figures go with it
                    keys = {"campaign_id": campaign_id, "day": day}
                    columns = [CampaignDay.campaign_id, CampaignDay.day]
                    _keep_larger(CampaignDay, columns, keys, campaigns.FIGURES, figures)
        return len(days)

    return for_each_territory(copy, "audience copy", only=set(counters))


def _keep_larger(model, index, keys: dict, names, values: dict[str, int]) -> None:
    """Upsert a day's row of `model`, each figure the larger of the stored one and Redis's."""
    statement = insert(model).values(**keys, **{name: values.get(name, 0) for name in names})
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=index,
            set_={
                name: func.greatest(getattr(model, name), statement.excluded[name])
                for name in names
            },
        )
    )


def _by_campaign(values: dict[str, int]) -> dict[int, dict[str, int]]:
    """A day's campaign counters, {campaign id: {figure: n}}, from its `campaign:<id>:<figure>`
    fields."""
    out: dict[int, dict[str, int]] = {}
    for name, amount in values.items():
        prefix, _, rest = name.partition(":")
        campaign_id, _, figure = rest.partition(":")
        if prefix == "campaign" and campaign_id.isdigit() and figure in campaigns.FIGURES:
            out.setdefault(int(campaign_id), {})[figure] = amount
    return out


def month_figures(first: date, following: date) -> dict[str, int]:
    """The bound territory's figures over [first, following), as copied so far."""
    row = db.session.execute(
        select(*(func.coalesce(func.sum(getattr(AudienceDay, n)), 0) for n in FIGURES)).where(
            AudienceDay.day >= first, AudienceDay.day < following
        )
    ).one()
    return dict(zip(FIGURES, row, strict=True))
