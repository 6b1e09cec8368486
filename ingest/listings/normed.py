"""Reading and validating a normed listings file (CSV in any French encoding, or XLSX).

`read_normed(kind, data, filename)` returns the rows that passed and, for every problem, its
row, column, value and a code with parameters that the interface words in the reader's
language. Nothing here writes to the database: the import applies a validated file.
"""

from __future__ import annotations

import csv
import io
import operator
import re
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app, has_app_context

from core.config import Config
from ingest.listings.declaration import fields_of, table_schema
from ingest.listings.file_checks import schema_errors
from ingest.listings.rules import (
    control_character,
    french_number,
    in_france,
    iso_date,
    siret_ok,
    typed,
    visible,
)
from ingest.listings.spellings import choice_codes, column_names
from ingest.listings.xlsx import DAMAGED, Limits, SheetError, read_sheet

if TYPE_CHECKING:
    import numpy as np

MAX_BYTES = 20 * 1024 * 1024


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
    #: The rows refused for other reasons whose commune code reads well: `_row` and
    #: `commune_insee`, so that the import checks their commune too (every error in one pass).
    communes_to_check: list[dict] = field(default_factory=list)

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


def limits() -> Limits:
    """The normed files' limits: the app's settings, or their defaults outside an app."""
    source = current_app.config if has_app_context() else vars(Config())
    return Limits(
        rows=int(source["NORMED_MAX_ROWS"]),
        columns=int(source["NORMED_MAX_COLUMNS"]),
        cells=int(source["NORMED_MAX_CELLS"]),
        shared_strings=int(source["NORMED_MAX_SHARED_STRINGS"]),
        unzipped_bytes=int(source["NORMED_MAX_UNZIPPED_MB"]) * 2**20,
    )


#: Byte-order marks of the Unicode encodings a spreadsheet may save a CSV in; UTF-32's first,
#: as its little-endian mark begins with UTF-16's.
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


#: Magic numbers of files a person may take for a table: images, a PDF, an old Excel (.xls)
#: or Word document (OLE2).
NOT_TABULAR = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF-", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _format(data: bytes, filename: str) -> str:
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except DAMAGED:
            names = []
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise NormedFileError("not_tabular", filename=filename)
    if data.startswith(NOT_TABULAR):
        raise NormedFileError("not_tabular", filename=filename)
    if any(data.startswith(bom) for bom, _name in BOMS):
        return "csv"
    # Text has no NUL but by accident (reported where it is); many of them are a binary file,
    # or UTF-16 without its mark, which cannot be told apart from other bytes.
    head = data[:4096]
    if head.count(b"\x00") * 50 > len(head):
        raise NormedFileError("not_tabular", filename=filename)
    return "csv"


def _decode(data: bytes) -> tuple[str, str]:
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise NormedFileError("bad_encoding", position=exc.start) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        # Bytes Windows-1252 leaves undefined: neither of the encodings a French file comes in.
        raise NormedFileError("bad_encoding", position=exc.start) from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=counts.get)


def _widest(text: str, delimiter: str, columns: int) -> tuple[int, int] | None:
    """The first record (row number, fields) with more than `columns` fields, counted from the
    delimiters outside quotes line by line: the csv module would build such a record whole,
    and 20 MB of `"ab";` make millions of strings."""
    tokens = re.compile('"[^"]*"?|' + re.escape(delimiter))
    quoted, fields, record = False, 1, 1
    for line in io.StringIO(text, newline=""):
        if quoted:  # inside a quoted field carried over from the line before
            end = line.find('"')
            if end < 0:
                continue
            line, quoted = line[end + 1 :], False
        total = line.count(delimiter)
        if '"' in line:
            quoted = line.count('"') % 2 == 1
            if quoted or fields + total > columns:
                # Exactly, token by token, only as far as needed (quoted runs are skipped).
                total = 0
                for token in tokens.finditer(line):
                    if token[0] == delimiter:
                        total += 1
                        if fields + total > columns:
                            break
            else:
                total = 0  # the record ends here within the limit: its count is not needed
        fields += total
        if fields > columns:
            return record, fields
        if not quoted:
            record, fields = record + 1, 1
    return None


