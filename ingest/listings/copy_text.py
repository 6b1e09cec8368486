"""Records as PostgreSQL COPY text, built column by column: each value formatted by its declared
type, escaped only in a column that needs it, sent a few thousand rows at a time."""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable

#: COPY's text format writes these characters of a value as escapes, and NULL as `\N`.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ESCAPED = re.compile(r"[\\\t\n\r]")
NULL = "\\N"
#: Records sent per COPY write: the text of a few thousand rows is held at a time, besides the
#: records.
CHUNK_ROWS = 10_000


def values(records: list[dict], name: str) -> list:
    """One field of every record (None where a record lacks it)."""
    try:
        return list(map(operator.itemgetter(name), records))  # C code, when all have it
    except KeyError:
        return [r.get(name) for r in records]


def texts(column: list, type_: str) -> list[str]:
    """A column's values as COPY text: NULL, booleans as t/f, every other value as `str` writes
    it (dates ISO, decimals exact), a string escaped only if some value of the column needs it."""
    if type_ == "boolean":
        return [NULL if v is None else ("t" if v else "f") for v in column]
    if type_ == "string" and _ESCAPED.search("".join(map(str, filter(None, column)))):
        return [NULL if v is None else str(v).translate(_COPY_ESCAPES) for v in column]
    return [NULL if v is None else str(v) for v in column]


def write(copy, count: int, columns: Callable[[int, int], list[list[str]]]) -> None:
    """Send `count` rows to an open COPY, `columns(start, stop)` giving the texts of each column
    for the rows from `start` to `stop`."""
    for start in range(0, count, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, count)
        copy.write("\n".join(map("\t".join, zip(*columns(start, stop), strict=True))) + "\n")


def held(records: list[dict], columns: list[str]) -> list[str]:
    """The columns some record holds: the others stay NULL without being sent (a file has some
    of its kind's columns only)."""
    present = set(itertools.chain.from_iterable(records))
    return [c for c in columns if c in present]
