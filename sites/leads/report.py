"""What a territory's team sees of its leads: funnel, per commune, over time, and the lead list.

Counts cover everyone; a person's identity, criteria and budget appear only while that person's
consent to this territory is in force. Everyone else is "Contact n° N", N being the smallest
lead id the person has here: stable, meaningless elsewhere, and gone with the person.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import and_, distinct, exists, func, literal_column, select
from sqlalchemy.orm import aliased

from core.auth.models import Account
from core.extensions import db
from core.i18n import pick
from ingest.reference.communes import names_of
from ingest.reference.criteria import BY_ID
from sites.leads.consent import consenting
from sites.leads.models import STAGES, Lead, LeadEvent

PARIS = ZoneInfo("Europe/Paris")
PAGE_SIZE = 50
GRAINS = ("week", "month")


@dataclass(frozen=True)
class Filters:
    commune: str | None = None
    stage: str | None = None
    since: date | None = None
    until: date | None = None
    grain: str = "month"
    page: int = 1
    #: On an umbrella: only the leads of these communes (one member town's).
    communes: tuple[str, ...] | None = None
    member: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        def day(name):
            try:
                return date.fromisoformat((args.get(name) or "").strip()[:10])
            except ValueError:
                return None

        try:
            page = max(1, min(int(args.get("page", 1)), 100_000))
        except ValueError:
            page = 1
        commune = (args.get("commune") or "").strip().upper()[:5] or None
        stage = args.get("stage") if args.get("stage") in STAGES else None
        grain = args.get("grain") if args.get("grain") in GRAINS else "month"
        member = (args.get("member") or "").strip()[:41] or None
        return cls(commune, stage, day("since"), day("until"), grain, page, None, member)

    def args(self, **over) -> dict:
        values = {
            "commune": self.commune,
            "stage": self.stage,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "grain": self.grain if self.grain != "month" else None,
            "member": self.member,
            "page": self.page if self.page > 1 else None,
        } | over
        return {k: v for k, v in values.items() if v is not None}

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as UTC instants: from `since` 00:00 to the end of `until`, Paris time."""
        start = datetime.combine(self.since, time(), PARIS) if self.since else None
        end = (
            datetime.combine(self.until + timedelta(days=1), time(), PARIS) if self.until else None
        )
        return start, end


def _event_window(filters: Filters, events=LeadEvent):
    start, end = filters.bounds()
    clauses = []
    if start is not None:
        clauses.append(events.at >= start)
    if end is not None:
        clauses.append(events.at < end)
    return clauses


def _lead_where(filters: Filters, with_stage: bool = True) -> list:
    where = []
    if filters.commune:
        where.append(Lead.commune_insee == filters.commune)
    if filters.communes is not None:
        where.append(Lead.commune_insee.in_(filters.communes))
    if with_stage and filters.stage:
        where.append(Lead.stage == filters.stage)
    window = _event_window(filters)
    if window:  # active in the period: at least one search, click or message in it
        where.append(exists().where(LeadEvent.lead_id == Lead.id, *window))
    return where


# --- figures for everyone ------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    contacts: int
    prospects: int
    people: int
    #: Messages written to advertisers (events `contact`) in the period: the strongest sign.
    messages: int = 0

    @property
    def rate(self) -> int | None:
        """Share of contacts who became prospects, in whole percent."""
        return round(100 * self.prospects / self.contacts) if self.contacts else None


def funnel(filters: Filters) -> Funnel:
    """Contacts (every lead: a prospect was a contact first) → prospects, distinct people, and
    the messages they wrote to advertisers."""
    where = _lead_where(filters, with_stage=False)
    row = db.session.execute(
        select(
            func.count(),
            func.count().filter(Lead.stage == "prospect"),
            func.count(distinct(Lead.account_id)),
        ).where(*where)
    ).one()
    # An alias: `where` may hold an EXISTS on lead_events that must correlate to Lead only.
    sent = aliased(LeadEvent)
    messages = db.session.execute(
        select(func.count())
        .select_from(sent)
        .join(Lead, Lead.id == sent.lead_id)
        .where(sent.kind == "contact", *where, *_event_window(filters, sent))
    ).scalar()
    return Funnel(*row, messages=messages)


def _messages_per_lead(filters: Filters):
    """Per lead, its messages to advertisers in the period (a subquery to join)."""
    return (
        select(LeadEvent.lead_id, func.count().label("messages"))
        .where(LeadEvent.kind == "contact", *_event_window(filters))
        .group_by(LeadEvent.lead_id)
        .subquery("messages")
    )


