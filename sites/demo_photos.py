"""The demo's listing pictures (`flask site demo-photos`): drawn with Pillow, deterministic per
listing (colours from its kind and identifier), one per listing without a photo, said in their
alt text to be illustrations. Drawn here, so no licence but the project's applies."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select

from core.extensions import db
from ingest.listings.models import Listing, ListingPhoto
from ingest.listings.photos import add_photo
from sites.demo import demo_territories

WIDTH, HEIGHT = 1200, 800
#: What each kind's illustration shows, as its alt text says it (French: the demo's language).
SUBJECTS = {
    "real_estate": "une maison",
    "job": "un lieu de travail",
    "business": "une boutique",
    "leisure": "un lieu de loisirs",
    "poi": "un lieu public",
}
_PALETTES = (
    ("#8ec5e8", "#6a9e4f", "#e8d5b0", "#b5482f"),
    ("#f2c48d", "#7c9a5b", "#d9c7a7", "#6b4f3a"),
    ("#a7c7e7", "#4f7f52", "#f0e6d2", "#8c2f39"),
    ("#c9e4f5", "#8aa35b", "#e6d3c1", "#3f5e8c"),
    ("#f5d6c6", "#5d8a66", "#ede0c8", "#a0522d"),
    ("#bcd9ea", "#6f8f3f", "#dcd0c0", "#2f6f6f"),
)


def draw(kind: str, seed: str) -> bytes:
    """A JPEG illustration of the kind's subject; the same seed always draws the same one."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - heavy: only when the demo is seeded

    digest = hashlib.sha256(f"{kind}:{seed}".encode()).digest()
    sky, grass, wall, accent = _PALETTES[digest[0] % len(_PALETTES)]
    shift = (digest[1] % 9 - 4) * 25  # the subject moves a little from one picture to the next
    image = Image.new("RGB", (WIDTH, HEIGHT), sky)
    pen = ImageDraw.Draw(image)
    pen.ellipse((900 + shift // 2, 80, 1020 + shift // 2, 200), fill="#fff4c2")  # the sun
    pen.polygon([(0, 560), (300, 380), (620, 560)], fill="#9bb3a0")  # hills behind
    pen.polygon([(420, 560), (820, 330), (1200, 560)], fill="#8aa595")
    pen.rectangle((0, 560, WIDTH, HEIGHT), fill=grass)
    x = 360 + shift
    if kind == "real_estate":
        pen.rectangle((x, 380, x + 480, 640), fill=wall)
        pen.polygon([(x - 40, 390), (x + 240, 200), (x + 520, 390)], fill=accent)
        pen.rectangle((x + 200, 500, x + 280, 640), fill="#5b3a29")
        for wx in (x + 60, x + 350):
            pen.rectangle((wx, 440, wx + 70, 510), fill="#dff1ff", outline="#ffffff", width=6)
    elif kind == "job":
        pen.rectangle((x, 240, x + 420, 640), fill=wall)
        for row in range(5):
            for col in range(4):
                wx, wy = x + 30 + col * 100, 270 + row * 70
                pen.rectangle((wx, wy, wx + 60, wy + 40), fill="#dff1ff")
        pen.rectangle((x + 170, 580, x + 250, 640), fill=accent)
    elif kind == "business":
        pen.rectangle((x, 360, x + 520, 640), fill=wall)
        for i in range(8):
            colour = accent if i % 2 == 0 else "#ffffff"
            pen.rectangle((x + i * 65, 360, x + (i + 1) * 65, 420), fill=colour)
        pen.rectangle((x + 40, 460, x + 300, 600), fill="#dff1ff", outline="#ffffff", width=6)
        pen.rectangle((x + 360, 470, x + 460, 640), fill="#5b3a29")
    elif kind == "leisure":
        for tx in (x - 120, x + 420):
            pen.rectangle((tx + 40, 470, tx + 70, 600), fill="#6b4f3a")
            pen.ellipse((tx - 30, 330, tx + 140, 500), fill="#3f7a3a")
        pen.rectangle((x + 100, 560, x + 360, 580), fill=accent)  # a bench
        pen.rectangle((x + 120, 580, x + 135, 620), fill=accent)
        pen.rectangle((x + 325, 580, x + 340, 620), fill=accent)
        pen.ellipse((x + 150, 640, x + 420, 720), fill="#7fb8d8")  # a pond
    else:  # a public place: a hall with columns and a flag
        pen.rectangle((x, 400, x + 460, 640), fill=wall)
        pen.polygon([(x - 20, 400), (x + 230, 290), (x + 480, 400)], fill=accent)
        for cx in range(x + 30, x + 460, 90):
            pen.rectangle((cx, 420, cx + 30, 640), fill="#ffffff")
        pen.rectangle((x + 228, 200, x + 234, 300), fill="#444444")
        pen.rectangle((x + 234, 200, x + 300, 240), fill=accent)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def alt_text(kind: str, title: str) -> str:
    return f"Illustration (image de démonstration) : {SUBJECTS.get(kind, 'un lieu')} – {title}"


def demo_photos(slugs=None, echo=print) -> int:
    """Give every listing of the demo territories (or of `slugs`) that has no photo a drawn
    one; running it again adds none. Returns how many were added."""
    added = 0
    for slug in demo_territories(slugs):
        with_photo = select(ListingPhoto.listing_id).where(ListingPhoto.status == "ready")
        listings = db.session.execute(
            select(Listing).where(Listing.id.not_in(with_photo)).order_by(Listing.id)
        ).scalars()
        count = 0
        for listing in listings:
            add_photo(
                listing,
                draw(listing.kind, listing.external_id),
                source="demo",
                alt=alt_text(listing.kind, listing.title)[:300],
            )
            count += 1
        db.session.commit()
        if count:
            echo(f"{count} demo pictures in {slug}")
        added += count
    return added
