"""Request values the database can hold: integers within PostgreSQL's `integer`, no NUL.

A URL or query value past these bounds names nothing that exists: it is a 404 (a path) or the
parameter's default (a query), never a database error. A NUL character, which no text column
can hold and no form or link legitimately carries, is refused before any view runs."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

#: PostgreSQL's `integer`, the type of every id and count column.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
NUL = "\x00"


def bounded_int(value) -> int:
    """`int(value)` within PostgreSQL's `integer`; a ValueError otherwise, so that
    `request.args.get(name, default, type=bounded_int)` falls back to its default."""
    number = int(value)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"{value!r} is out of range")
    return number


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: at most INT_MAX (past it no row can match: 404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


class NulRefused(BadRequest):
    """A NUL character in the request: 400, saying where (the error page shows `texts`)."""

    def __init__(self, where_fr: str, where_en: str):
        self.texts = (
            "Caractère refusé",
            f"{where_fr} contient un caractère nul (U+0000), que rien ne peut enregistrer : "
            "retirez-le et recommencez.",
            "Character refused",
            f"{where_en} contains a NUL character (U+0000), which nothing can store: remove it "
            "and try again.",
        )
        super().__init__(f"{self.texts[1]} / {self.texts[3]}")


def refuse_nul() -> None:
    """Before every request: a NUL in the path, a query parameter or a form field is refused."""
    if NUL in request.path:
        raise NulRefused("L'adresse de la page", "The page's address")
    for key, value in request.args.items(multi=True):
        if NUL in key or NUL in value:
            name = key.replace(NUL, "")
            raise NulRefused(f"Le paramètre « {name} »", f"The parameter “{name}”")
    # Uploads (multipart) are left to their views: reading them here would consume the stream.
    if request.mimetype == "application/x-www-form-urlencoded":
        for key, value in request.form.items(multi=True):
            if NUL in key or NUL in value:
                name = key.replace(NUL, "")
                raise NulRefused(f"Le champ « {name} »", f"The field “{name}”")
