"""How people write a normed file's columns and choices: a header may use the field names or
their titles (French or English, as the templates and the documentation show them), and a choice
may be its code or its label ("Maison" for `house`, "Vente" for `sale`). Both are made canonical
before the file is checked, so that the schema judges what was meant."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ingest.listings.declaration import CHOICE_LABELS, fields_of


def folded(text: str) -> str:
    """Lower case, no accents, any run of spaces or punctuation as one space."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", plain.casefold()).split())


@cache
def _titles(kind: str) -> dict[str, str]:
    """Folded titles (French and English) and names → field name."""
    found: dict[str, str] = {}
    for f in fields_of(kind):
        for spelling in (f.title_fr, f.title_en, f.name):
            found.setdefault(folded(spelling), f.name)
    return found


def column_names(kind: str, header: list[str]) -> list[str]:
    """The header with each recognised title replaced by its field name; anything else is left
    as written (reported as an unknown column)."""
    titles = _titles(kind)
    names = {f.name for f in fields_of(kind)}
    return [h if h in names else titles.get(folded(h), h) for h in header]


@cache
def _labels(field_name: str) -> dict[str, str]:
    """Folded labels (French, English, and the French label's head: "Ferme" for "Ferme, corps
    de ferme", "CDI" for "CDI (durée indéterminée)") → code."""
    found: dict[str, str] = {}
    for code, (french, english) in CHOICE_LABELS.get(field_name, {}).items():
        head = re.split(r"[,(]", french, maxsplit=1)[0]
        for spelling in (code, french, english, head):
            found.setdefault(folded(spelling), code)
    return found


def choice_codes(columns: list[list[str]], fields) -> None:
    """Each choice written by its label becomes its code, in place; a value that is neither is
    left for the schema to refuse."""
    for column, f in zip(columns, fields, strict=True):
        if not f.enum or f.name not in CHOICE_LABELS:
            continue
        codes, labels = set(f.enum), _labels(f.name)
        if all(not value or value in codes for value in column):
            continue  # written with the codes (the usual file): nothing to look up
        column[:] = [
            value if not value or value in codes else labels.get(folded(value), value)
            for value in column
        ]
