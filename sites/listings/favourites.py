"""Favourite properties of a registered visitor, and "my place": what is around a saved home."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, delete, select
from sqlalchemy.dialects.postgresql import insert

from core.extensions import db, limiter
from core.inputs import bounded_int
from core.tenancy import require_tenant
from core.themes import render_site
from ingest.listings.labels import kind_title
from ingest.listings.models import Listing
from ingest.reference.communes import names_of
from ingest.reference.criteria import BY_ID
from sites.listings import nearby
from sites.listings.models import Favourite
from sites.listings.placemaps import place_map as draw
from sites.listings.public import summary, visible
from sites.search.engine import evaluate_cell
from sites.search.query import QueryError, parse_query
from sites.search.saved import latest_search
from sites.search.values import km
from tenants.entitlements import Feature, guard

bp = Blueprint("favourites", __name__, url_prefix="/compte/favoris")
bp.before_request(guard(Feature.site))  # the dedicated site: option 2
RADII = (5, 10, 20, 30)
#: Kinds shown around a property: what a mover weighs besides the house.
OPPORTUNITIES = ("job", "business", "leisure")
#: Markers drawn on the map at most (the nearest); the list says when there are more.
MAP_MAX = 300


def _own(favourite_id: int) -> Favourite:
    """The signed-in visitor's favourite on this territory, or 404 (never a 403: no hint)."""
    favourite = db.session.execute(
        select(Favourite).where(
            Favourite.id == favourite_id, Favourite.account_id == current_user.id
        )
    ).scalar_one_or_none()
    if favourite is None:
        abort(404)
    return favourite


def _available(listing_id: int) -> Listing | None:
    return db.session.execute(
        select(Listing).where(Listing.id == listing_id, visible())
    ).scalar_one_or_none()


def add_favourite(account_id: int, listing_id: int) -> None:
    """Save a listing for the person; saving it twice (two tabs, a double click racing itself)
    keeps the one favourite, without a unique violation at commit."""
    db.session.execute(
        insert(Favourite)
        .values(account_id=account_id, listing_id=listing_id)
        .on_conflict_do_nothing(index_elements=[Favourite.account_id, Favourite.listing_id])
    )


def remove_favourite(account_id: int, listing_id: int) -> None:
    """Forget a saved listing; already forgotten (by a racing request) is no error."""
    db.session.execute(
        delete(Favourite).where(
            Favourite.account_id == account_id, Favourite.listing_id == listing_id
        )
    )


def listing_url(listing: Listing) -> str:
    return url_for("listings_site.listing", kind=listing.kind, external_id=listing.external_id)


@bp.post("/basculer")
@login_required
@limiter.limit("60 per minute")
def toggle():
    """Save or remove a listing of any kind (a form on its page; works without script)."""
    require_tenant()
    listing_id = request.form.get("listing", type=bounded_int)
    action = request.form.get("action")
    if action not in ("add", "remove") or listing_id is None:
        abort(400)
    if action == "remove":
        listing = db.session.get(Listing, listing_id)
        remove_favourite(current_user.id, listing_id)
        flash(_("Removed from your favourites."), "success")
        if listing is not None and _available(listing_id) is not None:
            return redirect(listing_url(listing))
        return redirect(url_for("favourites.index"))
    listing = _available(listing_id)
    if listing is None:
        abort(404)  # only a published listing of this territory can be saved
    add_favourite(current_user.id, listing.id)
    flash(_("Saved to your favourites."), "success")
    return redirect(listing_url(listing))


@bp.get("/")
@login_required
def index():
    tenant = require_tenant()
    favourites = list(
        db.session.execute(
            select(Favourite)
            .where(Favourite.account_id == current_user.id)
            .order_by(Favourite.created_at.desc(), Favourite.id.desc())
        ).scalars()
    )
    listings = {
        x.id: x
        for x in db.session.execute(
            select(Listing).where(Listing.id.in_([f.listing_id for f in favourites]))
        ).scalars()
    }
    shown = {
        x
        for x in db.session.execute(
            select(Listing.id).where(Listing.id.in_(list(listings)), visible())
        ).scalars()
    }
    rows = []
    for f in favourites:
        listing = listings.get(f.listing_id)
        available = listing is not None and listing.id in shown
        rows.append(
            {
                "favourite": f,
                "listing": listing,
                "available": available,
                "facts": summary(listing) if listing is not None else [],
                "url": listing_url(listing) if available else None,
            }
        )
    names = names_of(x.commune_insee for x in listings.values())
    return render_site(
        "favourites.html", tenant=tenant, rows=rows, names=names, kind_title=kind_title
    )


# --- "my place" -------------------------------------------------------------------------------


