"""Reading and validating a normed listings file (CSV in any French encoding, or XLSX).

`read_normed(kind, data, filename)` returns the rows that passed and, for every problem, its
row, column, value and a code with parameters that the interface words in the reader's
language. Nothing here writes to the database: the import applies a validated file.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ingest.listings.declaration import fields_of, table_schema
from ingest.listings.rules import french_number, in_france, iso_date, siret_ok, typed

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_ERRORS = 10_000
CHUNK_ROWS = 25_000
SCHEMA_ERRORS = {
    "type-error": "bad_type",
    "constraint-error": "constraint",
    "missing-cell": "missing_cell",
    "extra-cell": "extra_cell",
}


@dataclass
class Issue:
    """One problem: where (row — the header is row 1 —, column), what (code, params), value."""

    code: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    params: dict = field(default_factory=dict)
    error: bool = True


@dataclass
class NormedFile:
    kind: str
    rows: list[dict]
    issues: list[Issue]
    encoding: str | None = None
    delimiter: str | None = None
    format: str = "csv"
    #: Data rows in the file (blank lines aside), valid or not.
    rows_read: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.error]


class NormedFileError(ValueError):
    """The file cannot be read at all (not CSV/XLSX, empty, too large…)."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}" if params else code)
        self.code, self.params = code, params


def _format(data: bytes, filename: str) -> str:
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                    # A zip bomb announces its size: refuse before openpyxl inflates anything.
                    if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:
                        raise NormedFileError("too_large", limit_mb=MAX_BYTES // 2**20)
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise NormedFileError("not_tabular", filename=filename)
    if b"\x00" in data[:4096] or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff":
        raise NormedFileError("not_tabular", filename=filename)
    return "csv"


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "windows-1252"


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=counts.get)


