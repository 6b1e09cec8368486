"""The territory's public pages, served through its theme: home, pages, privacy, logo, hero
photo, listing photos and favicon."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, url_for
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from sqlalchemy import select

from core.auth.models import Role
from core.auth.permissions import can, effective_roles, role_label
from core.auth.service import territory_link
from core.extensions import db
from core.fanout import read_in
from core.registry import kind_label
from core.security import csp_nonce
from core.storage import StorageError, get_storage
from core.tenancy import current_tenant, require_tenant
from core.themes import render_site
from ingest.listings.declaration import KINDS
from ingest.listings.labels import kind_short_title
from ingest.listings.photos import main_photo, stored_name_exists
from ingest.reference.communes import names_of
from ingest.reference.models import CellProfile
from ingest.reference.territory import TerritoryCell
from sites import everywhere
from sites import home as figures_of
from sites.branding import (
    css_variables,
    current_branding,
    font_face,
    hero_url,
    logo_url,
    tokens,
)
from sites.content import home_content
from sites.listings import members
from sites.models import Page
from sites.search.form import preset_description, preset_name
from sites.search.national import national_is_synthetic
from sites.search.presets import BY_PRESET
from tenants.entitlements import Feature, always_open, guard

bp = Blueprint("site", __name__)
bp.before_request(guard(Feature.site))  # the dedicated site: option 2


@bp.app_context_processor
def site_helpers():
    def look():
        """Branding of the bound territory, computed once per render where a template asks."""
        if current_tenant() is None:  # the portal, the console host: the platform's own icon
            icon = url_for("theme.file", filename="favicon.svg")
            return {"css": "", "logo": None, "favicon": icon, "favicon_type": "image/svg+xml",
                    "font_face": None}  # fmt: skip
        branding = current_branding()
        logo = logo_url(branding)
        values = tokens(branding)
        return {
            "css": css_variables(values),
            "logo": logo,
            "favicon": _favicon(logo),
            "favicon_type": branding.logo_type if logo else "image/svg+xml",
            "font_face": font_face(values),
        }

    def synthetic_data() -> bool:
        """Does this territory show generated (demo) equipment and prices? Said in the footer."""
        if current_tenant() is None:  # the portal: its national matrix says
            return bool(g.get("portal")) and national_is_synthetic()
        one_cell = db.session.execute(select(TerritoryCell.cell_id).limit(1)).scalar()
        if one_cell is None:
            return False
        # Two small reads rather than a join: territory and national tables never meet in SQL.
        return bool(
            db.session.execute(
                select(CellProfile.synthetic).where(CellProfile.cell_id == one_cell)
            ).scalar()
        )

    def kept_everywhere():
        """The signed-in person's favourites and saved searches on every territory."""
        if not current_user.is_authenticated:
            return []
        return everywhere.kept_everywhere(current_user.id, current_tenant())

    def has_console() -> bool:
        return current_tenant() is not None and bool(effective_roles())

    return {
        "look": look,
        "csp_nonce": csp_nonce,
        "kind_label": kind_label,
        "role_label": role_label,
        "has_console": has_console,
        "nav_kinds": lambda: [(k, kind_short_title(k)) for k in KINDS],
        "kind_short_title": kind_short_title,
        "number": format_decimal,
        "kept_everywhere": kept_everywhere,
        "synthetic_data": synthetic_data,
        "main_photo": main_photo,
        "can": can,
        "Role": Role,
    }


def _card_url(card: figures_of.Card) -> str:
    """A listing's page: on this site, or on the member town's that holds it."""
    values = {"kind": card.kind, "external_id": card.external_id}
    if card.site is not None:
        return territory_link(card.site, "listings_site.listing", **values)
    return url_for("listings_site.listing", **values)


@bp.get("/")
def home():
    tenant = require_tenant()
    locale = str(get_locale())
    cards = figures_of.latest_listings(tenant)
    figures = figures_of.key_figures(tenant)
    return render_site(
        "home.html",
        tenant=tenant,
        kind_label=kind_label(tenant.kind),
        content=home_content(locale),
        hero=hero_url(current_branding()),
        figures=figures,
        amenities=figures_of.amenity_lines(figures),
        cards=[(c, _card_url(c)) for c in cards],
        communes=names_of(c.commune_insee for c in cards),
        towns=[
            (town, territory_link(town.site, "site.home") if town.site else None)
            for town in figures_of.member_towns(tenant)
        ],
        presets=[(k, preset_name(p), preset_description(p)) for k, p in BY_PRESET.items()],
    )


@bp.get("/pages/<slug>")
def page(slug: str):
    found = db.session.execute(
        select(Page).where(Page.slug == slug, Page.published.is_(True))
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return render_site("page.html", tenant=require_tenant(), page=found)


@bp.get("/confidentialite")
@always_open
def privacy():
    return render_site("privacy.html", tenant=require_tenant())


def _stored(key: str | None, content_type: str | None, name: str) -> Response:
    """A file of the territory's storage named by its digest, or 404."""
    if not key or key.rsplit("/", 1)[1] != name:
        abort(404)
    try:
        data = get_storage().for_tenant(require_tenant().slug).get(key)
    except StorageError:
        abort(404)
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # name = digest
    # An SVG opened on its own must not run anything, whatever slipped through.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/logo/<name>")
@always_open
def logo(name: str):
    return _branding_file("logo", name)


@bp.get("/photo/<name>")
@always_open
def stored_image(name: str):
    return _branding_file("hero", name)


def _branding_file(which: str, name: str):
    """The territory's logo or its home page's photo (`which`), stored under its digest."""
    branding = current_branding()
    if branding is None:
        abort(404)
    return _stored(getattr(branding, f"{which}_key"), getattr(branding, f"{which}_type"), name)


@bp.get("/favicon.ico")
@always_open
def favicon():
    """Browsers ask here whatever the page says: the territory's logo, else its theme's icon."""
    require_tenant()
    return redirect(_favicon(logo_url(current_branding())), 302)


def _favicon(logo: str | None) -> str:
    return logo or url_for("theme.file", filename="favicon.svg")


@bp.get("/photos/<name>")
@always_open
def photo(name: str):
    """A listing photo of this territory, in one of its sizes; its name is its content's digest,
    so it never changes and is cached for a year."""
    return _photo(require_tenant().slug, stored_name_exists(name))


@bp.get("/photos/membres/<slug>/<name>")
@always_open
def member_photo(slug: str, name: str):
    """A member town's listing photo on its communauté's or umbrella's site (whose pages load
    images from their own host only); 404 for a territory that is not a member."""
    require_tenant()
    member = members.member(slug)
    if member is None:
        abort(404)
    return _photo(member.slug, read_in(member, lambda: stored_name_exists(name)))


def _photo(slug: str, key: str | None) -> Response:
    if key is None:
        abort(404)
    try:
        data = get_storage().for_tenant(slug).get(key)
    except StorageError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