@dataclass
class Missing:
    """A criterion the property's square fails, with the nearest such amenity if it is one."""

    label: str
    text: str
    nearest_km: float | None
    nearest_name: str | None
    importance: str


def default_query() -> dict:
    """Without a saved search: every amenity of the catalogue at its default distance, as a
    must-have (what a mover looks at first)."""
    return {
        "criteria": [
            {"id": c.id, "threshold": c.threshold, "importance": "must"}
            for c in nearby.nearest_criteria()
        ]
    }


def missing_amenities(tenant, cell_id: str | None, point) -> tuple[list[Missing], str, str | None]:
    """(failing criteria, where the criteria come from, a reason when none can be judged)."""

    saved = latest_search(current_user.id)
    source = saved.name if saved is not None else ""
    try:
        query = parse_query(saved.query if saved is not None else default_query())
    except QueryError:  # a search saved under an older catalogue
        query, source = parse_query(default_query()), ""
    if not query.criteria:
        return [], source, _("Your saved search has no criterion.")
    if cell_id is None:
        return [], source, _("This property has no location: its square cannot be judged.")
    try:
        evaluation = evaluate_cell(tenant, query, cell_id)
    except LookupError:
        return [], source, _("This property lies outside the territory's squares.")
    failing = [c for c in evaluation["criteria"] if not c["ok"]]
    near_ids = [BY_ID[c["id"]] for c in failing if BY_ID[c["id"]].method == "nearest"]
    amenities = nearby.nearest_amenities(*point, near_ids) if point and near_ids else {}
    out = []
    for c in failing:
        criterion = BY_ID[c["id"]]
        # Worded by the engine, as the search page words them (one rounding, one unit word).
        bound = ("≤ " if criterion.direction == "lower" else "≥ ") + c["threshold_text"]
        value = c["value_text"] or _("unknown")
        if criterion.method == "nearest":
            text = (
                _(
                    "%(label)s at %(value)s while you asked for %(bound)s",
                    label=c["label"],
                    value=value,
                    bound=bound,
                )
                if c["value"] is not None
                else _(
                    "%(label)s: not known for this square, while you asked for %(bound)s",
                    label=c["label"],
                    bound=bound,
                )
            )
        else:
            text = _(
                "%(label)s: %(value)s while you asked for %(bound)s",
                label=c["label"],
                value=value,
                bound=bound,
            )
        amenity = amenities.get(c["id"])
        out.append(
            Missing(
                label=c["label"],
                text=text,
                nearest_km=amenity.distance_km if amenity else None,
                nearest_name=amenity.name if amenity else None,
                importance=c["importance"],
            )
        )
    return out, source, None


@bp.get("/<int:favourite_id>")
@login_required
def place(favourite_id: int):
    tenant = require_tenant()
    favourite = _own(favourite_id)
    listing = _available(favourite.listing_id)
    if listing is None:
        gone = db.session.get(Listing, favourite.listing_id)
        return render_site(
            "place.html", tenant=tenant, favourite=favourite, gone=gone, listing=None
        )
    point = nearby.listing_point(listing)
    opportunities: dict[str, list] = {k: [] for k in OPPORTUNITIES}
    total = 0
    place_map = None
    if point is not None:
        total, rows = nearby.around(
            *point,
            favourite.radius_km,
            and_(visible(), Listing.kind.in_(OPPORTUNITIES), Listing.id != listing.id),
        )
        for other, distance, _x, _y in rows:
            opportunities[other.kind].append((other, distance))

        markers = [
            (other.kind, other.title, listing_url(other), x, y)
            for other, _distance, x, y in rows[:MAP_MAX]
        ]
        place_map = draw(point[0], point[1], favourite.radius_km, markers)
    missing, source, reason = missing_amenities(tenant, listing.cell_id, point)
    codes = [listing.commune_insee] + [
        o.commune_insee for v in opportunities.values() for o, _d in v
    ]
    return render_site(
        "place.html",
        tenant=tenant,
        favourite=favourite,
        listing=listing,
        gone=None,
        point=point,
        radii=RADII,
        place_map=place_map,
        opportunities=opportunities,
        total=total,
        map_max=MAP_MAX,
        missing=missing,
        source=source,
        reason=reason,
        names=names_of(codes),
        km=km,
        kind_title=kind_title,
        summaries={o.id: summary(o) for v in opportunities.values() for o, _d in v},
        listing_url=listing_url,
    )


@bp.post("/<int:favourite_id>/rayon")
@login_required
def radius(favourite_id: int):
    require_tenant()
    favourite = _own(favourite_id)
    value = request.form.get("radius_km", type=bounded_int)
    if value not in RADII:
        flash(_("Choose a radius of 5, 10, 20 or 30 km."), "error")
    else:
        favourite.radius_km = value
    return redirect(url_for("favourites.place", favourite_id=favourite.id))
