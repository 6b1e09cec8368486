"""The territory's pages: for now its home page, served through the territory's theme."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import select

from core.extensions import db
from core.tenancy import require_tenant
from core.themes import render_site, theme_static
from sites.models import Page

bp = Blueprint("site", __name__)

KIND_LABELS = {
    "commune": "Commune",
    "epci": "Communauté de communes",
    "departement": "Département",
    "umbrella": "Petites villes de demain",
}


@bp.get("/")
def home():
    tenant = require_tenant()
    page = db.session.execute(
        select(Page).where(Page.slug == "accueil", Page.published.is_(True))
    ).scalar_one_or_none()
    return render_site("home.html", tenant=tenant, kind_label=KIND_LABELS[tenant.kind], page=page)


@bp.get("/pages/<slug>")
def page(slug: str):
    found = db.session.execute(
        select(Page).where(Page.slug == slug, Page.published.is_(True))
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return render_site("page.html", tenant=require_tenant(), page=found)


@bp.get("/theme/<path:filename>")
def theme_file(filename: str):
    """A static file of the territory's theme, falling back to the default theme's."""
    response = theme_static(require_tenant().theme, filename)
    if response is None:
        abort(404)
    return response