def per_commune(filters: Filters) -> list[dict]:
    messages = _messages_per_lead(filters)
    rows = db.session.execute(
        select(
            Lead.commune_insee,
            func.count(),
            func.count().filter(Lead.stage == "prospect"),
            func.coalesce(func.sum(messages.c.messages), 0),
        )
        .outerjoin(messages, messages.c.lead_id == Lead.id)
        .where(*_lead_where(filters, with_stage=False))
        .group_by(Lead.commune_insee)
        .order_by(func.count().desc(), Lead.commune_insee)
    ).all()
    names = names_of(r[0] for r in rows)
    return [
        {
            "insee": code,
            "name": names.get(code, code),
            "contacts": c,
            "prospects": p,
            "messages": int(m),
        }
        for code, c, p, m in rows
    ]


def over_time(filters: Filters) -> list[dict]:
    """Per week or month (Paris time), newest first: new contacts, new prospects, searches,
    clicks and messages to advertisers. Bounded to the chosen period, else to the last 12
    months or 26 weeks."""
    start, end = filters.bounds()
    if start is None:
        today = datetime.now(PARIS).date()
        back = timedelta(weeks=26) if filters.grain == "week" else timedelta(days=366)
        start = datetime.combine(today - back, time(), PARIS)
    unit = literal_column("'week'" if filters.grain == "week" else "'month'")

    def bucket(column):
        return func.date_trunc(unit, func.timezone("Europe/Paris", column))

    def window(column):
        return and_(column >= start, column < end) if end is not None else column >= start

    lead_where = _lead_where(replace(filters, since=None, until=None), with_stage=False)
    figures: dict[date, dict] = {}

    def add(rows, *names):
        for period, *values in rows:
            slot = figures.setdefault(
                period.date(),
                {"contacts": 0, "prospects": 0, "search": 0, "click": 0, "contact": 0},
            )
            for name, value in zip(names, values, strict=True):
                slot[name] += value

    started = bucket(Lead.first_seen_at)
    add(
        db.session.execute(
            select(started, func.count())
            .where(*lead_where, window(Lead.first_seen_at))
            .group_by(started)
        ).all(),
        "contacts",
    )
    converted = bucket(Lead.prospect_at)
    add(
        db.session.execute(
            select(converted, func.count())
            .where(*lead_where, Lead.prospect_at.is_not(None), window(Lead.prospect_at))
            .group_by(converted)
        ).all(),
        "prospects",
    )
    at = bucket(LeadEvent.at)
    add(
        db.session.execute(
            select(
                at,
                func.count().filter(LeadEvent.kind == "search"),
                func.count().filter(LeadEvent.kind == "click"),
                func.count().filter(LeadEvent.kind == "contact"),
            )
            .join(Lead, Lead.id == LeadEvent.lead_id)
            .where(*lead_where, window(LeadEvent.at))
            .group_by(at)
        ).all(),
        "search",
        "click",
        "contact",
    )
    return [{"period": k, **v} for k, v in sorted(figures.items(), reverse=True)]


# --- the list, identities only with consent --------------------------------------------------


@dataclass
class LeadRow:
    number: int
    account_id: int
    commune: str
    commune_name: str
    stage: str
    first_seen_at: datetime
    last_seen_at: datetime
    prospect_at: datetime | None
    #: Where the person first became a lead: "site" or "portal".
    origin: str = "site"
    #: Filled only while the person's consent is in force.
    name: str | None = None
    email: str | None = None
    criteria: list[str] | None = None
    household: str | None = None
    budget: Decimal | None = None
    #: Messages written to advertisers (counted for everyone: a count names no one).
    messages: int = 0
    #: The listing of the latest message, only while consent is in force.
    last_listing: str | None = None

    @property
    def label(self) -> str:
        return _("Contact no. %(n)s", n=self.number)


@dataclass
class LeadPage:
    rows: list[LeadRow]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _select_rows(filters: Filters):
    return (
        select(Lead).where(*_lead_where(filters)).order_by(Lead.last_seen_at.desc(), Lead.id.desc())
    )


