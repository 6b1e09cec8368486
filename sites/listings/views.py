"""Published listings on the territory's public site: a page per listing and a list per kind."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, select

from core.extensions import db, limiter
from core.fanout import read_in
from core.i18n import english
from core.inputs import bounded_int
from core.registry import primary_host
from core.tenancy import require_tenant
from core.themes import render_site
from ingest.listings.declaration import KINDS
from ingest.listings.labels import kind_title
from ingest.listings.models import Listing
from ingest.listings.photos import gallery
from ingest.listings.queries import territory_communes
from ingest.reference.communes import names_of
from sites.listings import browse, contact, labels, members, nearby
from sites.listings.models import Favourite
from sites.listings.placemaps import cell_map as draw_cell
from sites.listings.public import details, summary, visible
from sites.project.stages import listings_gate
from sites.search.values import km
from tenants.entitlements import Feature, guard

bp = Blueprint("listings_site", __name__, url_prefix="/annonces")
bp.before_request(guard(Feature.site))  # the dedicated site: option 2
bp.before_request(listings_gate)  # a staged site: a complete project opens the listings
for _name, _label in labels.FILTERS.items():  # every page's templates name values the same way
    bp.add_app_template_filter(_label, _name)
PAGE_SIZE = 30


@bp.get("/")
def index():
    tenant = require_tenant()
    kind = request.args.get("kind")
    if kind in KINDS:  # the filter form's kind select, without script
        args = {k: v for k, v in request.args.items() if k in browse.names(kind) and v}
        return redirect(url_for("listings_site.by_kind", kind=kind, **args))
    counts = dict(
        db.session.execute(
            select(Listing.kind, func.count()).where(visible()).group_by(Listing.kind)
        ).all()
    )
    latest = {}
    for kind in KINDS:
        if counts.get(kind):
            latest[kind] = list(
                db.session.execute(
                    select(Listing)
                    .where(visible(), Listing.kind == kind)
                    .order_by(Listing.updated_at.desc(), Listing.id.desc())
                    .limit(6)
                ).scalars()
            )
    # A communauté's or umbrella's site: its member towns' listings too, each town named.
    wider = members.members()
    from_members = {}
    for kind in KINDS:
        found = members.listings_of(
            wider,
            and_(visible(), Listing.kind == kind),
            (Listing.updated_at.desc(), Listing.id.desc()),
            limit=6,
        )
        if found:
            from_members[kind] = found
            counts[kind] = counts.get(kind, 0) + sum(m.total for m in found)
            latest.setdefault(kind, [])
    codes = [x.commune_insee for rows in latest.values() for x in rows]
    codes += [x.commune_insee for v in from_members.values() for m in v for x in m.rows]
    return render_site(
        "listings.html",
        tenant=tenant,
        counts=counts,
        latest=latest,
        names=names_of(codes),
        kind=None,
        from_members=from_members,
        summaries={x.id: summary(x) for rows in latest.values() for x in rows},
        member_summaries={
            (m.member.slug, x.id): summary(x)
            for found in from_members.values()
            for m in found
            for x in m.rows
        },
    )


@bp.get("/<kind>")
def by_kind(kind: str):
    tenant = require_tenant()
    if kind not in KINDS:
        abort(404)
    other = request.args.get("kind")
    if other in KINDS and other != kind:  # the form's kind select was changed
        return index()
    filters = browse.parse(kind, request.args, territory_communes())
    where = and_(visible(), Listing.kind == kind, *browse.conditions(filters))
    total = db.session.execute(select(func.count()).select_from(Listing).where(where)).scalar()
    pages = max(1, -(-total // PAGE_SIZE))
    page = request.args.get("page", 1, type=bounded_int) or 1
    page = max(1, min(page, pages))
    rows = list(
        db.session.execute(
            select(Listing)
            .where(where)
            .order_by(*browse.order(filters))
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).scalars()
    )
    from_members = members.listings_of(members.members(), where, browse.order(filters))
    codes = [x.commune_insee for x in rows]
    codes += [x.commune_insee for m in from_members for x in m.rows]
    body = render_site(
        "listings.html",
        tenant=tenant,
        kind=kind,
        kinds=KINDS,
        from_members={kind: from_members} if from_members else {},
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        summaries={x.id: summary(x) for x in rows},
        member_summaries={(m.member.slug, x.id): summary(x) for m in from_members for x in m.rows},
        names=names_of(codes),
    )
    # A bad filter is the reader's mistake: said on the page, with the valid filters applied.
    return body, 400 if filters.errors else 200


@bp.get("/<kind>/<path:external_id>")
def listing(kind: str, external_id: str):
    require_tenant()
    if kind not in KINDS:
        abort(404)
    found = db.session.execute(
        select(Listing).where(visible(), Listing.kind == kind, Listing.external_id == external_id)
    ).scalar_one_or_none()
    if found is None:  # draft, unpublished, expired or unknown: the same answer
        abort(404)
    return _page(found, contact.ContactForm())


@bp.get("/membres/<slug>/<kind>/<path:external_id>")
def member_listing(slug: str, kind: str, external_id: str):
    """A member town's listing on its communauté's or umbrella's site."""
    require_tenant()
    if kind not in KINDS:
        abort(404)
    found = members.member_listing(slug, kind, external_id)
    if found is None:  # not a member, or no such published listing: the same answer
        abort(404)
    member, listing_ = found
    return _page(listing_, contact.ContactForm(), member=member)


