"""A territory's look: theme tokens overridden by its colours, font and logo; its hero photo."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.contrast import AA_NORMAL_TEXT, HEX_RE, contrast_ratio
from core.extensions import db
from core.images import sanitise_logo, sanitise_photo
from core.storage import get_storage
from core.tenancy import require_tenant
from core.themes import available_themes
from sites.models import Branding

#: Font choices: system stacks only, so no page downloads a font from anywhere.
FONTS = {
    "system": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "humanist": "'Trebuchet MS', 'Segoe UI', Candara, 'DejaVu Sans', sans-serif",
    "serif": "Georgia, 'Times New Roman', 'DejaVu Serif', serif",
    "rounded": "'Arial Rounded MT Bold', 'Nunito', 'Verdana', sans-serif",
}
COLOURS = ("primary", "on_primary", "background", "text")
#: Pairs that must read at WCAG AA: (foreground, background, what it is).
PAIRS = (
    ("text", "background", "text_on_background"),
    ("on_primary", "primary", "on_primary_on_primary"),
    ("primary", "background", "links_on_background"),
)


class BrandingError(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code, self.params = code, params


def current_branding() -> Branding | None:
    return db.session.execute(select(Branding)).scalar_one_or_none()


def _branding_for_update() -> Branding:
    """The one row, created if missing and locked: two admins saving for the first time at once
    meet on it in turn instead of both inserting it."""
    db.session.execute(insert(Branding).values(id=1).on_conflict_do_nothing())
    return db.session.execute(select(Branding).with_for_update()).scalar_one()


def tokens(branding: Branding | None = None, theme: str | None = None) -> dict[str, str]:
    """The CSS custom properties of the bound territory: its values, else its theme's."""
    tenant = require_tenant()
    defaults = (
        available_themes().get(theme or tenant.theme, {}).get("tokens")
        or (available_themes()["default"]["tokens"])
    )
    values = {name: defaults.get(name) for name in COLOURS}
    values["font"] = FONTS.get(defaults.get("font", "system"), FONTS["system"])
    if branding is not None:
        for name in COLOURS:
            if getattr(branding, name):
                values[name] = getattr(branding, name)
        if branding.font in FONTS:
            values["font"] = FONTS[branding.font]
    return values


def css_variables(values: dict[str, str]) -> str:
    """`:root{…}`; every value is a checked #rrggbb or one of FONTS, so nothing can escape."""
    names = {
        "primary": "primary",
        "on_primary": "on-primary",
        "background": "background",
        "text": "text",
        "font": "font",
    }
    return ":root{" + ";".join(f"--{names[k]}:{v}" for k, v in values.items() if v) + "}"


def check_colours(values: dict[str, str]) -> None:
    for name in COLOURS:
        if not HEX_RE.match(values.get(name) or ""):
            raise BrandingError("bad_colour", field=name, value=values.get(name))
    for fore, back, what in PAIRS:
        ratio = contrast_ratio(values[fore], values[back])
        if ratio < AA_NORMAL_TEXT:
            raise BrandingError(
                "low_contrast",
                pair=what,
                ratio=f"{ratio:.2f}",
                fore=values[fore],
                back=values[back],
            )


def save_look(values: dict[str, str], font: str, account_id: int | None) -> Branding:
    """Colours (checked for contrast, nothing saved when refused) and font."""
    values = {k: (values.get(k) or "").lower() for k in COLOURS}
    check_colours(values)
    if font not in FONTS:
        raise BrandingError("bad_font", value=font)
    branding = _branding_for_update()
    for name in COLOURS:
        setattr(branding, name, values[name])
    branding.font = font
    branding.updated_by_id = account_id
    return branding


def save_logo(data: bytes, filename: str | None, account_id: int | None) -> Branding:
    """Check and sanitise the upload, store it under the territory's prefix, point to it."""

    logo = sanitise_logo(data, filename)
    key = f"branding/logo-{logo.digest[:16]}.{logo.extension}"
    get_storage().for_tenant(require_tenant().slug).put(key, logo.data, logo.content_type)
    branding = _branding_for_update()
    branding.logo_key, branding.logo_type = key, logo.content_type
    branding.updated_by_id = account_id
    return branding


def logo_url(branding: Branding | None) -> str | None:
    if branding is None or not branding.logo_key:
        return None
    return url_for("site.logo", name=branding.logo_key.rsplit("/", 1)[1])


def save_hero(data: bytes, account_id: int | None) -> Branding:
    """Check, resize and store the home page's photo, then point to it (PhotoError: nothing
    is stored and the current photo stays)."""
    photo = sanitise_photo(data)
    key = f"branding/hero-{photo.digest[:16]}.{photo.extension}"
    get_storage().for_tenant(require_tenant().slug).put(key, photo.data, photo.content_type)
    branding = _branding_for_update()
    branding.hero_key, branding.hero_type = key, photo.content_type
    branding.updated_by_id = account_id
    return branding


def hero_url(branding: Branding | None) -> str | None:
    if branding is None or not branding.hero_key:
        return None
    return url_for("site.stored_image", name=branding.hero_key.rsplit("/", 1)[1])
