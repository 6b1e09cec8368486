"""The Table Schema's checks of a normed file's columns: a quick test clears most values (a
whole column at once where it can), and frictionless judges the rows it does not clear, big sets
in chunks on every core. Each problem comes back as (code, row, column, value, note)."""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import date

MAX_ERRORS = 10_000
CHUNK_ROWS = 25_000
SCHEMA_ERRORS = {
    "type-error": "bad_type",
    "constraint-error": "constraint",
    "missing-cell": "missing_cell",
    "extra-cell": "extra_cell",
}


def schema_errors(descriptor: dict, known, columns, fields) -> list[tuple]:
    """Frictionless validation of the rows that a quick check cannot clear; big sets in chunks
    on every core."""
    suspects = _suspects(columns, fields)
    numbers = [index + 2 for index in suspects]  # the header is row 1
    rows = [[column[index] for column in columns] for index in suspects]
    chunks = [
        (numbers[start : start + CHUNK_ROWS], rows[start : start + CHUNK_ROWS])
        for start in range(0, len(rows), CHUNK_ROWS)
    ]
    if not chunks:
        return []
    if len(chunks) == 1:
        return _validate_chunk(descriptor, known, *chunks[0])
    workers = min(len(chunks), os.cpu_count() or 1)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        found = pool.map(
            _validate_chunk,
            [descriptor] * len(chunks),
            [known] * len(chunks),
            *zip(*chunks, strict=True),
        )
        return [error for errors in found for error in errors]


_INTEGER = re.compile(r"-?\d{1,15}")
_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,15})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def cleared(f):
    """A quick test a value surely passes the Table Schema with (never more lenient than
    frictionless: a value it does not clear is left for frictionless to judge)."""
    pattern = re.compile(f.pattern) if f.pattern else None
    enum = frozenset(f.enum)
    low = f.minimum if f.minimum is not None else float("-inf")
    high = f.maximum if f.maximum is not None else float("inf")
    longest = f.max_length

    def string(value: str) -> bool:
        return (
            (not enum or value in enum)
            and (pattern is None or pattern.fullmatch(value) is not None)
            and (longest is None or len(value) <= longest)
        )

    def number(value: str) -> bool:
        shape = _INTEGER if f.type == "integer" else _NUMBER
        return shape.fullmatch(value) is not None and low <= float(value) <= high

    def when(value: str) -> bool:
        if _DATE.fullmatch(value) is None:
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True

    def boolean(value: str) -> bool:
        return value in ("true", "vrai", "oui", "1", "false", "faux", "non", "0")

    return {"string": string, "integer": number, "number": number, "date": when}.get(
        f.type, boolean
    )


def uncleared(f, values: set[str]) -> set[str]:
    """Of a column's distinct values, those `cleared` does not clear: the whole column tested
    at once first (the usual column, thousands of distinct numbers or identifiers, passes), then,
    only if that fails, value by value."""
    failing = {""} if "" in values and f.required else set()
    values = values - {""}
    if not values:
        return failing
    if f.type == "string":
        passes = (
            (not f.enum or values <= frozenset(f.enum))
            and (f.pattern is None or all(map(re.compile(f.pattern).fullmatch, values)))
            and (f.max_length is None or max(map(len, values)) <= f.max_length)
        )
    elif f.type in ("integer", "number"):
        shape = _INTEGER if f.type == "integer" else _NUMBER
        passes = all(map(shape.fullmatch, values))
        if passes:
            numbers = list(map(float, values))
            low = f.minimum if f.minimum is not None else float("-inf")
            high = f.maximum if f.maximum is not None else float("inf")
            passes = min(numbers) >= low and max(numbers) <= high
    else:
        passes = False
    if passes:
        return failing
    check = cleared(f)
    return failing | {value for value in values if not check(value)}


def _suspects(columns: list[list[str]], fields) -> list[int]:
    """Indexes (0-based) of the rows some value of which the quick tests do not clear; each
    distinct value of a column is judged once."""
    bad: set[int] = set()
    for f, values in zip(fields, columns, strict=True):
        failing = uncleared(f, set(values))
        if failing:
            bad.update(index for index, value in enumerate(values) if value in failing)
    return sorted(bad)


def _validate_chunk(descriptor: dict, header: list[str], numbers: list, rows: list) -> list[tuple]:
    # frictionless takes a quarter of a second to import: only validating a file needs it, not
    # every process that starts (web, worker, each flask command).
    from frictionless import Resource, Schema

    # The chunk holds the known columns in the schema's order: an exact match by name.
    resource = Resource(data=[header, *rows], schema=Schema.from_descriptor(descriptor))
    report = resource.validate(limit_errors=MAX_ERRORS)
    out = []
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            out.append(
                (
                    SCHEMA_ERRORS.get(error.type, error.type),
                    numbers[row - 2] if row else None,
                    getattr(error, "field_name", None),
                    getattr(error, "cell", None),
                    getattr(error, "note", ""),
                )
            )
    return out