def _sent(response: Response) -> bool:
    return response.status_code == 303


@bp.post("/contacter/<int:listing_id>")
@limiter.limit(lambda: current_app.config["CONTACT_RATE_LIMIT"], deduct_when=_sent)
@limiter.limit("30/hour")  # failed tries too: a robot probing the form
def write(listing_id: int):
    """Send the person's message to the advertiser (a form on the listing's page)."""
    tenant = require_tenant()
    found = db.session.execute(
        select(Listing).where(visible(), Listing.id == listing_id)
    ).scalar_one_or_none()
    if found is None:  # a forged or stale id: this territory has no such published listing
        abort(404)
    if not found.contact_email:
        form = contact.ContactForm(
            refusal=_("This advertiser cannot be written to from this site.")
        )
        return _page(found, form, status=400)
    form = contact.read_form(request.form, found)
    if not form.valid:
        return _page(found, form, status=400)
    url = url_for("listings_site.listing", kind=found.kind, external_id=found.external_id)
    contact.send(found, form, tenant, request.host_url.rstrip("/") + url)
    if current_user.is_authenticated and current_user.is_verified:
        contact.record_lead(current_user.id, found)
    flash(_("Your message was sent to the advertiser, who will answer you by e-mail."), "success")
    return redirect(url + "#contact-title", code=303)


def _page(found: Listing, form: contact.ContactForm, status: int = 200, member=None) -> Response:
    tenant = require_tenant()
    kind = found.kind
    point = nearby.listing_point(found)
    cell_map, amenities = None, []
    if point is not None:
        lon, lat = point
        if found.cell_id:
            cell_map = draw_cell(lon, lat, found.cell_id)
        amenities = list(nearby.nearest_amenities(lon, lat).values())
    favourite, member_url = None, None
    if member is not None:  # saved and written to on the member's own site
        port = request.host.partition(":")[2]  # a development server's, kept
        host = primary_host(db.session, member.id) + (f":{port}" if port else "")
        member_url = f"{request.scheme}://{host}" + url_for(
            "listings_site.listing", kind=found.kind, external_id=found.external_id
        )
    elif current_user.is_authenticated:
        favourite = db.session.execute(
            select(Favourite).where(
                Favourite.account_id == current_user.id, Favourite.listing_id == found.id
            )
        ).scalar_one_or_none()
    body = render_site(
        "listing.html",
        tenant=tenant,
        listing=found,
        kind_name=kind_title(kind),
        commune=names_of([found.commune_insee]).get(found.commune_insee),
        details=details(found),
        # A member's listing lives in its own schema, its photos too (served through this site).
        photos=gallery(found)
        if member is None
        else read_in(member, lambda: gallery(found, members.photo_url(member))),
        paragraphs=[
            p for p in (found.description or "").replace("\r\n", "\n").split("\n\n") if p.strip()
        ],
        published_on=format_date(found.published_on, "long") if found.published_on else None,
        lang=str(get_locale()),
        cell_map=cell_map,
        amenities=amenities,
        km=km,
        french=not english(),
        favourite=favourite,
        contact_form=form,
        contact_token=contact.form_token(found.id),
        honeypot=contact.HONEYPOT,
        member=member,
        member_url=member_url,
    )
    return Response(body, status=status)
