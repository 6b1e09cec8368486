"""What a territory may use on a given day: the base subscription and options 1–3 of its contracts
(or of its umbrella's contract, while it is a member) and the dated manual grants of the platform
console. Every feature asks this one service (`entitled`, a blueprint `guard`, a job's check);
nothing else decides.

The contracts are billing's: it registers the function that turns them into dated periods
(`use_source`), so that this layer never imports billing. A territory's periods are cached per
process for `ENTITLEMENT_CACHE_SECONDS` and dropped at once when `entitlements_changed` is
announced (a contract, an option, a member or a grant changed)."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import PublicBase
from core.extensions import db
from core.problems import problem
from core.signals import entitlements_changed
from core.tenancy import TenantRef, current_tenant
from core.themes import render_site
from core.web import error_page

PARIS = ZoneInfo("Europe/Paris")


class Feature(enum.StrEnum):
    """What a contract switches on: the base subscription and its three options."""

    base = "base"  # partner territory: listings (console, normed files, API), leads
    barometer = "barometer"  # option 1: attractiveness diagnostic and barometer
    site = "site"  # option 2: the dedicated site on its subdomain
    jobs = "jobs"  # option 3: job-profile features
    #: An umbrella whose contract says it manages its member towns' teams (invites their
    #: editors); a term of the contract, not an option of the offer.
    member_teams = "member_teams"


#: The offer's four items, as the consoles list them (a territory's subscription).
OFFER = (Feature.base, Feature.barometer, Feature.site, Feature.jobs)


FEATURE_LABELS = {
    Feature.base: _l("the base subscription"),
    Feature.barometer: _l("the attractiveness barometer (option 1)"),
    Feature.site: _l("the dedicated site (option 2)"),
    Feature.jobs: _l("the job-profile features (option 3)"),
    Feature.member_teams: _l("the management of its member towns' teams"),
}


#: The same, short, as a column or a row heading.
FEATURE_HEADINGS = {
    Feature.base: _l("Base subscription"),
    Feature.barometer: _l("Option 1 · barometer"),
    Feature.site: _l("Option 2 · dedicated site"),
    Feature.jobs: _l("Option 3 · job profiles"),
    Feature.member_teams: _l("Member towns' teams"),
}


def subscription_words(features) -> str:
    """What a territory holds, in a few words: "Base, options 1 et 3", "Option 2", "Rien"."""
    options_held = (Feature.barometer, Feature.site, Feature.jobs)
    numbers = [n for n, f in enumerate(options_held, 1) if f in features]
    options = ""
    if len(numbers) == 1:
        options = _("option %(number)s", number=numbers[0])
    elif numbers:
        head = ", ".join(map(str, numbers[:-1]))
        options = _("options %(list)s and %(last)s", list=head, last=numbers[-1])
    if Feature.base in features:
        return _("Base, %(options)s", options=options) if options else _("Base only")
    return options[:1].upper() + options[1:] if options else _("Nothing")


def feature_label(feature: Feature | str) -> str:
    return str(FEATURE_LABELS[Feature(feature)])


@dataclass(frozen=True)
class Period:
    """`feature` from `starts_on` until `ends_on` (exclusive; None: no end), and why."""

    feature: Feature
    starts_on: date
    ends_on: date | None
    #: "contract" (its own), "umbrella" (its umbrella's, as a member) or "grant".
    origin: str
    #: The contract's or the grant's id.
    reference: int

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)

    @property
    def last_day(self) -> date | None:
        """The last day it covers (what people read: "until 31/12/2027")."""
        return None if self.ends_on is None else self.ends_on - timedelta(days=1)


Source = Callable[[int], Iterable[Period]]
_sources: list[Source] = []


def use_source(source: Source) -> Source:
    """Register a provider of periods (billing's contracts; the grants below are one too)."""
    if source not in _sources:
        _sources.append(source)
    return source


def today() -> date:
    """The day in Paris (a contract's dates are French ones); tests may set it."""
    return datetime.now(PARIS).date()


def load_periods(tenant_id: int) -> tuple[Period, ...]:
    """Every period of the territory, from every source, uncached (a read of the public
    schema, in the caller's transaction)."""
    found: list[Period] = []
    for source in _sources:
        found.extend(source(tenant_id))
    order = list(Feature)
    return tuple(sorted(found, key=lambda p: (order.index(p.feature), p.starts_on)))


class EntitlementCache:
    """A territory's periods for a few seconds (every request asks; contracts change rarely)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[int, tuple[float, tuple[Period, ...]]] = {}

    def periods(self, tenant_id: int) -> tuple[Period, ...]:
        entry = self._entries.get(tenant_id)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        periods = load_periods(tenant_id)
        self._entries[tenant_id] = (now, periods)
        return periods

    def clear(self) -> None:
        self._entries.clear()


def periods_of(tenant: TenantRef | int) -> tuple[Period, ...]:
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    return current_app.extensions["entitlements"].periods(tenant_id)


def entitled(tenant: TenantRef | int, feature: Feature, on: date | None = None) -> bool:
    """May `tenant` use `feature` on `on` (today)?"""
    day = on or today()
    return any(p.feature == feature and p.covers(day) for p in periods_of(tenant))


def features_of(tenant: TenantRef | int, on: date | None = None) -> frozenset[Feature]:
    day = on or today()
    return frozenset(p.feature for p in periods_of(tenant) if p.covers(day))


def current_period(tenant: TenantRef | int, feature: Feature, on: date | None = None):
    """The period that gives `feature` on `on`, the one lasting longest first (None: none)."""
    day = on or today()
    running = [p for p in periods_of(tenant) if p.feature == feature and p.covers(day)]
    return max(running, key=lambda p: p.ends_on or date.max, default=None)


class NotSubscribed(Exception):
    """The bound territory has not subscribed to `feature`: a polite page, never an error."""

    def __init__(self, feature: Feature, tenant: TenantRef):
        super().__init__(f"{tenant.slug} has not subscribed to {feature.value}")
        self.feature, self.tenant = feature, tenant


def require(feature: Feature) -> None:
    """Refuse the request (NotSubscribed) unless the bound territory has `feature` today."""
    tenant = current_tenant()
    if tenant is not None and not entitled(tenant, feature):
        raise NotSubscribed(feature, tenant)


#: Views that stay open whatever the contract (a logo the console shows, a favicon).
def always_open(view):
    view.entitlement_free = True
    return view


def guard(feature: Feature) -> Callable[[], None]:
    """A blueprint's `before_request`: its views need `feature` on a territory's host."""

    def check() -> None:
        view = current_app.view_functions.get(request.endpoint)
        if not getattr(view, "entitlement_free", False):
            require(feature)

    check.__name__ = f"requires_{feature.value}"
    return check


def not_subscribed_page(error: NotSubscribed):
    """The territory's own look, what it has not subscribed to, and whom to write to."""
    feature, tenant = error.feature, error.tenant
    if request.path.startswith("/api/"):
        detail = _(
            "%(territory)s has not subscribed to %(feature)s.",
            territory=tenant.name,
            feature=feature_label(feature),
        )
        return problem(403, detail)
    try:
        page = render_site(
            "not_subscribed.html",
            feature=feature,
            feature_name=feature_label(feature),
            contact=current_app.config["SELLER_EMAIL"],
        )
    except Exception:  # noqa: BLE001 - the refusal must answer whatever else broke
        current_app.logger.exception("the not-subscribed page could not be drawn")
        return error_page(403)
    return page, 403


def _changed(_sender=None, **_data) -> None:
    if has_app_context() and "entitlements" in current_app.extensions:
        current_app.extensions["entitlements"].clear()


def entitled_here(feature: str) -> bool:
    """For templates: has the bound territory `feature` today (True on the console host)?"""
    tenant = current_tenant()
    return tenant is None or entitled(tenant, Feature(feature))


def register(app) -> None:
    app.extensions["entitlements"] = EntitlementCache(app.config["ENTITLEMENT_CACHE_SECONDS"])
    app.context_processor(lambda: {"entitled_here": entitled_here})
    app.add_template_filter(feature_label, "feature_label")
    app.register_error_handler(NotSubscribed, not_subscribed_page)
    entitlements_changed.connect(_changed)


# --- manual grants -----------------------------------------------------------------------------


class Grant(PublicBase):
    """A dated manual grant of the platform console: a territory being set up before its
    contract is signed. Never deleted: a revoked grant ends on the day it was revoked."""

    __tablename__ = "entitlement_grants"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    feature: Mapped[Feature] = mapped_column(
        Enum(Feature, name="entitlement_feature", values_callable=lambda e: [m.value for m in e])
    )
    starts_on: Mapped[date] = mapped_column(Date)
    #: Exclusive, and required: a grant always ends.
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: Who granted it, by pseudonym or "cli", kept when the account is erased.
    granted_by_ref: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    revoked_at: Mapped[datetime | None]
    revoked_by_ref: Mapped[str | None] = mapped_column(String(32))

    def period_end(self) -> date:
        """Its last day + 1, a revocation included."""
        if self.revoked_at is None:
            return self.ends_on
        return min(self.ends_on, max(self.starts_on, self.revoked_at.astimezone(PARIS).date()))

    def last_day(self) -> date | None:
        """The last day it gave anything (None: revoked before it started)."""
        end = self.period_end()
        return end - timedelta(days=1) if end > self.starts_on else None


def _grant_periods(tenant_id: int) -> list[Period]:
    rows = db.session.execute(
        select(Grant.id, Grant.feature, Grant.starts_on, Grant.ends_on, Grant.revoked_at).where(
            Grant.tenant_id == tenant_id
        )
    ).all()
    periods = []
    for row in rows:
        ends = row.ends_on
        if row.revoked_at is not None:
            ends = min(ends, row.revoked_at.astimezone(PARIS).date())
        if ends > row.starts_on:  # revoked before it started: it never gave anything
            periods.append(Period(Feature(row.feature), row.starts_on, ends, "grant", row.id))
    return periods


use_source(_grant_periods)
