"""The photos of a listing through /api/v1: upload one (multipart, checked, resized and stored as
the console does) and remove one."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _

from core.api import json_response
from core.images import MAX_PHOTO_BYTES
from core.problems import ApiProblem
from ingest.listings.api.openapi import KIND_PARAMETERS, problems, ref
from ingest.listings.api.representation import photo_json
from ingest.listings.api.views import _existing, _known_kind, blp
from ingest.listings.photos import PhotoError, add_photo, photo_of, refusal, remove_photo

#: The longest description a photo keeps (as the console's form).
ALT_MAX = 300
PHOTO_ID = {
    "in": "path",
    "name": "photo_id",
    "required": True,
    "description": "L'id de la photo (champ `id` de `photos`)",
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": f"PNG, JPEG ou WebP, {MAX_PHOTO_BYTES // 2**20} Mo au plus",
                    },
                    "alt": {
                        "type": "string",
                        "maxLength": ALT_MAX,
                        "description": "Texte alternatif (sinon le titre de l'annonce)",
                    },
                },
            }
        }
    },
}


def _refused(exc: PhotoError) -> ApiProblem:
    """The console's wording of the refusal, in the client's language; too large is a 413, a
    full listing a 409, anything else about the file a 422."""
    detail = _("Photo refused: %(reason)s. Nothing was changed.", reason=refusal(exc.code))
    status = {"too_large": 413, "too_many_photos": 409}.get(exc.code, 422)
    return ApiProblem(status, detail, errors={"file": [refusal(exc.code)]})


def _upload() -> tuple[bytes, str | None, str | None]:
    """The request's file, its name and its description: 415 when not multipart, 422 naming
    the field otherwise."""
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(415, _("Send the photo as multipart/form-data, in the field file."))
    upload = request.files.get("file")
    alt = request.form.get("alt")
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = [_("Send the photo in the field file.")]
    if alt is not None and len(alt) > ALT_MAX:
        errors["alt"] = [_("The description is too long: 300 characters at most.")]
    if errors:
        raise ApiProblem(422, _("Some values are invalid: see errors."), errors=errors)
    # One byte over the limit is enough for the check to refuse it by size; a large upload
    # is spooled to a temporary file, closed here rather than whenever it is collected.
    try:
        return upload.read(MAX_PHOTO_BYTES + 1), upload.filename, alt
    finally:
        upload.close()


@blp.route("/<kind>/<path:external_id>/photos", parameters=KIND_PARAMETERS)
class Photos(MethodView):
    @blp.doc(
        operationId="addListingPhoto",
        requestBody=UPLOAD_BODY,
        responses={
            "201": {
                "description": "Stored: its thumbnail and large size are served by the platform",
                "content": {"application/json": {"schema": ref("ListingPhoto")}},
            },
            **problems(404, 409, 413, 415, 422),
        },
    )
    def post(self, kind, external_id):
        """Add a photo to a listing (multipart: `file`, optional `alt`).

        The image is checked as in the console (PNG, JPEG or WebP, 7 MB and 12,000 pixels a side
        at most: a decompression bomb is refused), resized and stored; never hot-linked. A
        listing has 10 photos at most, uploads and fetched addresses together (409 past them).
        The listing's `updated_at` and ETag change.
        """
        _known_kind(kind)
        listing = _existing(kind, external_id, lock=True)[0]
        data, filename, alt = _upload()
        try:
            photo = add_photo(listing, data, source="api", alt=alt, filename=filename)
        except PhotoError as exc:
            raise _refused(exc) from None
        return json_response(photo_json(photo), 201)


@blp.route(
    "/<kind>/<path:external_id>/photos/<int:photo_id>",
    parameters=[*KIND_PARAMETERS, PHOTO_ID],
)
class OnePhoto(MethodView):
    @blp.doc(
        operationId="deleteListingPhoto",
        responses={"204": {"description": "Removed"}, **problems(404, 409)},
    )
    def delete(self, kind, external_id, photo_id):
        """Remove a photo of a listing.

        A photo fetched from an address of `photo_url` is removed by taking its address out of
        `photo_url` (409 here: it would be fetched again). The listing's `updated_at` and ETag
        change.
        """
        _known_kind(kind)
        listing = _existing(kind, external_id, lock=True)[0]
        photo = photo_of(listing, photo_id)
        if photo is None:
            raise ApiProblem(404, _("This listing has no photo with this id."))
        if photo.source_url is not None:
            raise ApiProblem(
                409,
                _(
                    "This photo comes from an address of photo_url: "
                    "take the address out of photo_url to remove it."
                ),
            )
        remove_photo(photo)
        return current_app.response_class(status=204)
