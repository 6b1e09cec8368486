"""Listing photos uploaded in the console: checked, resized, stored once, served with long cache
headers and alt text, shown on the listing page and its cards; bad files and foreign listings
refused with nothing changed."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from core.extensions import db
from core.images import MAX_PHOTO_BYTES, PHOTO_SIZES, ImageError, prepare_photo
from core.storage import get_storage
from core.tenancy import tenant_scope
from ingest.listings.models import Listing, ListingPhoto
from ingest.listings.service import save
from tests.image_helpers import encode, noise, png_declaring, reopen
from tests.test_listings_console import HOUSE as CONSOLE_HOUSE

#: The console tests' house, published, without coordinates (placed at its commune).
HOUSE = {
    k: v for k, v in CONSOLE_HOUSE.items() if k not in ("latitude", "longitude", "furnished")
} | {"status": "published"}


def photo_bytes(size=(2400, 1600), fmt="JPEG") -> bytes:
    return encode(noise(size), fmt)


@pytest.fixture
def world(app, cantal, make_tenant, make_account):
    a, b = make_tenant(name="Saint-Flour"), make_tenant(name="Murat")
    ids = {}
    for ref in (a, b):
        with app.app_context(), tenant_scope(ref):
            saved = save("real_estate", [HOUSE], source="api")
            assert saved.errors == {}
            ids[ref.slug] = saved.outcome.results["IMMO-1"][0]
            db.session.commit()
    return {
        "a": a,
        "b": b,
        "ids": ids,
        "editor": make_account(roles=[("editor", a)]),
    }


def editor_site(world, visitor):
    site = visitor(world["a"])
    site.login(world["editor"])
    return site


def upload(site, listing_id, data, alt="", filename="photo.jpg"):
    return site.post(
        f"/console/annonces/{listing_id}/photos",
        {"photo": (io.BytesIO(data), filename), "alt": alt},
        csrf_from=f"/console/annonces/{listing_id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def photos(app, ref) -> list[ListingPhoto]:
    with app.app_context(), tenant_scope(ref):
        rows = list(db.session.execute(select(ListingPhoto).order_by(ListingPhoto.id)).scalars())
        db.session.expunge_all()
        db.session.rollback()
        return rows


def test_prepare_photo_makes_every_size_without_metadata():
    prepared = prepare_photo(photo_bytes((3000, 2000)))
    assert {k: (r.width, r.height) for k, r in prepared.renditions.items()} == {
        "thumb": (480, 320),
        "large": (1600, 1067),
    }
    for rendition in prepared.renditions.values():
        image = reopen(rendition.data)
        assert image.format == "JPEG" and "exif" not in image.info
    small = prepare_photo(photo_bytes((300, 200), "PNG"))  # never enlarged
    assert small.renditions["large"].width == 300
    assert set(PHOTO_SIZES) == set(small.renditions)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.7 not a photo", "unknown_format"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>", "unknown_format"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_PHOTO_BYTES, "too_large"),
        (png_declaring(100_000, 100_000), "too_many_pixels"),  # a decompression bomb
        (encode(Image.new("RGB", (8, 8)), "PNG")[:40], "corrupt"),
    ],
)
def test_prepare_photo_refuses_bad_files(data, code):
    with pytest.raises(ImageError) as caught:
        prepare_photo(data)
    assert caught.value.code == code


def test_upload_stores_sizes_once_and_the_page_shows_them(app, world, visitor):
    a, listing_id = world["a"], world["ids"][world["a"].slug]
    site = editor_site(world, visitor)
    data = photo_bytes()
    page = upload(site, listing_id, data, alt="La façade au printemps").get_data(as_text=True)
    assert "La photo est ajoutée." in page
    page = upload(site, listing_id, data).get_data(as_text=True)  # the same file again
    stored = photos(app, a)
    assert [(p.source, p.status, p.alt) for p in stored] == [
        ("manual", "ready", "La façade au printemps"),
        ("manual", "ready", None),
    ]
    with app.app_context():
        keys = get_storage().for_tenant(a.slug).list("photos/")
    assert len(keys) == 2  # one thumbnail and one large, stored once for both rows

    public = visitor(a).get("/annonces/real_estate/IMMO-1").get_data(as_text=True)
    assert 'alt="La façade au printemps"' in public
    assert 'alt="Maison de bourg"' in public  # no description: the listing's title
    assert "Photo 1 sur 2" in public
    name = f"{stored[0].digest}-large.jpg"
    assert f'src="/photos/{name}"' in public
    served = visitor(a).get(f"/photos/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reopen(served.data).size == (1600, 1067)
    cards = visitor(a).get("/annonces/real_estate").get_data(as_text=True)
    assert f'src="/photos/{stored[0].digest}-thumb.jpg"' in cards
    # Another territory never serves it, even by its name.
    assert visitor(world["b"]).get(f"/photos/{name}").status_code == 404
    assert visitor(a).get("/photos/../secret.jpg").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a not a photo at all", "ce n’est pas une image PNG, JPEG ou WebP"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_PHOTO_BYTES, "l’image dépasse 7 Mo"),
        (png_declaring(100_000, 100_000), "bombe de décompression"),
    ],
)
def test_bad_uploads_are_refused_in_french_and_change_nothing(app, world, visitor, data, message):
    a, listing_id = world["a"], world["ids"][world["a"].slug]
    page = upload(editor_site(world, visitor), listing_id, data).get_data(as_text=True)
    assert "Photo refusée" in page and message in page and "Rien n’a été changé" in page
    assert photos(app, a) == []
    with app.app_context():
        assert get_storage().for_tenant(a.slug).list("photos/") == []


def test_an_upload_on_another_territorys_listing_is_a_404(app, world, visitor):
    site = editor_site(world, visitor)
    foreign = world["ids"][world["b"].slug]
    mine = world["ids"][world["a"].slug]
    # Ids collide across schemas: use one that only exists in b.
    with app.app_context(), tenant_scope(world["b"]):
        saved = save("real_estate", [HOUSE | {"external_id": "B-2"}], source="api")
        foreign = saved.outcome.results["B-2"][0]
        db.session.commit()
    assert foreign != mine
    response = site.post(
        f"/console/annonces/{foreign}/photos",
        {"photo": (io.BytesIO(photo_bytes((60, 40))), "p.jpg")},
        csrf_from=f"/console/annonces/{mine}",
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert photos(app, world["a"]) == [] and photos(app, world["b"]) == []


def test_a_photo_can_be_removed_and_its_files_go_with_it(app, world, visitor):
    a, listing_id = world["a"], world["ids"][world["a"].slug]
    site = editor_site(world, visitor)
    upload(site, listing_id, photo_bytes((200, 100)))
    (photo,) = photos(app, a)
    page = site.post(
        f"/console/annonces/{listing_id}/photos/{photo.id}/supprimer",
        {},
        csrf_from=f"/console/annonces/{listing_id}",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "La photo est retirée." in page
    assert photos(app, a) == []
    with app.app_context():
        assert get_storage().for_tenant(a.slug).list("photos/") == []
        with tenant_scope(a):
            assert db.session.get(Listing, listing_id) is not None
            db.session.rollback()


def test_demo_pictures_are_drawn_once_per_listing_and_said_to_be_illustrations(app, world, runner):
    from sites.demo_photos import SUBJECTS, draw  # noqa: PLC0415 - Pillow, as the command does

    assert draw("job", "J-1") == draw("job", "J-1") != draw("job", "J-2")
    assert {reopen(draw(kind, "x")).size for kind in SUBJECTS} == {(1200, 800)}
    a = world["a"]
    result = runner.invoke(args=["site", "demo-photos", "--tenant", a.slug])
    assert result.exit_code == 0 and "1 demo pictures added" in result.output
    again = runner.invoke(args=["site", "demo-photos", "--tenant", a.slug])
    assert "0 demo pictures added" in again.output
    (photo,) = photos(app, a)
    assert photo.source == "demo"
    assert photo.alt.startswith("Illustration (image de démonstration) : une maison")
