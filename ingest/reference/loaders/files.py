"""Reading the published files, shared by the loaders, and the report of a load.

Paths, gzip/zip, encodings and separators, rows by chunks, numbers; the report counts the rows
read, written and refused (with their line).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO

import numpy as np

from ingest.reference.bulk import Progress

#: Rows read, projected and written per step.
CHUNK = 200_000
#: Problems kept in a report (all are counted in `skipped`).
MAX_PROBLEMS = 1000

PathArg = str | os.PathLike | Sequence[str | os.PathLike]

# --- reports ----------------------------------------------------------------------------------


class LoadError(ValueError):
    """The whole file is refused (nothing was written); the message says what is wrong."""


@dataclass
class LoadReport:
    """What a load did: rows read, written and refused (with their line), per type."""

    source: str  # "bpe" | "osm" | "filosofi" | "dvf"
    read: int = 0  # data rows (OSM: tagged nodes and ways) read
    loaded: int = 0  # rows written
    skipped: int = 0  # rows refused, each with a problem (only the first MAX_PROBLEMS kept)
    #: (line in the file, header = line 1; 0 for OSM objects, named in the reason), reason
    problems: list[tuple[int, str]] = field(default_factory=list)
    #: BPE / OSM: rows written per type code; Filosofi: valid rows per id column;
    #: DVF: rows read per `type_local` ("(none)" when empty)
    by_type: dict[str, int] = field(default_factory=dict)
    #: What was left out by design rather than refused (not in `skipped`), e.g. DVF
    #: "multi_local" mutations, OSM "private" objects, Filosofi "replaced_<source>" cells.
    counts: dict[str, int] = field(default_factory=dict)

    def problem(self, line: int, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, reason))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def add_type(self, key: str, n: int = 1) -> None:
        self.by_type[key] = self.by_type.get(key, 0) + n

    def summary(self) -> str:
        """One line: the source, rows read, loaded and skipped, and the counts."""
        return (
            f"{self.source}: {self.read} read, {self.loaded} loaded, {self.skipped} skipped"
            + "".join(f", {k} {v}" for k, v in sorted(self.counts.items()))
        )


def paths_of(path: PathArg) -> list[Path]:
    """The files given, each checked to exist (LoadError otherwise)."""
    items = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not items:
        raise LoadError("no file given")
    paths = [Path(item) for item in items]
    for p in paths:
        if not p.is_file():
            raise LoadError(f"no such file: {p}")
    return paths


# --- CSV reading ------------------------------------------------------------------------------


@dataclass
class CsvFile:
    """A CSV file as inspected: its encoding, separator and header."""

    path: Path
    label: str  # prefix of the problems' reasons when several files are loaded together
    encoding: str
    delimiter: str
    header: list[str]
    index: dict[str, int]  # lower-cased column name → position

    def has(self, name: str) -> bool:
        return name.lower() in self.index

    def require(self, names: Sequence[str]) -> None:
        missing = [n for n in names if not self.has(n)]
        if missing:
            found = ", ".join(self.header[:60]) + (", …" if len(self.header) > 60 else "")
            plural = "s" if len(missing) > 1 else ""
            raise LoadError(
                f"missing column{plural} {', '.join(missing)} in {self.path.name}; "
                f"found: {found or '(nothing)'}"
            )


#: CSV files that INSEE ships next to the data in its zip files (variables' descriptions).
_ZIP_METADATA = ("varmod", "meta", "dictionnaire")


@contextmanager
def _binary(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes: gunzipped, or the only data CSV of a zip, or as they are."""
    name = path.name.lower()
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield fh
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = [
                m
                for m in archive.namelist()
                if m.lower().endswith(".csv")
                and not m.rsplit("/", 1)[-1].lower().startswith(_ZIP_METADATA)
            ]
            if len(members) != 1:
                raise LoadError(
                    f"{path.name} holds {len(members)} CSV files "
                    f"({', '.join(members[:5]) or 'none'}); expected exactly one"
                )
            with archive.open(members[0]) as fh:
                yield fh
    else:
        with path.open("rb") as fh:
            yield fh


