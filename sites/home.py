"""The home page's figures: a territory's key figures computed from its cells (cached in Redis,
dropped when its cells, its listings or the national profiles change), its latest listings and
its member towns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from flask_babel import format_percent
from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased

from core import signals
from core.extensions import db, with_redis
from core.fanout import read_in
from core.i18n import pick
from core.registry import Tenant, TenantKind, TenantStatus, members_of
from core.tenancy import TenantRef
from ingest.listings.declaration import KINDS
from ingest.listings.models import Listing
from ingest.listings.photos import main_photos, own_url
from ingest.reference.communes import names_of
from ingest.reference.criteria import BY_ID
from ingest.reference.models import CellPopulation, CellProfile, Commune
from ingest.reference.territory import TerritoryCell, territory_communes
from sites.listings.members import photo_url
from sites.listings.public import summary, visible
from sites.search.values import km, threshold_text

#: The amenities the home page speaks of, in this order (criteria of the catalogue, in km).
AMENITIES = (
    "gp_km",
    "pharmacy_km",
    "primary_school_km",
    "college_km",
    "supermarket_km",
    "train_station_km",
)
_PREFIX = "vivrau:home:"
#: A cached entry's life even if no signal reached it (a bump missed while Redis was away).
_TTL_SECONDS = 6 * 3600
#: Median price per m² of the sales in the territory's cells, per property type.
_PRICES_SQL = text(
    """
    SELECT property_type, count(*) AS sales,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY price_eur / built_area_m2) AS median
    FROM property_sales
    WHERE cell_id = ANY(:cells) AND built_area_m2 > 0
    GROUP BY property_type
    """
)


@dataclass
class Amenity:
    """How far the inhabitants live from an amenity: the distance half of them are within, and
    the share within the catalogue's default must-have bound."""

    criterion: str
    median_km: float
    threshold_km: float
    share_within: float  # 0..1 of the inhabitants (of the cells, when no population is known)


@dataclass
class KeyFigures:
    population: int | None
    communes: int
    cells: int
    amenities: list[Amenity] = field(default_factory=list)
    #: property type (house, flat) → (median € per m², number of sales)
    prices: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: kind → published listings (an umbrella's: its own and its members')
    listings: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: str) -> KeyFigures:
        raw = json.loads(data)
        raw["amenities"] = [Amenity(**a) for a in raw["amenities"]]
        raw["prices"] = {k: tuple(v) for k, v in raw["prices"].items()}
        return cls(**raw)


# --- computation ---------------------------------------------------------------------------------


def weighted_median(pairs: list[tuple[float, float]]) -> float | None:
    """The value below which half the weight lies, of (value, weight) pairs."""
    pairs = sorted((v, w) for v, w in pairs if w > 0)
    total = sum(w for _v, w in pairs)
    if not total:
        return None
    running = 0.0
    for value, weight in pairs:
        running += weight
        if running >= total / 2:
            return value
    return pairs[-1][0]  # pragma: no cover - the loop always reaches half the total


def _amenities(cells: list[str], weights: dict[str, float]) -> list[Amenity]:
    columns = [getattr(CellProfile, name) for name in AMENITIES]
    rows = db.session.execute(
        select(CellProfile.cell_id, *columns).where(CellProfile.cell_id.in_(cells))
    ).all()
    out = []
    for i, name in enumerate(AMENITIES, start=1):
        # Cells with nobody in them would pull the figure towards empty land: weigh by people.
        pairs = [(row[i], weights.get(row[0], 0.0)) for row in rows if row[i] is not None]
        median = weighted_median(pairs)
        if median is None:
            continue
        threshold = BY_ID[name].threshold
        total = sum(w for _v, w in pairs)
        within = sum(w for v, w in pairs if v <= threshold)
        out.append(Amenity(name, round(median, 1), threshold, round(within / total, 3)))
    return out


def _listing_counts() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Listing.kind, func.count()).where(visible()).group_by(Listing.kind)
        ).all()
    )


