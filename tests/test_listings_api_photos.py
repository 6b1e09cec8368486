"""A listing's photos through the API: uploaded (multipart), shown in the listing's answer with
their served URLs, removed; refused with the console's words in problem+json (not an image, too
large, a decompression bomb, an 11th photo, another territory's listing), nothing changed."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.extensions import db
from core.images import MAX_PHOTO_BYTES
from core.tenancy import tenant_scope
from ingest.listings.photos import MAX_PHOTOS
from tests import listing_api_helpers
from tests.image_helpers import encode, noise, png_declaring
from tests.listing_api_helpers import READ, Client, house, in_territory, is_problem, new_key

ONE = "/api/v1/listings/real_estate/R-1"
PHOTOS = f"{ONE}/photos"
JPEG = encode(noise((800, 500)), "JPEG")

territory = listing_api_helpers.territory
api = listing_api_helpers.api


def upload(api, data=JPEG, *, path=PHOTOS, name="maison.jpg", alt=None, headers=None):
    """A multipart POST, encoded here in memory: the test client would spool a body over
    500 KB to a temporary file that it never closes."""
    form = MultiDict({"file": FileStorage(io.BytesIO(data), filename=name)})
    if alt is not None:
        form["alt"] = alt
    boundary, body = encode_multipart(form)
    kind = f"multipart/form-data; boundary={boundary}"
    return api.post(path, data=body, content_type=kind, headers=headers)


def photo_rows(app, ref) -> int:
    return in_territory(app, ref, "SELECT count(*) FROM listing_photos")[0][0]


@pytest.fixture
def listed(api):
    assert api.put(ONE, json=house()).status_code == 201
    return api


def test_an_uploaded_photo_is_stored_shown_and_removed(app, territory, listed):
    api = listed
    before = api.get(ONE).headers["ETag"]
    sent = upload(api, alt="La façade au soleil")
    assert sent.status_code == 201, sent.get_data(as_text=True)
    photo = sent.get_json()
    assert (photo["status"], photo["source"]) == ("ready", "api")
    assert photo["alt"] == "La façade au soleil"
    assert photo["width"] == 800 and photo["height"] == 500 and photo["error"] is None
    for size in ("thumb_url", "large_url"):
        assert photo[size].startswith(api.base + "/photos/")
        served = api.client.get(photo[size])  # served by the platform, on the territory's host
        assert served.status_code == 200 and served.mimetype == "image/jpeg"

    read = api.get(ONE)
    assert read.get_json()["photos"] == [photo]
    assert read.headers["ETag"] != before, "a new photo is a new version of the listing"
    listed_page = api.get("/api/v1/listings").get_json()
    assert listed_page["items"][0]["photos"] == [photo]

    is_problem(api.delete(f"{PHOTOS}/{photo['id'] + 1}"), 404)
    assert api.delete(f"{PHOTOS}/{photo['id']}").status_code == 204
    assert api.get(ONE).get_json()["photos"] == []
    assert photo_rows(app, territory) == 0
    assert api.client.get(photo["large_url"]).status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "french", "english"),
    [
        (b"%PDF-1.4 not an image", 422, "n’est pas une image", "not a PNG, JPEG or WebP"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_PHOTO_BYTES, 413, "dépasse 7 Mo", "larger than 7 MB"),
        (png_declaring(100_000, 100_000), 422, "bombe de décompression", "decompression bomb"),
        (encode(noise((40, 40)), "PNG")[:60], 422, "endommagée", "damaged"),
    ],
)
def test_bad_files_are_refused_in_both_languages_and_change_nothing(
    app, territory, listed, data, status, french, english
):
    body = is_problem(upload(listed, data), status, "file")
    assert french in body["detail"] and "Rien n’a été changé" in body["detail"], body
    body = is_problem(upload(listed, data, headers={"Accept-Language": "en"}), status, "file")
    assert english in body["detail"] and "Nothing was changed" in body["detail"], body
    assert photo_rows(app, territory) == 0


def test_malformed_uploads_name_the_field(app, territory, listed):
    api = listed
    body = is_problem(api.post(PHOTOS, json={"file": "x"}), 415)
    assert "multipart/form-data" in body["detail"]
    is_problem(api.post(PHOTOS, data={"alt": "x"}, content_type="multipart/form-data"), 422,
               "file")  # fmt: skip
    is_problem(upload(api, alt="x" * 301), 422, "alt")
    # The listing's own route (its identifier may hold a slash) does not answer for its photos.
    assert (
        is_problem(api.put(PHOTOS, json=house()), 405)
        and "PUT" not in api.get(PHOTOS).headers["Allow"]
    )
    assert is_problem(api.get(f"{PHOTOS}/1"), 405)
    assert api.patch(f"{PHOTOS}/1", json={}).headers["Allow"].split(", ") in (
        ["DELETE", "OPTIONS"],
        ["OPTIONS", "DELETE"],
    )
    assert photo_rows(app, territory) == 0


def test_a_listing_keeps_at_most_ten_photos(app, territory, listed):
    for _ in range(MAX_PHOTOS):
        assert upload(listed).status_code == 201
    body = is_problem(upload(listed), 409, "file")
    assert "déjà 10 photos" in body["detail"]
    assert photo_rows(app, territory) == MAX_PHOTOS


def test_other_territories_and_unknown_listings_are_a_404(app, territory, listed, make_tenant):
    other = make_tenant()
    theirs = Client(app, other, new_key(app, other))
    theirs.put(ONE, json=house())
    with app.app_context(), tenant_scope(other):
        their_photo = upload(theirs).get_json()["id"]
        db.session.rollback()
    # The same kind and identifier in this territory is this territory's listing: remove it.
    with app.app_context(), tenant_scope(territory):
        db.session.execute(text("DELETE FROM listings"))
        db.session.commit()
    is_problem(upload(listed), 404)
    is_problem(listed.delete(f"{PHOTOS}/{their_photo}"), 404)
    is_problem(upload(listed, path="/api/v1/listings/boat/R-1/photos"), 404)
    assert photo_rows(app, other) == 1 and photo_rows(app, territory) == 0


def test_writing_photos_needs_the_write_scope(app, territory, listed):
    reader = Client(app, territory, new_key(app, territory, scopes=(READ,)))
    is_problem(upload(reader), 403)
    is_problem(reader.delete(f"{PHOTOS}/1"), 403)
    assert photo_rows(app, territory) == 0


def test_a_fetched_photo_is_removed_through_its_address_only(app, territory, listed):
    api = listed
    with app.app_context(), tenant_scope(territory):
        db.session.execute(
            text(
                "INSERT INTO listing_photos (listing_id, source, source_url, status, error) "
                "SELECT id, 'api', 'https://example.org/a.jpg', 'failed', 'timeout' FROM listings"
            )
        )
        db.session.commit()
    api.patch(ONE, json={"photo_url": "https://example.org/a.jpg https://example.org/b.jpg"})
    photos = api.get(ONE).get_json()["photos"]
    assert [(p["status"], p["error"]) for p in photos] == [("failed", "timeout"), ("pending", None)]
    assert "n’a pas répondu à temps" in photos[0]["reason"]
    english = api.get(ONE, headers={"Accept-Language": "en"}).get_json()["photos"]
    assert "did not answer in time" in english[0]["reason"]
    body = is_problem(api.delete(f"{PHOTOS}/{photos[0]['id']}"), 409)
    assert "retirez l’adresse de photo_url" in body["detail"] and body["title"] == "Conflit"
