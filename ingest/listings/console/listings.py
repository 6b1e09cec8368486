"""The listings console's list, bulk publishing, and the create, edit and duplicate forms."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.permissions import requires
from core.extensions import db
from core.forms import ConfirmForm
from core.redirects import safe_next
from core.tenancy import require_tenant
from ingest.listings import queries
from ingest.listings.console.blueprint import EDITORS, bp, kind_or_404, listing_or_404
from ingest.listings.console.forms import PhotoForm
from ingest.listings.console.picker import picker
from ingest.listings.form import (
    build_form,
    commune_code,
    error_summary,
    exists,
    kept_status,
    new_external_id,
    parse_form,
)
from ingest.listings.models import Listing
from ingest.listings.photos import MAX_PHOTOS, all_photos, refusal, shown
from ingest.listings.service import as_input, point_of, save
from ingest.listings.statuses import publish_or_unpublish

# --- the list ------------------------------------------------------------------------------------


@bp.get("/")
@requires(*EDITORS)
def index():
    tenant = require_tenant()
    filters = queries.Filters.from_args(request.args)
    page = queries.search(filters)
    return render_template(
        "console/listings/list.html",
        tenant=tenant,
        filters=filters,
        page=page,
        communes=queries.territory_communes(),
        confirm=ConfirmForm(),
    )


@bp.post("/statut")
@requires(*EDITORS)
def bulk_status():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action not in ("publish", "unpublish"):
        abort(400)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][: queries.PAGE_SIZE * 4]
    back = safe_next(url_for(".index"))
    if not ids:
        flash(_("Select at least one listing."), "error")
        return redirect(back)
    listings = list(db.session.execute(select(Listing).where(Listing.id.in_(ids))).scalars())
    _change_status(listings, "published" if action == "publish" else "unpublished")
    return redirect(back)


def _change_status(listings: list[Listing], status: str) -> None:
    result = publish_or_unpublish(listings, status, current_user.id)
    if result.changed:
        message = (
            _("%(n)s listing(s) published.", n=len(result.changed))
            if status == "published"
            else _("%(n)s listing(s) unpublished.", n=len(result.changed))
        )
        flash(message, "success")
    for listing in result.expired:
        flash(
            _(
                "“%(title)s” is past its expiry date: change the date before publishing it.",
                title=listing.title,
            ),
            "error",
        )
    if not result.changed and not result.expired:
        flash(_("Nothing to change."), "success")


# --- create, edit, duplicate ---------------------------------------------------------------------


def _render_form(kind, groups, *, listing=None, duplicate_of=None, status=200):
    point = None
    if listing is not None and listing.geom is not None:
        point = point_of(listing)
    commune = next(
        (i.value for g in groups for i in g.inputs if i.name == "commune_insee" and i.value), None
    )

    communes = queries.territory_communes()
    picker_map = picker(
        point if listing is not None and not listing.location_approximate else None,
        commune,
        [code for code, _name in communes],
    )
    body = render_template(
        "console/listings/form.html",
        tenant=require_tenant(),
        kind=kind,
        groups=groups,
        errors=error_summary(groups),
        listing=listing,
        duplicate_of=duplicate_of,
        point=point,
        picker=picker_map,
        communes=communes,
        form=ConfirmForm(),
        confirm=ConfirmForm(),
        photos=[
            (p, shown(p, listing.title) if p.status == "ready" else None)
            for p in all_photos(listing.id)
        ]
        if listing is not None
        else [],
        photo_form=PhotoForm(),
        max_photos=MAX_PHOTOS,
        refusal=refusal,
    )
    return body, status


@bp.route("/nouvelle/<kind>", methods=["GET", "POST"])
@requires(*EDITORS)
def create(kind: str):
    kind_or_404(kind)
    if request.method == "GET":
        return _render_form(kind, build_form(kind))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    item = parse_form(kind, request.form)
    item["external_id"] = item["external_id"] or new_external_id(kind)
    item["commune_insee"] = commune_code(item["commune_insee"], queries.territory_communes())
    if exists(kind, item["external_id"]):
        errors = {"external_id": [_("A listing of this kind already has this identifier.")]}
        return _render_form(kind, build_form(kind, item, errors), status=422)
    item["status"] = kept_status(None)
    saved = save(kind, [item], source="manual", strict=False, account_id=current_user.id)
    if saved.errors:  # 422: the request's commit point rolls the refused save back
        return _render_form(kind, build_form(kind, item, saved.errors[0]), status=422)
    listing_id, _action = saved.outcome.results[item["external_id"]]
    flash(_("Listing saved as a draft."), "success")
    return redirect(url_for(".edit", listing_id=listing_id))


@bp.get("/<int:listing_id>/dupliquer")
@requires(*EDITORS)
def duplicate(listing_id: int):
    source = listing_or_404(listing_id)
    values = as_input(source)
    values["external_id"] = None  # the editor chooses the copy's own identifier
    values.pop("status", None)
    groups = build_form(source.kind, values)
    return _render_form(source.kind, groups, duplicate_of=source)


@bp.route("/<int:listing_id>", methods=["GET", "POST"])
@requires(*EDITORS)
def edit(listing_id: int):
    listing = listing_or_404(listing_id)
    kind, locked = listing.kind, frozenset({"external_id"})
    if request.method == "GET":
        return _render_form(
            kind, build_form(kind, as_input(listing), locked=locked), listing=listing
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    item = parse_form(kind, request.form)
    item["commune_insee"] = commune_code(item["commune_insee"], queries.territory_communes())
    # The identifier is the upsert's key: changing it would write another listing.
    item["external_id"] = listing.external_id
    item["status"] = kept_status(listing)
    saved = save(kind, [item], source="manual", strict=False, account_id=current_user.id)
    if saved.errors:  # 422: the request's commit point rolls the refused save back
        groups = build_form(kind, item, saved.errors[0], locked=locked)
        return _render_form(kind, groups, listing=listing, status=422)
    _id, action = saved.outcome.results[listing.external_id]
    flash(_("Nothing changed.") if action == "unchanged" else _("Listing saved."), "success")
    return redirect(url_for(".edit", listing_id=listing.id))


@bp.post("/<int:listing_id>/publier")
@requires(*EDITORS)
def publish(listing_id: int):
    listing = listing_or_404(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _change_status([listing], "published")
    return redirect(url_for(".edit", listing_id=listing.id))


@bp.post("/<int:listing_id>/depublier")
@requires(*EDITORS)
def unpublish(listing_id: int):
    listing = listing_or_404(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _change_status([listing], "unpublished")
    return redirect(url_for(".edit", listing_id=listing.id))