def compute_figures(tenant: TenantRef) -> KeyFigures:
    """The bound territory's key figures, read from its cells and the national tables."""
    cells = list(db.session.execute(select(TerritoryCell.cell_id)).scalars())
    codes = territory_communes(tenant)
    # Two reads rather than a join: territory and national tables never meet in SQL.
    population = db.session.execute(
        select(func.sum(Commune.population)).where(Commune.insee.in_(codes))
    ).scalar()
    people = dict(
        db.session.execute(
            select(CellPopulation.cell_id, CellPopulation.ind).where(
                CellPopulation.cell_id.in_(cells)
            )
        ).all()
    )
    if population is None and people:
        population = round(sum(people.values()))
    weights = people or dict.fromkeys(cells, 1.0)
    prices = {
        row.property_type: (round(row.median), row.sales)
        for row in db.session.execute(_PRICES_SQL, {"cells": cells})
        if row.median is not None
    }
    listings = _listing_counts()
    if tenant.kind == TenantKind.umbrella:
        for member in members_of(db.session, tenant.id):
            for kind, count in read_in(member.ref(), _listing_counts).items():
                listings[kind] = listings.get(kind, 0) + count
    return KeyFigures(
        population=int(population) if population is not None else None,
        communes=len(codes),
        cells=len(cells),
        amenities=_amenities(cells, weights) if cells else [],
        prices=prices,
        listings={k: listings[k] for k in KINDS if listings.get(k)},
    )


# --- cache ---------------------------------------------------------------------------------------
# An entry holds the generations it was computed under: the national one and, per territory
# whose data it shows (itself, an umbrella's members), one bumped by its cells and listings.


def _generation_keys(tenant: TenantRef, members: list[str]) -> list[str]:
    return [f"{_PREFIX}gen:profiles"] + [f"{_PREFIX}gen:{s}" for s in (tenant.slug, *members)]


def key_figures(tenant: TenantRef) -> KeyFigures:
    """The bound territory's key figures, from the cache when nothing they read has changed."""
    members = []
    if tenant.kind == TenantKind.umbrella:
        members = [m.slug for m in members_of(db.session, tenant.id)]
    entry_key = f"{_PREFIX}figures:{tenant.slug}"
    keys = [entry_key, *_generation_keys(tenant, members)]
    found = with_redis("home figures", lambda conn: conn.mget(keys), None)
    if found is None:  # Redis away: computed for this page, not kept
        return compute_figures(tenant)
    generations = [(g or b"0").decode() for g in found[1:]]
    if found[0] is not None:
        cached = json.loads(found[0])
        if cached["generations"] == generations:
            return KeyFigures.from_json(cached["figures"])
    figures = compute_figures(tenant)
    entry = json.dumps({"generations": generations, "figures": figures.to_json()})
    with_redis("home figures", lambda conn: conn.set(entry_key, entry, ex=_TTL_SECONDS), None)
    return figures


def _bump(key: str) -> None:
    with_redis("home figures", lambda conn: conn.incr(key), None)


@signals.profiles_changed.connect
def _profiles_changed(sender=None, **_data) -> None:
    _bump(f"{_PREFIX}gen:profiles")


@signals.cells_changed.connect
def _cells_changed(tenant: TenantRef, **_data) -> None:
    _bump(f"{_PREFIX}gen:{tenant.slug}")


@signals.listings_changed.connect
def _listings_changed(tenant: TenantRef, **_data) -> None:
    # Its umbrellas read the same generation, so their figures are recomputed too.
    _bump(f"{_PREFIX}gen:{tenant.slug}")


# --- latest listings and member towns ------------------------------------------------------------


@dataclass
class Card:
    """What a listing card shows: read in the listing's own territory, linked from any site."""

    kind: str
    external_id: str
    title: str
    commune_insee: str
    facts: list[str]
    site: TenantRef | None = None  # None: the site showing it
    photo: str | None = None  # its main photo's thumbnail, served by its own site


