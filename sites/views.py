"""The territory's public pages, served through its theme: home, pages, privacy, logo, photos."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_babel import get_locale
from sqlalchemy import select

from core.auth.models import Role
from core.auth.permissions import can, effective_roles
from core.extensions import db
from core.registry import kind_label
from core.security import csp_nonce
from core.storage import StorageError, get_storage
from core.tenancy import current_tenant, require_tenant
from core.themes import render_site
from ingest.listings.photos import main_photo, stored_name_exists
from ingest.reference.models import CellProfile
from ingest.reference.territory import TerritoryCell
from sites.branding import css_variables, current_branding, logo_url, tokens
from sites.models import HomeText, Page

bp = Blueprint("site", __name__)


@bp.app_context_processor
def site_helpers():
    def look():
        """Branding of the bound territory, computed once per render where a template asks."""
        if current_tenant() is None:
            return {"css": "", "logo": None}
        branding = current_branding()
        return {"css": css_variables(tokens(branding)), "logo": logo_url(branding)}

    def synthetic_data() -> bool:
        """Does this territory show generated (demo) equipment and prices? Said in the footer."""
        if current_tenant() is None:
            return False
        one_cell = db.session.execute(select(TerritoryCell.cell_id).limit(1)).scalar()
        if one_cell is None:
            return False
        # Two small reads rather than a join: territory and national tables never meet in SQL.
        return bool(
            db.session.execute(
                select(CellProfile.synthetic).where(CellProfile.cell_id == one_cell)
            ).scalar()
        )

    def has_console() -> bool:
        return current_tenant() is not None and bool(effective_roles())

    return {
        "look": look,
        "csp_nonce": csp_nonce,
        "kind_label": kind_label,
        "has_console": has_console,
        "synthetic_data": synthetic_data,
        "main_photo": main_photo,
        "can": can,
        "Role": Role,
    }


def home_text() -> HomeText | None:
    """The home texts in the reader's language, else French, else whatever exists."""
    rows = {t.locale: t for t in db.session.execute(select(HomeText)).scalars()}
    return rows.get(str(get_locale())) or rows.get("fr") or next(iter(rows.values()), None)


@bp.get("/")
def home():
    tenant = require_tenant()
    return render_site(
        "home.html", tenant=tenant, kind_label=kind_label(tenant.kind), home=home_text()
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
def privacy():
    return render_site("privacy.html", tenant=require_tenant())


@bp.get("/logo/<name>")
def logo(name: str):
    branding = current_branding()
    if branding is None or not branding.logo_key or branding.logo_key.rsplit("/", 1)[1] != name:
        abort(404)
    try:
        data = get_storage().for_tenant(require_tenant().slug).get(branding.logo_key)
    except StorageError:
        abort(404)
    response = Response(data, mimetype=branding.logo_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # name = digest
    # An SVG opened on its own must not run anything, whatever slipped through.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/photos/<name>")
def photo(name: str):
    """A listing photo of this territory, in one of its sizes; its name is its content's digest,
    so it never changes and is cached for a year."""
    key = stored_name_exists(name)
    if key is None:
        abort(404)
    try:
        data = get_storage().for_tenant(require_tenant().slug).get(key)
    except StorageError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