def _identify(found: list[Lead]) -> list[LeadRow]:
    accounts = {lead.account_id for lead in found}
    numbers = (
        dict(
            db.session.execute(
                select(Lead.account_id, func.min(Lead.id))
                .where(Lead.account_id.in_(accounts))
                .group_by(Lead.account_id)
            ).all()
        )
        if accounts
        else {}
    )
    leads = [(lead, numbers[lead.account_id]) for lead in found]
    names = names_of(lead.commune_insee for lead in found)
    written = (
        dict(
            db.session.execute(
                select(LeadEvent.lead_id, func.count())
                .where(LeadEvent.lead_id.in_([lead.id for lead in found]))
                .where(LeadEvent.kind == "contact")
                .group_by(LeadEvent.lead_id)
            ).all()
        )
        if found
        else {}
    )
    rows = [
        LeadRow(
            number=number,
            account_id=lead.account_id,
            commune=lead.commune_insee,
            commune_name=names.get(lead.commune_insee, lead.commune_insee),
            stage=lead.stage,
            first_seen_at=lead.first_seen_at,
            last_seen_at=lead.last_seen_at,
            prospect_at=lead.prospect_at,
            origin=lead.origin,
            messages=written.get(lead.id, 0),
        )
        for lead, number in leads
    ]
    allowed = consenting({r.account_id for r in rows})
    if not allowed:
        return rows
    people = {
        a.id: a
        for a in db.session.execute(select(Account).where(Account.id.in_(allowed))).scalars()
    }
    lead_ids = [lead.id for lead, _n in leads if lead.account_id in allowed]
    latest = (
        select(func.max(LeadEvent.id))
        .where(LeadEvent.lead_id.in_(lead_ids), LeadEvent.kind == "search")
        .group_by(LeadEvent.lead_id)
    )
    last = {
        e.lead_id: e
        for e in db.session.execute(select(LeadEvent).where(LeadEvent.id.in_(latest))).scalars()
    }
    latest_message = (
        select(func.max(LeadEvent.id))
        .where(LeadEvent.lead_id.in_(lead_ids), LeadEvent.kind == "contact")
        .group_by(LeadEvent.lead_id)
    )
    wrote_about = {
        e.lead_id: e.criteria
        for e in db.session.execute(
            select(LeadEvent).where(LeadEvent.id.in_(latest_message))
        ).scalars()
    }
    for (lead, _n), row in zip(leads, rows, strict=True):
        person = people.get(lead.account_id)
        if person is None:
            continue
        row.name, row.email = person.display_name, person.email
        row.last_listing = describe_listing(wrote_about.get(lead.id))
        event = last.get(lead.id)
        if event is not None:
            row.criteria = describe_criteria(event.criteria)
            row.household = describe_household(event.criteria)
            row.budget = event.budget
    return rows


ORIGIN_LABELS = {"site": _l("the territory's site"), "portal": _l("the national portal")}


def origin_label(origin: str) -> str:
    return str(ORIGIN_LABELS.get(origin, origin))


def lead_page(filters: Filters) -> LeadPage:
    total = db.session.execute(
        select(func.count()).select_from(Lead).where(*_lead_where(filters))
    ).scalar()
    found = db.session.execute(
        _select_rows(filters).limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    ).scalars()
    return LeadPage(_identify(list(found)), total, filters.page)


def all_rows(filters: Filters, batch: int = 500) -> Iterator[LeadRow]:
    """Every matching row, identified where consented, read in batches (for the CSV)."""
    offset = 0
    while True:
        found = list(
            db.session.execute(_select_rows(filters).limit(batch).offset(offset)).scalars()
        )
        if not found:
            return
        yield from _identify(found)
        offset += batch


# --- words -------------------------------------------------------------------------------------


def _number(value) -> str:
    text = f"{value:g}" if isinstance(value, int | float) else str(value)
    return text.replace(".", ",")


def describe_criteria(snapshot, locale: str | None = None) -> list[str]:
    """The criteria of a search snapshot in words: "Nearest GP ≤ 10 km (must have)"."""
    items = snapshot.get("criteria", []) if isinstance(snapshot, dict) else snapshot or []
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        criterion = BY_ID.get(item.get("id"))
        if criterion is None:
            continue
        threshold = item.get("threshold", criterion.threshold)
        sign = "≤" if criterion.direction == "lower" else "≥"
        unit = "" if criterion.unit == "count" else f" {criterion.unit}"
        importance = _("nice to have") if item.get("importance") == "nice" else _("must have")
        label = pick(criterion.label_fr, criterion.label_en, locale)
        out.append(f"{label} {sign} {_number(threshold)}{unit} ({importance})")
    return out


def describe_listing(snapshot) -> str | None:
    """The listing a message was about, as recorded in its event: its title."""
    listing = snapshot.get("listing") if isinstance(snapshot, dict) else None
    if not isinstance(listing, dict):
        return None
    title = listing.get("title")
    return str(title) if title else None


def describe_household(snapshot) -> str | None:
    household = snapshot.get("household") if isinstance(snapshot, dict) else None
    if not isinstance(household, dict):
        return None
    adults, children = household.get("adults"), household.get("children")
    parts = []
    if isinstance(adults, int):
        parts.append(ngettext("%(num)d adult", "%(num)d adults", adults))
    if isinstance(children, int):
        parts.append(ngettext("%(num)d child", "%(num)d children", children))
    return ", ".join(parts) or None


def stage_label(stage: str) -> str:
    return _("prospect") if stage == "prospect" else _("contact")