def _csv_rows(
    text: str, delimiter: str, bounds: Limits
) -> tuple[list[str], list[list[str]], list[int], bool]:
    """Header, rows that hold something, their record numbers (the header is 1, blank lines
    count), and whether some cell spans lines."""
    wide = _widest(text, delimiter, bounds.columns)
    if wide:
        raise NormedFileError("too_many_columns", limit=bounds.columns, row=wide[0], column=wide[1])
    most = bounds.rows
    csv.field_size_limit(MAX_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise NormedFileError("empty")
        rows, numbers = [], [1]
        keep, number = rows.append, numbers.append
        records = 1
        for records, row in enumerate(reader, start=2):
            if "".join(row).strip():  # a cell holding something (blank rows are counted)
                keep(row)
                number(records)
                if len(rows) > most:
                    raise NormedFileError("too_many_rows", limit=most)
    except csv.Error as exc:
        raise NormedFileError("unreadable", reason=str(exc)) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    return header, rows, numbers, reader.line_num > records


def _xlsx_rows(data: bytes, bounds: Limits) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows that hold something, and their row numbers in the sheet (the header's
    first): blank rows are skipped but counted, so a report points at the row Excel shows."""
    try:
        values = read_sheet(data, bounds)
    except SheetError as exc:
        if exc.code == "too_large_unzipped":
            raise NormedFileError(exc.code, limit_mb=bounds.unzipped_bytes // 2**20) from None
        raise NormedFileError(exc.code, **exc.params) from None
    if not values:
        raise NormedFileError("empty")
    numbers = [number for number, _cells in values]
    return [h.strip() for h in values[0][1]], [cells for _n, cells in values[1:]], numbers


def read_normed(kind: str, data: bytes, filename: str = "fichier.csv") -> NormedFile:
    """Parse and validate; raises NormedFileError only when nothing can be read at all."""
    if len(data) > MAX_BYTES:
        raise NormedFileError("too_large", limit_mb=MAX_BYTES // 2**20)
    if not data.strip():
        raise NormedFileError("empty")
    declared = {f.name: f for f in fields_of(kind)}
    bounds = limits()
    kind_format = _format(data, filename)
    encoding = delimiter = None
    if kind_format == "xlsx":
        header, rows, numbers = _xlsx_rows(data, bounds)
        plain = False
    else:
        text, encoding = _decode(data)
        delimiter = _delimiter(text.split("\n", 1)[0])
        header, rows, numbers, spans = _csv_rows(text, delimiter, bounds)
        # No cell can hold a control character when the whole text holds none but the line
        # breaks ending its records and the delimiter: the usual file skips the cell by cell scan.
        plain = not spans and delimiter != "\t" and "\t" not in text
        plain = plain and control_character(text, multiline=True) is None
    header = column_names(kind, header)
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
    fields = [declared[name] for name in known]
    columns = _columns(rows, [header.index(name) for name in known])
    _frenchify(columns, fields)
    choice_codes(columns, fields)
    descriptor = table_schema(kind)
    descriptor.pop("$schema", None)
    descriptor.pop("primaryKey")  # checked below across the whole file, not per chunk
    descriptor["fields"] = [f for f in descriptor["fields"] if f["name"] in known]
    bad_rows: set[int] = set()
    if not plain:
        for issue in _control_characters(columns, fields):
            issues.append(issue)
            bad_rows.add(issue.row)
    for code, row, column, value, note in schema_errors(descriptor, known, columns, fields):
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
    for issue in _duplicates(columns[known.index("external_id")]):
        issues.append(issue)
        bad_rows.add(issue.row)
    problems = _french_rules(dict(zip(known, columns, strict=True)), len(rows))
    issues.extend(problems)
    bad_rows.update(issue.row for issue in problems)
    valid = _records(known, columns, fields, bad_rows, numbers)
    to_check = _communes_of_refused(known, columns, bad_rows, issues, numbers)
    _renumber(issues, numbers)
    return NormedFile(kind, valid, issues, encoding, delimiter, kind_format, len(rows), to_check)


def _communes_of_refused(known, columns, bad_rows: set[int], issues, numbers) -> list[dict]:
    """The refused rows whose commune code raised nothing itself, as minimal records."""
    if "commune_insee" not in known or not bad_rows:
        return []
    flagged = {i.row for i in issues if i.column == "commune_insee"}
    column = columns[known.index("commune_insee")]
    return [
        {"_row": numbers[index - 1], "commune_insee": column[index - 2]}
        for index in sorted(bad_rows - flagged)
        if index >= 2 and column[index - 2]
    ]


def _columns(rows: list[list[str]], positions: list[int]) -> list[list[str]]:
    """The known columns of the rows, stripped (a short row's missing cells are empty)."""
    shortest = min(map(len, rows))
    columns = []
    for p in positions:
        if p < shortest:  # every row has the cell: taken by C code, not row by row
            column = list(map(operator.itemgetter(p), rows))
        else:
            column = [row[p] if p < len(row) else "" for row in rows]
        columns.append(list(map(str.strip, column)))
    return columns


def _duplicates(ids: list[str]) -> list[Issue]:
    """Each repeated identifier after its first row (empty ones are a schema error)."""
    found: list[Issue] = []
    if len(set(ids)) + max(ids.count("") - 1, 0) == len(ids):
        return found  # all different: the usual file skips the row by row walk
    first_seen: dict[str, int] = {}
    for index, external_id in enumerate(ids, start=2):
        if external_id and first_seen.setdefault(external_id, index) != index:
            found.append(
                Issue(
                    "duplicate_id",
                    row=index,
                    column="external_id",
                    value=external_id,
                    params={"first_row": first_seen[external_id]},
                )
            )
    return found


def _records(known, columns, fields, bad_rows: set[int], numbers: list[int]) -> list[dict]:
    """The valid rows as typed records, `_row` the row the person sees; converted column by
    column (a date or a code repeats: each distinct value is converted once)."""
    keep = [i for i in range(len(columns[0])) if i + 2 not in bad_rows]
    if len(keep) < len(columns[0]):
        columns = [[column[i] for i in keep] for column in columns]
    typed_columns = []
    for f, column in zip(fields, columns, strict=True):
        convert = typed(f.type)
        if f.type == "string":
            typed_columns.append([v or None for v in column])
        elif f.type in ("integer", "number"):
            typed_columns.append([convert(v) if v else None for v in column])
        else:  # dates and booleans repeat: each distinct value converted once
            seen = {"": None}
            typed_columns.append(
                [seen[v] if v in seen else seen.setdefault(v, convert(v)) for v in column]
            )
    keys = ("_row", *known)
    rows = [numbers[i + 1] for i in keep]
    return [
        dict(zip(keys, values, strict=True)) for values in zip(rows, *typed_columns, strict=True)
    ]


def _renumber(issues: list[Issue], numbers: list[int]) -> None:
    """Positions in the table (the header 1, then each row that holds something) become the
    rows the person sees in their spreadsheet, blank ones counted."""
    for issue in issues:
        if issue.row:
            issue.row = numbers[issue.row - 1]
        if "first_row" in issue.params:
            issue.params["first_row"] = numbers[issue.params["first_row"] - 1]


def _control_characters(columns: list[list[str]], fields) -> list[Issue]:
    """Every cell holding a character no listing text may hold, wherever it is in the file."""
    found = []
    for f, column in zip(fields, columns, strict=True):
        # One search over the whole column first: a clean column (nearly all) costs one scan.
        if control_character(" ".join(column), f.multiline) is None:
            continue
        for index, value in enumerate(column, start=2):
            where = control_character(value, f.multiline)
            if where is not None:
                found.append(
                    Issue(
                        "control_character",
                        row=index,
                        column=f.name,
                        value=visible(value),
                        params={"position": where + 1, "character": f"U+{ord(value[where]):04X}"},
                    )
                )
    return found


#: A column holding none of these has no French number or date to rewrite.
_FRENCH_NUMBER = re.compile("[ ,\u00a0\u202f]")


def _frenchify(columns: list[list[str]], fields) -> None:
    """Numbers written the French way (1 234,5) and dates as JJ/MM/AAAA, made canonical in place.

    A value that is not recognisably French is left alone for the schema to judge.
    """
    for column, f in zip(columns, fields, strict=True):
        if f.type in ("number", "integer"):
            fix, sign = french_number, _FRENCH_NUMBER
        elif f.type == "date":
            fix, sign = iso_date, re.compile("/")
        else:
            continue
        if sign.search("".join(column)) is None:
            continue  # nothing French in the column (the usual file): no value to look at
        column[:] = [fix(value) if value else value for value in column]


def _french_rules(columns: dict[str, list[str]], count: int) -> list[Issue]:
    """SIRET checksums, points inside France and coordinates given by halves, in row order; the
    points of the whole file are tested at once."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a file is read

    found: dict[int, list[Issue]] = {}
    siret = columns.get("siret")
    for index, value in enumerate(siret or (), start=2):
        if value and re.fullmatch(r"\d{14}", value) and not siret_ok(value):
            found.setdefault(index, []).append(
                Issue("bad_siret", row=index, column="siret", value=value)
            )
    blank = [""] * count
    lats, lons = columns.get("latitude", blank), columns.get("longitude", blank)
    both = [i for i in range(count) if lats[i] and lons[i]]
    (xs, x_read), (ys, y_read) = _floats([lons[i] for i in both]), _floats([lats[i] for i in both])
    outside = ~in_france(xs, ys) & x_read & y_read  # an unreadable one is a type error
    for i in np.flatnonzero(outside).tolist():
        index = both[i] + 2
        found.setdefault(index, []).append(
            Issue(
                "outside_france",
                row=index,
                column="latitude",
                value=f"{lats[both[i]]}, {lons[both[i]]}",
            )
        )
    for i in range(count):
        if bool(lats[i]) != bool(lons[i]):
            found.setdefault(i + 2, []).append(
                Issue("half_coordinates", row=i + 2, column="latitude" if lons[i] else "longitude")
            )
    return [issue for index in sorted(found) for issue in found[index]]


def _floats(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as numbers, and which of them could be read (the schema reports the others)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a file is read

    try:
        return np.array(values, dtype=np.float64), np.ones(len(values), dtype=bool)
    except ValueError:
        numbers, read = np.zeros(len(values)), np.zeros(len(values), dtype=bool)
        for i, value in enumerate(values):
            try:
                numbers[i], read[i] = float(value), True
            except ValueError:
                pass
        return numbers, read
