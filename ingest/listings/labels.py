"""How listings are named to people: field labels, kind titles, choice labels, and the words of
statuses, sources and log actions, in the reader's language (French by default)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.i18n import pick
from ingest.listings.declaration import CHOICE_LABELS, KIND_SHORT_TITLES, KIND_TITLES, Field

STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "unpublished": _l("Unpublished"),
    "expired": _l("Expired"),
}
SOURCE_LABELS = {"manual": _l("Console"), "file": _l("File"), "api": _l("API")}
ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("updated"),
    "publish": _l("published"),
    "unpublish": _l("unpublished"),
    "expire": _l("expired"),
    "import": _l("imported"),
}


def label(f: Field) -> str:
    return pick(f.title_fr, f.title_en)


def kind_title(kind: str) -> str:
    return pick(*KIND_TITLES[kind])


def kind_short_title(kind: str) -> str:
    """A kind as a site's navigation names it ("Emploi")."""
    return pick(*KIND_SHORT_TITLES[kind])


def choice_label(name: str, value) -> str:
    pair = CHOICE_LABELS.get(name, {}).get(value)
    if pair is None:
        return "" if value is None else str(value)
    return pick(*pair)


IMPORT_STATUS_LABELS = {
    "queued": _l("Waiting for a worker"),
    "reading": _l("Reading and checking"),
    "applying": _l("Applying"),
    "done": _l("Done"),
    "rejected": _l("Rejected: nothing imported"),
    "failed": _l("Failed"),
}
