"""Streaming reader of a normed file's first worksheet (XLSX), bounded while it reads.

A workbook is a zip of XML parts that can claim anything: a sheet of a few kilobytes may
declare a million rows, jump to row 1 048 576, or list millions of tiny shared strings. This
reader walks the XML with expat, event by event, keeps nothing but the rows it returns, and
stops at the first limit crossed (rows — blank ones included —, columns, cells, shared strings,
unzipped bytes), or at a DOCTYPE (entity tricks have no place in a workbook). Formulas come
back as their text, never evaluated.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pyexpat import ExpatError, ParserCreate
from xml.parsers.expat import XML_PARAM_ENTITY_PARSING_NEVER

#: What zipfile and zlib raise on a damaged archive or member.
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OverflowError,
)
#: Size of the pieces an XML part is inflated and parsed in.
CHUNK = 64 * 1024
#: Excel's built-in number formats that show a date or a time.
DATE_FORMAT_IDS = frozenset((*range(14, 23), 45, 46, 47))
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
_QUOTED_OR_BRACKETED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
#: The last day Excel can show (9999-12-31) as a serial number.
LAST_SERIAL = 2_958_465


class SheetError(ValueError):
    """The workbook is refused: `code` and `params` name the limit or the fault, for the
    report (the same codes as the normed reader's)."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}" if params else code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Limits:
    """What a workbook may hold (core.config: NORMED_MAX_*)."""

    rows: int
    columns: int
    cells: int
    shared_strings: int
    unzipped_bytes: int


def column_index(letters: str) -> int:
    """`A` → 1, `AB` → 28."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def column_letters(index: int) -> str:
    """1 → `A`, 28 → `AB`."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _local(name: str) -> str:
    """`x:row` → `row` (namespaces are not processed: the names are the spreadsheet's)."""
    return name.rpartition(":")[2]


class _Part:
    """Parse one zip member with expat, handlers given by the caller; every byte inflated
    counts against the workbook's budget, and a DOCTYPE stops the parse."""

    def __init__(self, archive: zipfile.ZipFile, name: str, budget: list[int]):
        self.archive, self.name, self.budget = archive, name, budget

    def parse(self, start=None, end=None, text=None) -> None:
        parser = ParserCreate()
        parser.SetParamEntityParsing(XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _no_doctype
        parser.EntityDeclHandler = _no_doctype
        if start:
            parser.StartElementHandler = start
        if end:
            parser.EndElementHandler = end
        if text:
            parser.CharacterDataHandler = text
        try:
            with self.archive.open(self.name) as stream:
                while chunk := stream.read(CHUNK):
                    self.budget[0] -= len(chunk)
                    if self.budget[0] < 0:
                        raise SheetError("too_large_unzipped")
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except SheetError:
            raise
        except ExpatError as exc:
            raise SheetError("bad_xml", part=self.name, reason=str(exc)) from None
        except DAMAGED as exc:
            # A damaged member (bad CRC, truncated, corrupt stream, unknown compression,
            # encrypted): the file's fault, whatever layer noticed it.
            raise SheetError("bad_xml", part=self.name, reason=str(exc)) from None


def _no_doctype(*_args):
    raise SheetError("doctype")


def read_sheet(data: bytes, limits: Limits) -> list[tuple[int, list[str]]]:
    """The first worksheet's rows that hold something, each as its row number in the sheet and
    the texts of its cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except DAMAGED as exc:
        raise SheetError("bad_xml", part="", reason=str(exc)) from None
    with archive:
        names = set(archive.namelist())
        # Sizes are those the zip declares; the inflating stops there (zipfile's own check),
        # so their sum bounds the work, and the budget below holds whatever they claim.
        if sum(i.file_size for i in archive.infolist()) > limits.unzipped_bytes:
            raise SheetError("too_large_unzipped")
        budget = [limits.unzipped_bytes]
        sheet, strings_part, styles_part, epoch = _workbook(archive, names, budget)
        dates = _date_styles(archive, styles_part, budget) if styles_part else frozenset()
        reader = _SheetReader(dates, epoch, limits)
        rows = reader.read(_Part(archive, sheet, budget))
        if reader.most_string < 0:
            return rows
        # The sheet first, the shared strings then, and only as many as its cells use: a list
        # of millions of strings no cell refers to costs nothing.
        if strings_part is None:
            raise SheetError("bad_xml", part="xl/sharedStrings.xml", reason="missing")
        strings = _shared_strings(archive, strings_part, budget, reader.most_string + 1)
    resolved = []
    for number, row in rows:
        texts = [strings[v] if isinstance(v, int) else v for v in row]
        if any(t.strip() for t in texts):
            resolved.append((number, texts))
    return resolved


def _workbook(archive, names: set[str], budget) -> tuple[str, str | None, str | None, datetime]:
    """The first sheet's part, the shared strings' and styles' parts, the date system."""
    if "xl/workbook.xml" not in names:
        raise SheetError("bad_xml", part="xl/workbook.xml", reason="missing")
    first: list[str] = []
    epoch = [datetime(1899, 12, 30)]

    def start(name, attrs):
        local = _local(name)
        if local == "sheet" and not first:
            first.append(next((v for k, v in attrs.items() if _local(k) == "id"), ""))
        elif local == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            epoch[0] = datetime(1904, 1, 1)

    _Part(archive, "xl/workbook.xml", budget).parse(start=start)
    targets: dict[str, str] = {}
    kinds: dict[str, str] = {}
    rels = "xl/_rels/workbook.xml.rels"
    if rels in names:

        def relation(name, attrs):
            if _local(name) == "Relationship":
                target = attrs.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else "xl/" + target
                targets[attrs.get("Id", "")] = target
                kinds.setdefault(attrs.get("Type", "").rsplit("/", 1)[-1], target)

        _Part(archive, rels, budget).parse(start=relation)
    sheet = targets.get(first[0]) if first else None
    if sheet is None and "xl/worksheets/sheet1.xml" in names:
        sheet = "xl/worksheets/sheet1.xml"
    if sheet not in names:
        raise SheetError("bad_xml", part="xl/worksheets", reason="no worksheet")
    strings = kinds.get("sharedStrings", "xl/sharedStrings.xml")
    styles = kinds.get("styles", "xl/styles.xml")
    return (
        sheet,
        strings if strings in names else None,
        styles if styles in names else None,
        epoch[0],
    )


class _Enough(Exception):
    """Every shared string the sheet uses has been read."""


def _shared_strings(archive, part: str, budget, needed: int) -> list[str]:
    """The first `needed` shared strings (the sheet uses none beyond)."""
    strings: list[str] = []
    pieces: list[str] = []
    depth = {"si": 0, "t": 0, "rPh": 0}

    def start(name, attrs):
        local = _local(name)
        if local in depth:
            depth[local] += 1
            if local == "si":
                pieces.clear()

    def end(name):
        local = _local(name)
        if local in depth:
            depth[local] -= 1
            if local == "si":
                strings.append("".join(pieces))
                if len(strings) >= needed:
                    raise _Enough

    def text(value):
        # Phonetic runs (rPh) are reading aids, not part of the value.
        if depth["t"] and depth["si"] and not depth["rPh"]:
            pieces.append(value)

    try:
        _Part(archive, part, budget).parse(start, end, text)
    except _Enough:
        return strings
    raise SheetError("bad_xml", part=part, reason=f"{len(strings)} shared strings, not {needed}")


def is_date_format(code: str) -> bool:
    """A custom number format shows a date when, literals and [colours] aside, it has a date
    or time letter."""
    return re.search(r"[dmyhs]", _QUOTED_OR_BRACKETED.sub("", code).lower()) is not None


def _date_styles(archive, part: str, budget) -> frozenset[int]:
    """Indexes of the cell styles (`s` of a cell) whose number format is a date."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    inside = [False]

    def start(name, attrs):
        local = _local(name)
        if local == "numFmt":
            try:
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
            except ValueError:
                pass
        elif local == "cellXfs":
            inside[0] = True
        elif local == "xf" and inside[0]:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    def end(name):
        if _local(name) == "cellXfs":
            inside[0] = False

    _Part(archive, part, budget).parse(start, end)
    return frozenset(
        index
        for index, number_format in enumerate(formats)
        if number_format in DATE_FORMAT_IDS
        or (number_format in custom and is_date_format(custom[number_format]))
    )


class _SheetReader:
    """The worksheet's events turned into rows of cell texts (a shared string as its index,
    resolved afterwards), counting as it goes."""

    def __init__(self, dates: frozenset[int], epoch: datetime, limits: Limits):
        self.dates, self.epoch, self.limits = dates, epoch, limits
        self.rows: list[tuple[int, list[str | int]]] = []
        self.row_index = 0
        self.cells = 0
        self.most_string = -1
        self.current: dict[int, str | int] | None = None
        self.column = 0
        self.cell_type = "n"
        self.cell_style = 0
        self.value: list[str] = []
        self.formula: list[str] = []
        self.collect: list[str] | None = None
        self.starts = {
            "c": self._start_cell,
            "row": self._start_row,
            "v": self._start_value,
            "t": self._start_value,
            "f": self._start_formula,
            "rPh": self._stop_collecting,
            "dimension": self._dimension,
        }
        self.ends = {
            "c": self._end_cell,
            "row": self._end_row,
            "v": self._stop_collecting,
            "t": self._stop_collecting,
            "f": self._stop_collecting,
        }

    def read(self, part: _Part) -> list[tuple[int, list[str | int]]]:
        part.parse(self.start, self.end, self.text)
        return self.rows

    def start(self, name, attrs):
        handler = self.starts.get(name) or self.starts.get(_local(name))
        if handler is not None:
            handler(attrs)

    def end(self, name):
        handler = self.ends.get(name) or self.ends.get(_local(name))
        if handler is not None:
            handler(None)

    def text(self, value):
        if self.collect is not None:
            self.collect.append(value)

    def _refuse_row(self, row: int) -> None:
        if row > self.limits.rows + 1:  # the header is row 1
            raise SheetError("too_many_rows", limit=self.limits.rows)

    def _refuse_column(self, column: int, row: int) -> None:
        if column > self.limits.columns:
            raise SheetError(
                "too_many_columns",
                limit=self.limits.columns,
                row=row,
                column=column_letters(min(column, 16384)),
            )

    def _dimension(self, attrs):
        found = _CELL_REF.match((attrs.get("ref") or "").rsplit(":", 1)[-1])
        if found:
            self._refuse_row(int(found.group(2)))
            self._refuse_column(column_index(found.group(1)), 1)

    def _start_row(self, attrs):
        self.row_index = _number(attrs.get("r"), self.row_index + 1)
        self._refuse_row(self.row_index)
        self.current, self.column = {}, 0

    def _start_cell(self, attrs):
        if self.current is None:  # a cell outside any row: malformed
            raise SheetError("bad_xml", part="worksheet", reason="cell outside a row")
        self.cells += 1
        if self.cells > self.limits.cells:
            raise SheetError("too_many_cells", limit=self.limits.cells)
        reference = attrs.get("r")
        if reference:
            found = _CELL_REF.match(reference)
            self.column = column_index(found.group(1)) if found else self.column + 1
        else:
            self.column += 1
        if self.column > self.limits.columns:
            self._refuse_column(self.column, self.row_index)
        self.cell_type = attrs.get("t", "n")
        style = attrs.get("s")
        self.cell_style = _number(style, 0) if style else 0
        self.value, self.formula = [], []

    def _start_value(self, _attrs):
        self.collect = self.value

    def _start_formula(self, _attrs):
        self.collect = self.formula

    def _stop_collecting(self, _attrs):
        self.collect = None

    def _end_cell(self, _):
        if self.current is not None:
            if self.value or self.formula:
                self.current[self.column] = self._cell_text()
        self.collect = None

    def _end_row(self, _):
        current = self.current
        if current and any(isinstance(v, int) or v.strip() for v in current.values()):
            cells = [current.get(i, "") for i in range(1, max(current) + 1)]
            self.rows.append((self.row_index, cells))
        self.current = None

    def _cell_text(self) -> str | int:
        formula = "".join(self.formula)
        if formula:
            return "=" + formula  # never evaluated: the formula's text, as typed
        value = "".join(self.value)
        kind = self.cell_type
        if kind == "s":
            if not value.strip():
                return ""
            index = _number(value, 0)
            if not 0 <= index < self.limits.shared_strings:
                raise SheetError("too_many_strings", limit=self.limits.shared_strings)
            self.most_string = max(self.most_string, index)
            return index
        if kind == "b":
            return {"1": "true", "0": "false"}.get(value.strip(), value)
        if kind in ("str", "inlineStr", "e"):
            return value
        return self._number_text(value.strip())

    def _number_text(self, value: str) -> str:
        """A number as a person typed it: 5 not 5.0; a date-styled serial as its date."""
        try:
            number = float(value)
        except ValueError:
            return value
        if number != number or number in (float("inf"), float("-inf")):
            return value
        if self.cell_style in self.dates and 0 <= number <= LAST_SERIAL:
            epoch = self.epoch
            if epoch.year == 1899 and number < 60:  # Excel's phantom 29/02/1900
                epoch += timedelta(days=1)
            moment = (epoch + timedelta(days=number)).replace(microsecond=0)
            if moment.time() == datetime.min.time():
                return moment.date().isoformat()
            return moment.isoformat()
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return value if "e" not in value.lower() else repr(number)


def _number(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SheetError(
            "bad_xml", part="worksheet", reason=f"not a number: {raw[:20]!r}"
        ) from None
