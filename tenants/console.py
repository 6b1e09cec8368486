"""The platform console on `admin.<BASE_DOMAIN>`: the billing admins' home."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from core.extensions import db
from tenants.registry import Membership, Tenant

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")


@bp.get("/")
def index():
    tenants = db.session.execute(select(Tenant).order_by(Tenant.kind, Tenant.name)).scalars().all()
    members = dict(
        db.session.execute(
            select(Membership.umbrella_id, func.count())
            .where(Membership.left_on.is_(None))
            .group_by(Membership.umbrella_id)
        ).all()
    )
    # Links to territories keep the port the console is served on (local runs use :8000).
    port = ":" + request.host.rsplit(":", 1)[1] if request.host.count(":") == 1 else ""
    return render_template("console/index.html", tenants=tenants, members=members, port=port)
