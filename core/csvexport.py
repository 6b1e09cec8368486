"""CSV files a French spreadsheet opens right: UTF-8 with BOM, `;`, no cell run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

#: Leading characters a spreadsheet would take for a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    text_value = "" if value is None else str(value)
    return "'" + text_value if text_value.startswith(FORMULA_START) else text_value


def csv_bytes(header: Iterable, rows: Iterable[Iterable]) -> bytes:
    """The whole file: BOM, `;`, CRLF, every cell (header included) neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(neutralise(cell) for cell in header)
    for row in rows:
        writer.writerow(neutralise(cell) for cell in row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
