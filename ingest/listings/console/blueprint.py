"""The listings console's blueprint (`/console/annonces/`), who may use it, and what its pages
share: the names they show, and the 404 of a listing or kind that is not there."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
)

from core.auth.models import Role
from core.extensions import db
from ingest.listings.declaration import KINDS
from ingest.listings.labels import (
    ACTION_LABELS,
    IMPORT_STATUS_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    kind_title,
)
from ingest.listings.models import Listing
from tenants.entitlements import Feature, guard

bp = Blueprint(
    "listings_console",
    __name__,
    url_prefix="/console/annonces",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
bp.before_request(guard(Feature.base))
EDITORS = (Role.admin, Role.editor)


@bp.app_context_processor
def helpers():
    return {
        "kind_title": kind_title,
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "action_labels": ACTION_LABELS,
        "listing_kinds": KINDS,
        "import_status_labels": IMPORT_STATUS_LABELS,
    }


def listing_or_404(listing_id: int) -> Listing:
    """A listing of the bound territory (the session only sees its schema), else 404."""
    found = db.session.get(Listing, listing_id)
    if found is None:
        abort(404)
    return found


def kind_or_404(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind
