"""Listing photos: checked and resized once (core.images), stored under the territory's prefix,
served by the platform, described for screen readers; what pages and cards ask of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select, update

from core.extensions import db
from core.i18n import pick
from core.images import (
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    PHOTO_SIZES,
    ImageError,
    PreparedPhoto,
    prepare_photo,
)
from core.storage import get_storage
from core.tenancy import require_tenant
from ingest.listings.models import Listing, ListingPhoto

#: Photos a listing shows at most (uploads and URLs together).
MAX_PHOTOS = 10
#: A stored file's name: the original's sha256 (hex), and its size.
NAME_RE = re.compile(r"^([0-9a-f]{64})-(" + "|".join(PHOTO_SIZES) + r")\.jpg$")
_SEPARATORS = re.compile(r"[\s|]+")


class PhotoError(ValueError):
    """A photo that cannot be added: `code` is an ImageError's, or too_many_photos."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


#: Why a photo was refused, in French and English ({…} from the refusal's params): one wording
#: for the console, the API and the import report.
REFUSALS = {
    "too_large": (
        f"l’image dépasse {MAX_PHOTO_BYTES // 2**20} Mo",
        f"the image is larger than {MAX_PHOTO_BYTES // 2**20} MB",
    ),
    "unknown_format": (
        "ce n’est pas une image PNG, JPEG ou WebP",
        "it is not a PNG, JPEG or WebP image",
    ),
    "corrupt": ("l’image est endommagée et illisible", "the image is damaged and unreadable"),
    "too_many_pixels": (
        f"l’image a trop de pixels ({MAX_PHOTO_PIXELS} au plus de chaque côté) : refusée,"
        " elle pourrait être une bombe de décompression",
        f"the image has too many pixels ({MAX_PHOTO_PIXELS} at most on each side): refused,"
        " it could be a decompression bomb",
    ),
    "too_many_photos": (
        f"l’annonce a déjà {MAX_PHOTOS} photos, le maximum",
        f"the listing already has {MAX_PHOTOS} photos, the most it may have",
    ),
    "not_http": (
        "l’adresse ne commence pas par http:// ou https://",
        "the address does not start with http:// or https://",
    ),
    "bad_url": ("l’adresse est mal formée", "the address is malformed"),
    "unresolved": ("le nom du serveur est inconnu", "the server's name is unknown"),
    "private_address": (
        "l’adresse mène à un réseau privé ou local : refusée",
        "the address leads to a private or local network: refused",
    ),
    "timeout": (
        "le serveur n’a pas répondu à temps : abandon",
        "the server did not answer in time: given up",
    ),
    "unreachable": ("le serveur est injoignable", "the server cannot be reached"),
    "http_status": ("le serveur a répondu {status}", "the server answered {status}"),
    "too_many_redirects": ("trop de redirections", "too many redirects"),
}


def refusal(code: str, params: dict | None = None, locale=None) -> str:
    french, english_text = REFUSALS.get(code, ("photo refusée", "photo refused"))
    text = pick(french, english_text, locale)
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError):
        return text


@dataclass(frozen=True)
class ShownPhoto:
    """What a page needs to show one photo."""

    id: int
    thumb: str
    large: str
    alt: str
    width: int | None
    height: int | None


def source_urls(value: str | None) -> list[str]:
    """The addresses of a `photo_url` value, in order, each once, MAX_PHOTOS at most."""
    seen: list[str] = []
    for url in _SEPARATORS.split(value or ""):
        if url and url not in seen:
            seen.append(url)
    return seen[:MAX_PHOTOS]


def file_name(digest: str, size: str) -> str:
    return f"{digest}-{size}.jpg"


def storage_key(digest: str, size: str) -> str:
    return f"photos/{file_name(digest, size)}"


def _store(prepared: PreparedPhoto) -> None:
    storage = get_storage().for_tenant(require_tenant().slug)
    for size, rendition in prepared.renditions.items():
        key = storage_key(prepared.digest, size)
        if not storage.exists(key):  # named after its content: the same photo is stored once
            storage.put(key, rendition.data, "image/jpeg")


def touch(listing_id: int) -> None:
    """A change of photos is a change of the listing: its `updated_at` and API ETag move, so
    that clients syncing by `updated_since` or If-None-Match see it."""
    db.session.execute(
        update(Listing).where(Listing.id == listing_id).values(updated_at=func.now())
    )


def ready_count(listing_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(ListingPhoto)
        .where(ListingPhoto.listing_id == listing_id, ListingPhoto.status == "ready")
    ).scalar_one()


def add_photo(
    listing: Listing,
    data: bytes,
    *,
    source: str,
    alt: str | None = None,
    source_url: str | None = None,
    account_id: int | None = None,
    filename: str | None = None,
) -> ListingPhoto:
    """Check, resize and store `data` as a new photo of `listing` (last in its order); raise
    PhotoError (nothing stored, nothing written) when it is refused."""
    count = ready_count(listing.id)
    if count >= MAX_PHOTOS:
        raise PhotoError(
            "too_many_photos", f"a listing has {MAX_PHOTOS} photos at most", max=MAX_PHOTOS
        )
    try:
        prepared = prepare_photo(data, filename)
    except ImageError as exc:
        raise PhotoError(exc.code, exc.message, **exc.params) from exc
    _store(prepared)
    large = prepared.renditions["large"]
    photo = ListingPhoto(
        listing_id=listing.id,
        position=count,
        source=source,
        source_url=source_url,
        status="ready",
        digest=prepared.digest,
        width=large.width,
        height=large.height,
        alt=(alt or "").strip()[:300] or None,
        created_by_id=account_id,
    )
    db.session.add(photo)
    db.session.flush()
    touch(listing.id)
    return photo


def remove_photo(photo: ListingPhoto) -> None:
    """Delete the row, and its files when no other photo of the territory has the same digest."""
    digest, listing_id = photo.digest, photo.listing_id
    db.session.delete(photo)
    db.session.flush()
    touch(listing_id)
    if digest is None:
        return
    others = db.session.execute(
        select(func.count()).select_from(ListingPhoto).where(ListingPhoto.digest == digest)
    ).scalar_one()
    if not others:
        storage = get_storage().for_tenant(require_tenant().slug)
        for size in PHOTO_SIZES:
            storage.delete(storage_key(digest, size))


def photo_of(listing: Listing, photo_id: int) -> ListingPhoto | None:
    """The listing's photo of that id (None for another listing's)."""
    return db.session.execute(
        select(ListingPhoto).where(
            ListingPhoto.id == photo_id, ListingPhoto.listing_id == listing.id
        )
    ).scalar_one_or_none()


def all_photos(listing_id: int) -> list[ListingPhoto]:
    """Every photo row of a listing, failed fetches included (the console's view)."""
    return list(
        db.session.execute(
            select(ListingPhoto)
            .where(ListingPhoto.listing_id == listing_id)
            .order_by(ListingPhoto.status.desc(), ListingPhoto.position, ListingPhoto.id)
        ).scalars()
    )


def own_url(name: str) -> str:
    """A photo file's address on the territory's own site."""
    return url_for("site.photo", name=name)


def shown(photo: ListingPhoto, title: str, url=own_url) -> ShownPhoto:
    """`url`: a file name's address (a grouping's site serves its members' photos itself)."""
    return ShownPhoto(
        id=photo.id,
        thumb=url(file_name(photo.digest, "thumb")),
        large=url(file_name(photo.digest, "large")),
        alt=photo.alt or title,
        width=photo.width,
        height=photo.height,
    )


def gallery(listing: Listing, url=own_url) -> list[ShownPhoto]:
    """The listing's stored photos, in order, as a page shows them."""
    rows = db.session.execute(
        select(ListingPhoto)
        .where(ListingPhoto.listing_id == listing.id, ListingPhoto.status == "ready")
        .order_by(ListingPhoto.position, ListingPhoto.id)
    ).scalars()
    return [shown(p, listing.title, url) for p in rows]


def main_photos(listings: list[Listing], url=own_url) -> dict[int, ShownPhoto]:
    """The first photo of each listing that has one, in one query (cards, lists, the API)."""
    ids = [x.id for x in listings]
    if not ids:
        return {}
    titles = {x.id: x.title for x in listings}
    rows = db.session.execute(
        select(ListingPhoto)
        .where(ListingPhoto.listing_id.in_(ids), ListingPhoto.status == "ready")
        .order_by(ListingPhoto.listing_id, ListingPhoto.position, ListingPhoto.id)
    ).scalars()
    first: dict[int, ShownPhoto] = {}
    for p in rows:  # ten photos a listing at most: the first of each is kept
        if p.listing_id not in first:
            first[p.listing_id] = shown(p, titles[p.listing_id], url)
    return first


def main_photo(listing: Listing) -> ShownPhoto | None:
    """The listing's first photo, or None: the card helper templates call (`main_photo(x)`)."""
    return main_photos([listing]).get(listing.id)


def stored_name_exists(name: str) -> str | None:
    """The storage key of a served file name, when a photo of the territory has it."""
    match = NAME_RE.match(name)
    if match is None:
        return None
    digest, size = match.groups()
    found = db.session.execute(
        select(ListingPhoto.id)
        .where(ListingPhoto.digest == digest, ListingPhoto.status == "ready")
        .limit(1)
    ).scalar()
    return storage_key(digest, size) if found else None