def _csv_rows(text: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    csv.field_size_limit(MAX_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise NormedFileError("empty")
    rows = []
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append(row)
        if len(rows) > MAX_ROWS:
            raise NormedFileError("too_many_rows", limit=MAX_ROWS)
    return [h.strip().lstrip("\ufeff") for h in header], rows


def _xlsx_text(value) -> str:
    """A cell as the text a person typed: 5 not 5.0, 2026-11-02 not 2026-11-02T00:00:00."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    # openpyxl is slow to import and only an XLSX upload needs it.
    from openpyxl import load_workbook

    # read_only streams the sheet; a formula comes back as its text ("=1+1"), never evaluated.
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    sheet = book.worksheets[0]
    values = []
    for row in sheet.iter_rows(values_only=True):
        cells = [_xlsx_text(v) for v in row]
        if any(c.strip() for c in cells):
            values.append(cells)
        if len(values) > MAX_ROWS + 1:
            raise NormedFileError("too_many_rows", limit=MAX_ROWS)
    book.close()
    if not values:
        raise NormedFileError("empty")
    return [str(h).strip() for h in values[0]], values[1:]


def read_normed(kind: str, data: bytes, filename: str = "fichier.csv") -> NormedFile:
    """Parse and validate; raises NormedFileError only when nothing can be read at all."""
    if len(data) > MAX_BYTES:
        raise NormedFileError("too_large", limit_mb=MAX_BYTES // 2**20)
    if not data.strip():
        raise NormedFileError("empty")
    declared = {f.name: f for f in fields_of(kind)}
    kind_format = _format(data, filename)
    encoding = delimiter = None
    if kind_format == "xlsx":
        header, rows = _xlsx_rows(data)
    else:
        text, encoding = _decode(data)
        delimiter = _delimiter(text.split("\n", 1)[0])
        header, rows = _csv_rows(text, delimiter)
    issues: list[Issue] = []
    known = [h for h in header if h in declared]
    for name in header:
        if name not in declared:
            issues.append(Issue("unknown_column", column=name, error=False))
    if len(set(header)) != len(header):
        duplicated = sorted({h for h in header if header.count(h) > 1})
        issues.append(Issue("duplicate_column", column=", ".join(duplicated)))
    missing_required = [f.name for f in declared.values() if f.required and f.name not in header]
    for name in missing_required:
        issues.append(Issue("missing_required_column", column=name))
    for f in declared.values():
        if not f.required and f.name not in header:
            issues.append(Issue("missing_optional_column", column=f.name, error=False))
    if not known or missing_required:
        if len(known) <= 1 and delimiter and len(header) == 1:
            issues.append(Issue("wrong_delimiter", params={"delimiter": delimiter}))
        return NormedFile(kind, [], issues, encoding, delimiter, kind_format, len(rows))
    if not rows:
        issues.append(Issue("no_rows"))
        return NormedFile(kind, [], issues, encoding, delimiter, kind_format, len(rows))

    known = [f for f in declared if f in known]  # the schema's order
    positions = [header.index(name) for name in known]
    table = [known] + [[r[p].strip() if p < len(r) else "" for p in positions] for r in rows]
    _frenchify(table, [declared[name] for name in known])
    descriptor = table_schema(kind)
    descriptor.pop("$schema", None)
    descriptor.pop("primaryKey")  # checked below across the whole file, not per chunk
    descriptor["fields"] = [f for f in descriptor["fields"] if f["name"] in known]
    bad_rows: set[int] = set()
    for code, row, column, value, note in _schema_errors(
        descriptor, table, [declared[name] for name in known]
    ):
        params = {"note": note}
        if column in declared:
            f = declared[column]
            params.update(
                type=f.type,
                enum=list(f.enum),
                pattern=f.pattern,
                minimum=f.minimum,
                maximum=f.maximum,
                max_length=f.max_length,
            )
        issues.append(Issue(code, row=row, column=column, value=value, params=params))
        if row:
            bad_rows.add(row)
    first_seen: dict[str, int] = {}
    id_position = known.index("external_id")
    for index, raw in enumerate(table[1:], start=2):
        external_id = raw[id_position]
        if external_id and first_seen.setdefault(external_id, index) != index:
            issues.append(
                Issue(
                    "duplicate_id",
                    row=index,
                    column="external_id",
                    value=external_id,
                    params={"first_row": first_seen[external_id]},
                )
            )
            bad_rows.add(index)
    valid = []
    converters = [(name, typed(declared[name].type)) for name in known]
    for index, raw in enumerate(table[1:], start=2):
        record = {name: raw[i] for i, name in enumerate(known)}
        problems = _french_rules(record, index)
        issues.extend(problems)
        if problems:
            bad_rows.add(index)
        if index not in bad_rows:
            valid.append(
                {"_row": index}
                | {
                    name: convert(v) if v else None
                    for (name, convert), v in zip(converters, raw, strict=True)
                }
            )
    return NormedFile(kind, valid, issues, encoding, delimiter, kind_format, len(rows))


def _schema_errors(descriptor: dict, table: list[list[str]], fields) -> list[tuple]:
    """Frictionless validation of the rows that a quick check cannot clear; big sets in chunks
    on every core."""
    suspects = _suspects(table, fields)
    numbers = [index + 1 for index in suspects]  # the header is row 1
    rows = [table[index] for index in suspects]
    chunks = [
        (numbers[start : start + CHUNK_ROWS], rows[start : start + CHUNK_ROWS])
        for start in range(0, len(rows), CHUNK_ROWS)
    ]
    if not chunks:
        return []
    if len(chunks) == 1:
        return _validate_chunk(descriptor, table[0], *chunks[0])
    workers = min(len(chunks), os.cpu_count() or 1)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        found = pool.map(
            _validate_chunk,
            [descriptor] * len(chunks),
            [table[0]] * len(chunks),
            *zip(*chunks, strict=True),
        )
        return [error for errors in found for error in errors]


_INTEGER = re.compile(r"-?\d{1,15}")
_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,15})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cleared(f):
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


def _suspects(table: list[list[str]], fields) -> list[int]:
    """Indexes (in `table`) of the rows some value of which the quick tests do not clear."""
    bad: set[int] = set()
    for f, values in zip(fields, zip(*table[1:], strict=True), strict=True):
        check, verdicts = _cleared(f), {"": not f.required}
        for index, value in enumerate(values, start=1):
            verdict = verdicts.get(value)
            if verdict is None:  # columns repeat their values: each is judged once
                verdict = verdicts[value] = check(value)
            if not verdict:
                bad.add(index)
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


def _frenchify(table: list[list[str]], fields) -> None:
    """Numbers written the French way (1 234,5) and dates as JJ/MM/AAAA, made canonical in place.

    A value that is not recognisably French is left alone for the schema to judge.
    """
    for position, f in enumerate(fields):
        if f.type in ("number", "integer"):
            fix = french_number
        elif f.type == "date":
            fix = iso_date
        else:
            continue
        for row in table[1:]:
            value = row[position]
            if value:
                row[position] = fix(value)


def _french_rules(record: dict, row: int) -> list[Issue]:
    out = []
    siret = record.get("siret")
    if siret and re.fullmatch(r"\d{14}", siret) and not siret_ok(siret):
        out.append(Issue("bad_siret", row=row, column="siret", value=siret))
    lat, lon = record.get("latitude"), record.get("longitude")
    if lat and lon:
        try:
            x, y = float(lon), float(lat)
        except ValueError:
            pass  # reported as a type error by the schema
        else:
            if not in_france(x, y):
                out.append(
                    Issue("outside_france", row=row, column="latitude", value=f"{lat}, {lon}")
                )
    elif bool(lat) != bool(lon):
        out.append(Issue("half_coordinates", row=row, column="latitude" if lon else "longitude"))
    return out
