"""The listings console's activity log: who changed which listing, how, from which source."""

from __future__ import annotations

from flask import (
    render_template,
    request,
)
from flask_babel import gettext as _

from core.auth.permissions import requires
from core.extensions import db
from core.inputs import bounded_int
from core.tenancy import require_tenant
from ingest.listings import queries
from ingest.listings.console.blueprint import EDITORS, bp
from ingest.listings.declaration import KINDS, fields_of
from ingest.listings.labels import label
from ingest.listings.models import Listing

# --- the activity log --------------------------------------------------------------------------


@bp.get("/activite")
@requires(*EDITORS)
def activity():
    tenant = require_tenant()
    listing_id = request.args.get("listing", type=bounded_int)
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    page = request.args.get("page", 1, type=bounded_int)
    events, page, pages = queries.activity(listing_id=listing_id, kind=kind, page=page)
    names = queries.account_names(e.account_id for e in events)
    keys = queries.key_names(e.api_key_id for e in events)
    titles = queries.listing_titles(e.listing_id for e in events)
    listing = db.session.get(Listing, listing_id) if listing_id else None
    return render_template(
        "console/listings/activity.html",
        tenant=tenant,
        events=events,
        names=names,
        keys=keys,
        titles=titles,
        listing=listing,
        kind=kind,
        page=page,
        pages=pages,
        field_label=_field_label,
    )


def _field_label(kind: str, name: str) -> str:
    if name == "status":
        return _("Status")
    for f in fields_of(kind) if kind in KINDS else ():
        if f.name == name:
            return label(f)
    return name
