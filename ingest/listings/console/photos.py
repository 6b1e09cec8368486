"""The listings console's photos of a listing: upload (checked, resized, stored) and removal."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.auth.permissions import requires
from core.forms import ConfirmForm
from core.images import MAX_PHOTO_BYTES
from ingest.listings.console.blueprint import EDITORS, bp, listing_or_404
from ingest.listings.console.forms import PhotoForm
from ingest.listings.photos import PhotoError, add_photo, photo_of, refusal, remove_photo


@bp.post("/<int:listing_id>/photos")
@requires(*EDITORS)
def upload_photo(listing_id: int):
    listing = listing_or_404(listing_id)  # another territory's listing is not in this schema
    form = PhotoForm()
    back = redirect(url_for(".edit", listing_id=listing.id, _anchor="photos"))
    if not form.validate_on_submit():
        if form.photo.errors or not form.alt.errors:
            flash(_("Choose a photo first."), "error")
        else:
            flash(_("The description is too long: 300 characters at most."), "error")
        return back
    upload = form.photo.data
    try:
        # One byte over the limit is enough for the check to refuse it by size.
        add_photo(
            listing,
            upload.read(MAX_PHOTO_BYTES + 1),
            source="manual",
            alt=form.alt.data,
            account_id=current_user.id,
            filename=upload.filename,
        )
    except PhotoError as exc:
        flash(
            _("Photo refused: %(reason)s. Nothing was changed.", reason=refusal(exc.code)), "error"
        )
    else:
        flash(_("The photo is added."), "success")
    return back


@bp.post("/<int:listing_id>/photos/<int:photo_id>/supprimer")
@requires(*EDITORS)
def delete_photo(listing_id: int, photo_id: int):
    listing = listing_or_404(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    photo = photo_of(listing, photo_id)
    if photo is None:
        abort(404)
    remove_photo(photo)
    flash(_("The photo is removed."), "success")
    return redirect(url_for(".edit", listing_id=listing.id, _anchor="photos"))