def _encoding(path: Path) -> str:
    """utf-8-sig when the whole file is valid UTF-8 (BOM or not), else Windows-1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with _binary(path) as fh:
        try:
            while block := fh.read(1 << 22):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


@contextmanager
def _text(path: Path, encoding: str) -> Iterator[IO[str]]:
    """The file's text, undecodable bytes replaced (the encoding was checked first)."""
    with _binary(path) as fh:
        yield io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")


def _inspect(path: Path, several: bool) -> CsvFile:
    """Encoding, separator and header of a CSV file (LoadError when it cannot be read)."""
    try:
        encoding = _encoding(path)
        with _text(path, encoding) as stream:
            first = stream.readline()
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise LoadError(f"cannot read {path.name}: {exc}") from exc
    if not first.strip():
        raise LoadError(f"{path.name} is empty: no header line")
    delimiter = max((";", ",", "\t"), key=first.count)
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([first], delimiter=delimiter))]
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.lower(), position)
    label = f"{path.name}: " if several else ""
    return CsvFile(path, label, encoding, delimiter, header, index)


def chunks(
    f: CsvFile, names: Sequence[str], report: LoadReport, progress: Progress
) -> Iterator[tuple[list[int], dict[str, tuple[str, ...] | None], list[tuple[int, str]]]]:
    """(line numbers, {column: values}, problems) per CHUNK rows; absent columns map to None.

    Rows with fewer fields than the columns asked for are left out, their problems handed
    with the chunk (for the caller to report in line order with its own).
    """
    present = [n for n in names if f.has(n)]
    positions = [f.index[n.lower()] for n in present]
    width = max(positions) + 1
    getter = itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))
    done = 0

    def chunk(lines, rows, short):
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in present]
        values: dict[str, tuple[str, ...] | None] = dict.fromkeys(names)
        values.update(zip(present, columns, strict=True))
        return lines, values, short

    with _text(f.path, f.encoding) as stream:
        stream.readline()
        reader = csv.reader(stream, delimiter=f.delimiter)
        lines: list[int] = []
        rows: list[tuple[str, ...]] = []
        short: list[tuple[int, str]] = []
        try:
            for row in reader:
                if not row:
                    continue  # blank line
                report.read += 1
                if len(row) < width:
                    short.append(
                        (
                            reader.line_num + 1,
                            f"{f.label}{len(row)} fields where the header has {len(f.header)}",
                        )
                    )
                    continue
                lines.append(reader.line_num + 1)
                rows.append(getter(row))
                if len(rows) >= CHUNK:
                    yield chunk(lines, rows, short)
                    lines, rows, short = [], [], []
                    if progress:
                        progress(report.read - done)
                        done = report.read
        except csv.Error as exc:
            raise LoadError(
                f"{f.path.name} line {reader.line_num + 1}: unreadable CSV ({exc})"
            ) from exc
        if rows or short:
            yield chunk(lines, rows, short)
    if progress and report.read > done:
        progress(report.read - done)


def report_problems(report: LoadReport, problems: list[tuple[int, str]]) -> None:
    """Report a chunk's problems in line order."""
    for line, reason in sorted(problems):
        report.problem(line, reason)


def floats(values: Sequence[str]) -> np.ndarray:
    """Numbers (`.` or `,` decimals); NaN where a value is empty or not a number."""
    try:
        return np.array(values, dtype="float64")
    except ValueError:
        out = np.empty(len(values), dtype="float64")
        for i, value in enumerate(values):
            try:
                out[i] = float(value.replace(",", "."))
            except ValueError:
                out[i] = np.nan
        return out


def open_csvs(path: PathArg) -> tuple[list[Path], list[CsvFile]]:
    """The files given and their inspection (several files label their problems)."""
    paths = paths_of(path)
    return paths, [_inspect(p, len(paths) > 1) for p in paths]