def _latest(limit: int, url=own_url) -> list[tuple]:
    """(updated at, card) of the newest visible listings, `limit` of each kind at most."""
    newest = (
        select(
            Listing,
            func.row_number()
            .over(
                partition_by=Listing.kind, order_by=(Listing.updated_at.desc(), Listing.id.desc())
            )
            .label("rank"),
        )
        .where(visible())
        .subquery()
    )
    picked = aliased(Listing, newest)
    rows = list(
        db.session.execute(
            select(picked).where(newest.c.rank <= limit).order_by(newest.c.rank)
        ).scalars()
    )
    photos = main_photos(rows, url)
    return [
        (
            x.updated_at,
            Card(x.kind, x.external_id, x.title, x.commune_insee, summary(x)),
            photos[x.id].thumb if x.id in photos else None,
        )
        for x in rows
    ]


def latest_listings(tenant: TenantRef, limit: int = 8) -> list[Card]:
    """The territory's newest visible listings, kinds taking turns so that one busy kind does
    not hide the others; an umbrella's with its members'."""
    found = []
    for at, card, photo in _latest(limit):
        card.photo = photo
        found.append((at, card))
    if tenant.kind == TenantKind.umbrella:
        for member in members_of(db.session, tenant.id):
            ref = member.ref()
            # A member's photos are served through this site (its pages load images from their
            # own host only).
            for at, card, photo in read_in(ref, lambda ref=ref: _latest(limit, photo_url(ref))):
                card.site, card.photo = ref, photo
                found.append((at, card))
    by_kind: dict[str, dict[str, list[Card]]] = {}
    for _at, card in sorted(found, key=lambda pair: pair[0], reverse=True):
        site = card.site.slug if card.site else ""
        by_kind.setdefault(card.kind, {}).setdefault(site, []).append(card)
    # Within a kind the sites take turns too (the member that imported a file last would
    # otherwise fill every card of its kinds), each kind starting with the next site, so that
    # the first cards already show several towns.
    mixed = []
    for i, sites in enumerate(by_kind.values()):
        lists = list(sites.values())
        start = i % len(lists)
        mixed.append(_turns(lists[start:] + lists[:start]))
    return _turns(mixed)[:limit]


def _turns(lists: list[list]) -> list:
    """The lists' items taking turns: the first of each, then the second of each…"""
    longest = max(map(len, lists), default=0)
    return [items[i] for i in range(longest) for items in lists if i < len(items)]


@dataclass
class Town:
    name: str
    insee: str | None
    site: TenantRef | None  # its own site on the platform, if it has one


def member_towns(tenant: TenantRef) -> list[Town]:
    """An umbrella's member towns, or a communauté's communes (those with a site first)."""
    if tenant.kind == TenantKind.umbrella:
        return [Town(m.name, m.official_code, m.ref()) for m in members_of(db.session, tenant.id)]
    if tenant.kind != TenantKind.epci:
        return []
    codes = territory_communes(tenant)
    names = names_of(codes)
    sites = {
        t.official_code: t.ref()
        for t in db.session.execute(
            select(Tenant).where(
                Tenant.kind == TenantKind.commune,
                Tenant.status == TenantStatus.active,
                Tenant.official_code.in_(codes),
            )
        ).scalars()
    }
    towns = [Town(names.get(code, code), code, sites.get(code)) for code in codes]
    return sorted(towns, key=lambda t: (t.site is None, t.name))


def amenity_lines(figures: KeyFigures) -> list[tuple[str, str, str, str]]:
    """Each everyday service as the pages say it: its name, the distance within which half of
    the inhabitants live, the threshold, and the share living within it."""
    return [
        (
            pick(BY_ID[a.criterion].label_fr, BY_ID[a.criterion].label_en),
            km(a.median_km),
            threshold_text(BY_ID[a.criterion], a.threshold_km),
            format_percent(a.share_within),
        )
        for a in figures.amenities
    ]
