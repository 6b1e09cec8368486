"""Loaders of the national reference files into `pois`, `cell_population` and `property_sales`.

One function per published format; each takes a path (or a list of paths, loaded together as
one dataset) and returns a LoadReport. They need an application context, not a request:

- `load_bpe`: INSEE's Base permanente des équipements (CSV) → pois, source "bpe";
- `load_osm`: an OpenStreetMap extract (.osm.pbf) → pois, source "osm";
- `load_filosofi`: INSEE's Filosofi gridded data, 1 km or 200 m (CSV) → cell_population;
- `load_dvf`: Etalab's geolocated DVF (CSV) → property_sales, source "dvf".

A load replaces the source's whole dataset in ONE transaction: it deletes the source's rows,
COPYs the new ones and commits; on any exception it rolls back and re-raises, so a failed load
changes nothing and loading the same file twice gives the same rows. It commits or rolls back
`db.session`: call it with no pending work of your own.

Bad rows are skipped, counted and reported with their line number in the file (the header is
line 1); they never stop the load. A file that cannot be used at all (missing, unreadable,
missing a required column, or without a single usable row) raises LoadError, and nothing
changes.

Memory stays flat: CSV files are read CHUNK rows at a time; each chunk is projected and
gridded with numpy/pyproj (core.grid) and streamed into COPY. CSV files may be UTF-8 (with or
without BOM) or Windows-1252, separated by `;`, `,` or tabs, and may be gzipped (`.gz`) or be
the only data CSV in a `.zip` (INSEE's `varmod_*.csv` descriptions are ignored).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO

import numpy as np
from pyproj.exceptions import CRSError
from sqlalchemy import text

from core import grid
from core.extensions import db
from ingest.reference.bulk import copy_rows
from ingest.reference.models import POI_COLUMNS

#: Rows read, projected and written per step.
CHUNK = 200_000
#: Problems kept in a report (all are counted in `skipped`).
MAX_PROBLEMS = 1000

Progress = Callable[[int], object] | None
PathArg = str | os.PathLike | Sequence[str | os.PathLike]

# --- territories ------------------------------------------------------------------------------

#: Territories with a 1 km grid: lon/lat box (west, south, east, north, with a small margin),
#: grid EPSG, and the projection of BPE's LAMBERT_X/Y there when the file has no EPSG column.
TERRITORIES = ("metro", "971", "972", "973", "974", "976")
_NAMES = (
    "metropolitan France",
    "Guadeloupe (971)",
    "Martinique (972)",
    "Guyane (973)",
    "La Réunion (974)",
    "Mayotte (976)",
)
_BOXES = np.array(
    [
        (-5.8, 41.2, 10.0, 51.3),
        (-62.0, 15.7, -60.8, 16.7),
        (-61.35, 14.3, -60.7, 14.95),
        (-54.8, 2.0, -51.4, 6.0),
        (55.1, -21.5, 56.0, -20.8),
        (44.9, -13.1, 45.4, -12.5),
    ]
)
_GRIDS = np.array([grid.METROPOLE if t == "metro" else grid.OVERSEAS[t] for t in TERRITORIES])
BPE_EPSG = {"metro": 2154, "971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
_BPE_EPSG_LIST = [BPE_EPSG[t] for t in TERRITORIES]
_COMMUNE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def _territory(commune: str) -> int:
    """Index in TERRITORIES of a commune code's territory; -1 when it has no 1 km grid."""
    if commune.startswith("97"):
        code = commune[:3]
        return TERRITORIES.index(code) if code in TERRITORIES else -1
    return 0


def _inside(lon: np.ndarray, lat: np.ndarray, territory: np.ndarray) -> np.ndarray:
    """Whether each point lies in its territory's box (NaN and territory -1 are outside)."""
    box = _BOXES[np.clip(territory, 0, None)]
    with np.errstate(invalid="ignore"):
        hit = (lon >= box[:, 0]) & (lat >= box[:, 1]) & (lon <= box[:, 2]) & (lat <= box[:, 3])
    return hit & (territory >= 0)


def _locate(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The territory holding each lon/lat point (overseas boxes first); -1 when none."""
    found = np.full(len(lon), -1, dtype=np.int64)
    for index in range(len(TERRITORIES) - 1, -1, -1):
        box = _BOXES[index]
        with np.errstate(invalid="ignore"):
            hit = (lon >= box[0]) & (lat >= box[1]) & (lon <= box[2]) & (lat <= box[3])
        found[hit & (found < 0)] = index
    return found


def _cells(x, y, source: np.ndarray, territory: np.ndarray, rows: np.ndarray) -> list:
    """Cell ids of `rows` (indexes) from x/y in per-row `source` EPSG, in the territory's grid."""
    cells = np.full(len(x), None, dtype=object)
    if len(rows):
        grids = _GRIDS[territory[rows]]
        pairs = np.unique(np.stack([source[rows], grids], axis=1), axis=0)
        for src, grd in pairs.tolist():
            pick = rows[(source[rows] == src) & (grids == grd)]
            cells[pick] = grid.cell_ids(x[pick], y[pick], src, grd)
    return cells.tolist()


def _ewkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon:.7f} {lat:.7f})"


# --- reports ----------------------------------------------------------------------------------


class LoadError(ValueError):
    """The whole file is refused (nothing was written); the message says what is wrong."""


@dataclass
class LoadReport:
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
        return (
            f"{self.source}: {self.read} read, {self.loaded} loaded, {self.skipped} skipped"
            + "".join(f", {k} {v}" for k, v in sorted(self.counts.items()))
        )


def _paths(path: PathArg) -> list[Path]:
    items = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not items:
        raise LoadError("no file given")
    paths = [Path(item) for item in items]
    for p in paths:
        if not p.is_file():
            raise LoadError(f"no such file: {p}")
    return paths


@contextmanager
def _replacing(source: str):
    """One transaction, serialised per source; rolled back on any exception."""
    session = db.session
    try:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"reference:{source}"}
        )
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _finish(report: LoadReport, paths: list[Path], table: str) -> None:
    """Refuse a load without one usable row (never replace a dataset by nothing), else
    refresh the planner's statistics of `table`, which changed wholesale."""
    if report.loaded:
        db.session.execute(text(f'ANALYZE "{table}"'))
        return
    names = ", ".join(p.name for p in paths)
    first = "; ".join(f"line {line}: {reason}" for line, reason in report.problems[:3])
    raise LoadError(
        f"no usable row in {names} ({report.read} read, {report.skipped} refused)"
        + (f"; first problems: {first}" if first else "")
        + "; nothing changed"
    )


# --- CSV reading ------------------------------------------------------------------------------


@dataclass
class _Csv:
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
    with _binary(path) as fh:
        yield io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")


def _inspect(path: Path, several: bool) -> _Csv:
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
    return _Csv(path, label, encoding, delimiter, header, index)


def _chunks(
    f: _Csv, names: Sequence[str], report: LoadReport, progress: Progress
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


def _report(report: LoadReport, problems: list[tuple[int, str]]) -> None:
    for line, reason in sorted(problems):
        report.problem(line, reason)


def _floats(values: Sequence[str]) -> np.ndarray:
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


def _open_all(path: PathArg) -> tuple[list[Path], list[_Csv]]:
    paths = _paths(path)
    return paths, [_inspect(p, len(paths) > 1) for p in paths]


# --- BPE --------------------------------------------------------------------------------------

BPE_REQUIRED = ("TYPEQU", "DEPCOM", "LAMBERT_X", "LAMBERT_Y")
#: Columns taken as the equipment's own id, when the file has one (first found).
BPE_ID_COLUMNS = ("ID", "IDEQUIP", "ID_EQUIPEMENT", "IDENTIFIANT")
_BPE_OPTIONAL = ("NOMRS", "SIRET", "QUALITE_XY", "EPSG")


def load_bpe(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load INSEE's BPE (one row per equipment) into `pois` with source "bpe".

    type_code = TYPEQU, name = NOMRS, commune_insee = DEPCOM, attributes = SIRET and
    QUALITE_XY. LAMBERT_X/Y are in the EPSG of the row's `EPSG` column when the file has one,
    else EPSG:2154 in metropolitan France and the local UTM overseas (BPE_EPSG). The cell is in
    the grid of DEPCOM's département. source_id is the file's id column when it has one
    (BPE_ID_COLUMNS), else "<line>-<TYPEQU>-<DEPCOM>" (e.g. "2-D265-75056"): stable for the
    same file, but not across editions of the BPE.

    Refused rows: empty TYPEQU, malformed DEPCOM, a département without a 1 km grid (975,
    977, 978), QUALITE_XY "Non géolocalisé", coordinates empty, not numbers, in an unknown
    EPSG or outside the territory, a duplicate id.
    """
    paths, files = _open_all(path)
    for f in files:
        f.require(BPE_REQUIRED)
    report = LoadReport("bpe")
    with _replacing("bpe") as session:
        session.execute(text("DELETE FROM pois WHERE source = 'bpe'"))
        report.loaded = copy_rows("pois", POI_COLUMNS, _bpe_rows(files, report, progress))
        _finish(report, paths, "pois")
    return report


def _bpe_rows(files: list[_Csv], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    seen: set[str] = set()
    for k, f in enumerate(files):
        id_column = next((c for c in BPE_ID_COLUMNS if f.has(c)), None)
        names = [*BPE_REQUIRED, *_BPE_OPTIONAL] + ([id_column] if id_column else [])
        prefix = f"{k}." if k else ""
        for lines, cols, short in _chunks(f, names, report, progress):
            yield from _bpe_chunk(f, prefix, lines, cols, short, id_column, report, seen)


def _bpe_chunk(f, prefix, lines, cols, short, id_column, report, seen) -> Iterator[tuple]:
    n = len(lines)
    typequ, depcom = cols["TYPEQU"], cols["DEPCOM"]
    raw_x, raw_y = cols["LAMBERT_X"], cols["LAMBERT_Y"]
    names, sirets = cols["NOMRS"], cols["SIRET"]
    quality, epsg_column = cols["QUALITE_XY"], cols["EPSG"]
    own_ids = cols[id_column] if id_column else None
    xs, ys = _floats(raw_x), _floats(raw_y)
    not_numbers = (np.isnan(xs) | np.isnan(ys)).tolist()
    qualities = [q.strip() for q in quality] if quality else [""] * n
    sources: list[int] = [0] * n
    territories: list[int] = [-1] * n
    types: list[str] = [""] * n
    communes: list[str] = [""] * n
    reasons: dict[int, str] = {}
    places: dict[str, int] = {}  # commune → territory, per chunk
    epsgs: dict[str, int | None] = {}  # EPSG column value → code

    for i in range(n):
        code = typequ[i].strip()
        commune = depcom[i].strip().upper()
        where = places.get(commune)
        if where is None:
            where = places[commune] = _territory(commune) if _COMMUNE_RE.match(commune) else -2
        if not code:
            reasons[i] = "empty TYPEQU"
        elif where == -2:
            reasons[i] = f"DEPCOM {depcom[i]!r} is not a commune code"
        elif where < 0:
            reasons[i] = f"no 1 km grid for département {commune[:3]} (DEPCOM {commune})"
        elif qualities[i][:5].lower() == "non g":
            reasons[i] = f"QUALITE_XY is {qualities[i]!r}"
        elif not_numbers[i]:
            reasons[i] = f"LAMBERT_X/LAMBERT_Y are not numbers: {raw_x[i]!r}, {raw_y[i]!r}"
        else:
            epsg: int | None = _BPE_EPSG_LIST[where]
            if epsg_column:
                value = epsg_column[i]
                if value not in epsgs:
                    digits = re.sub(r"^EPSG:", "", value.strip(), flags=re.IGNORECASE)
                    epsgs[value] = int(digits) if digits.isdigit() else None
                if value.strip():
                    epsg = epsgs[value]
            if epsg is None:
                reasons[i] = f"EPSG {epsg_column[i]!r} is not an EPSG code"
                continue
            sources[i], territories[i], types[i], communes[i] = epsg, where, code[:60], commune

    source = np.array(sources, dtype=np.int64)
    territory = np.array(territories, dtype=np.int64)
    ok = territory >= 0
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for epsg in np.unique(source[ok]).tolist():
        pick = ok & (source == epsg)
        try:
            lon[pick], lat[pick] = grid.project(xs[pick], ys[pick], epsg, 4326)
        except CRSError:
            for i in np.flatnonzero(pick).tolist():
                reasons[i] = f"EPSG {epsg} is not a known projection"
            ok &= ~pick
    outside = ok & ~_inside(lon, lat, territory)
    for i in np.flatnonzero(outside).tolist():
        reasons[i] = (
            f"LAMBERT_X/LAMBERT_Y ({raw_x[i].strip()}, {raw_y[i].strip()}) in EPSG:{sources[i]} "
            f"fall outside {_NAMES[territories[i]]}"
        )
    ok &= ~outside
    rows = np.flatnonzero(ok)
    cells = _cells(xs, ys, source, territory, rows)
    lon_list, lat_list = lon.tolist(), lat.tolist()
    quoted: dict[str, str] = {}  # QUALITE_XY value → its JSON member
    written: Counter[str] = Counter()

    for i in rows.tolist():
        source_id = own_ids[i].strip() if own_ids else ""
        if source_id:
            if len(source_id) > 80:
                reasons[i] = f"{id_column} {source_id[:20]!r}… is longer than 80 characters"
                continue
            if source_id in seen:
                reasons[i] = f"duplicate {id_column} {source_id!r}"
                continue
            seen.add(source_id)
        else:
            source_id = f"{prefix}{lines[i]}-{types[i]}-{communes[i]}"
        members = []
        siret = sirets[i].strip() if sirets else ""
        if siret:
            members.append(f'"SIRET": "{siret}"' if siret.isdigit() else _member("SIRET", siret))
        if qualities[i]:
            q = qualities[i]
            members.append(quoted.get(q) or quoted.setdefault(q, _member("QUALITE_XY", q)))
        name = names[i].strip()[:300] if names else ""
        written[types[i]] += 1
        yield (
            "bpe",
            source_id,
            types[i],
            name or None,
            f"SRID=4326;POINT({lon_list[i]:.7f} {lat_list[i]:.7f})",
            cells[i],
            communes[i],
            "{" + ", ".join(members) + "}",
        )
    for code, count in written.items():
        report.add_type(code, count)
    _report(report, short + [(lines[i], f.label + reason) for i, reason in reasons.items()])


def _member(key: str, value: str) -> str:
    """One `"key": "value"` member of a JSON object."""
    return f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"


# --- OSM --------------------------------------------------------------------------------------

#: Keys that make a point of interest, in order of precedence for its type code.
OSM_KEYS = ("amenity", "shop", "tourism", "leisure", "healthcare")
#: Tags kept in `attributes`.
OSM_ATTRIBUTES = (
    *OSM_KEYS,
    "name",
    "opening_hours",
    "website",
    "contact:website",
    "phone",
    "contact:phone",
    "operator",
    "brand",
    "cuisine",
    "sport",
    "healthcare:speciality",
    "wheelchair",
    "addr:housenumber",
    "addr:street",
    "addr:postcode",
    "addr:city",
)
#: Objects not open to the public (e.g. private swimming pools) are left out.
OSM_PRIVATE_ACCESS = frozenset({"private", "no"})
_OSM_BATCH = 50_000


def load_osm(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load the points of interest of an OSM extract (.osm.pbf) into `pois`, source "osm".

    Kept: nodes and ways with any of OSM_KEYS (not tagged access=private/no: counted as
    "private"); relations are not read. A way's point is the mean of its node locations (a
    closed way's repeated first node counted once). type_code is "osm:<key>=<value>" for the
    first of OSM_KEYS present, source_id "n<id>" / "w<id>", attributes the OSM_ATTRIBUTES
    tags, commune_insee NULL. The cell is in an overseas grid when the point lies in that
    territory's box, else in the metropolitan one; points outside every box are refused.

    The file is read three times (the kept ways' node ids, those nodes' locations, then the
    points of interest), so memory holds the locations of those nodes only (16 bytes each),
    not of the whole extract's nodes as `with_locations()` would. Problems carry line 0 and
    name the object ("way 123: …").
    """
    import osmium

    paths = _paths(path)
    for p in paths:
        try:
            reader = osmium.io.Reader(str(p), osmium.osm.NOTHING)
            try:
                reader.header()  # reads the file's first block
            finally:
                reader.close()
        except (RuntimeError, OSError) as exc:
            raise LoadError(f"cannot read {p.name} as an OSM file: {exc}") from exc
    report = LoadReport("osm")
    with _replacing("osm") as session:
        session.execute(text("DELETE FROM pois WHERE source = 'osm'"))
        report.loaded = copy_rows("pois", POI_COLUMNS, _osm_rows(paths, report, progress))
        _finish(report, paths, "pois")
    return report


def _osm_objects(processor, path: Path) -> Iterator:
    """The processor's objects; a damaged file is a LoadError (the load rolls back)."""
    iterator = iter(processor)
    while True:
        try:
            obj = next(iterator)
        except StopIteration:
            return
        except RuntimeError as exc:
            raise LoadError(f"cannot read {path.name} as an OSM file: {exc}") from exc
        yield obj


def _osm_private(tags) -> bool:
    return tags.get("access", "") in OSM_PRIVATE_ACCESS


def _osm_node_locations(osmium, path: Path):
    """The locations of the nodes of the ways to keep (passes 1 and 2)."""
    from array import array

    refs = array("q")
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter(*OSM_KEYS)
    )
    for way in _osm_objects(ways, path):
        if not _osm_private(way.tags):
            refs.extend(node.ref for node in way.nodes)
    store = osmium.index.create_map("sparse_mem_array")
    needed = np.unique(np.frombuffer(refs, dtype=np.int64)) if len(refs) else None
    del refs
    if needed is not None:
        nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(map(int, needed))
        )
        for node in _osm_objects(nodes, path):
            store.set(node.id, node.location)
    return store


def _osm_rows(paths: list[Path], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    import osmium

    seen: set[str] | None = set() if len(paths) > 1 else None
    done = 0
    for p in paths:
        label = f"{p.name}: " if len(paths) > 1 else ""
        store = _osm_node_locations(osmium, p)
        batch: list[tuple] = []
        objects = osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter(*OSM_KEYS)
        )
        for obj in _osm_objects(objects, p):
            report.read += 1
            tags = obj.tags
            if _osm_private(tags):
                report.count("private")
                continue
            key = next(k for k in OSM_KEYS if k in tags)
            if obj.is_node():
                kind, source_id = "node", f"n{obj.id}"
                location = obj.location
                point = (location.lon, location.lat) if location.valid() else None
            else:
                kind, source_id = "way", f"w{obj.id}"
                point = _osm_way_point(store, obj.nodes)
            if point is None:
                report.problem(0, f"{label}{kind} {obj.id}: a node location is missing")
                continue
            if seen is not None:
                if source_id in seen:
                    report.count("duplicates")
                    continue
                seen.add(source_id)
            attributes = {k: tags[k] for k in OSM_ATTRIBUTES if k in tags}
            name = tags.get("name") or None
            batch.append(
                (
                    source_id,
                    f"osm:{key}={tags[key]}"[:60],
                    name[:300] if name else None,
                    json.dumps(attributes, ensure_ascii=False),
                    point,
                    f"{label}{kind} {obj.id}",
                )
            )
            if len(batch) >= _OSM_BATCH:
                yield from _osm_batch(batch, report)
                batch = []
                if progress:
                    progress(report.read - done)
                    done = report.read
        yield from _osm_batch(batch, report)
        del store
    if progress and report.read > done:
        progress(report.read - done)


def _osm_way_point(store, nodes) -> tuple[float, float] | None:
    refs = [node.ref for node in nodes]
    if len(refs) > 1 and refs[0] == refs[-1]:
        refs.pop()  # a closed way repeats its first node
    if not refs:
        return None
    lons, lats = [], []
    for ref in refs:
        try:
            location = store.get(ref)
        except KeyError:
            return None
        if not location.valid():
            return None
        lons.append(location.lon)
        lats.append(location.lat)
    return sum(lons) / len(lons), sum(lats) / len(lats)


def _osm_batch(batch: list[tuple], report: LoadReport) -> Iterator[tuple]:
    lon = np.array([b[4][0] for b in batch], dtype="float64")
    lat = np.array([b[4][1] for b in batch], dtype="float64")
    territory = _locate(lon, lat)
    rows = np.flatnonzero(territory >= 0)
    cells = _cells(lon, lat, np.full(len(batch), 4326), territory, rows)
    for i, (source_id, type_code, name, attributes, point, what) in enumerate(batch):
        if cells[i] is None:
            report.problem(0, f"{what}: ({point[0]:.5f}, {point[1]:.5f}) is outside France")
            continue
        report.add_type(type_code)
        yield ("osm", source_id, type_code, name, _ewkt(*point), cells[i], None, attributes)


# --- Filosofi ---------------------------------------------------------------------------------

FILOSOFI_AGES = {
    "ind_0_17": ("ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17"),
    "ind_18_64": ("ind_18_24", "ind_25_39", "ind_40_54", "ind_55_64"),
    "ind_65p": ("ind_65_79", "ind_80p"),
}
FILOSOFI_VALUES = (
    "ind",
    "men",
    "men_pauv",
    "ind_snv",
    "log_soc",
    *(c for group in FILOSOFI_AGES.values() for c in group),
)
_FILOSOFI_OUT = ("ind", "men", "men_pauv", "ind_snv", "log_soc", *FILOSOFI_AGES)
_FILOSOFI_ID_RE = re.compile(r"^CRS(\d{4,5})RES(1000|200)mN(-?\d+)E(-?\d+)$")
_FILOSOFI_SQL = {
    "stage": "CREATE TEMP TABLE _stage_filosofi (cell_id text, ind float8, men float8, "
    "men_pauv float8, ind_snv float8, log_soc float8, ind_0_17 float8, ind_18_64 float8, "
    "ind_65p float8) ON COMMIT DROP",
    # Cells of other sources (e.g. synthetic) that the file covers give way to it.
    "replace": "WITH gone AS (DELETE FROM cell_population c "
    "USING (SELECT DISTINCT cell_id FROM _stage_filosofi) s WHERE c.cell_id = s.cell_id "
    "RETURNING c.source) SELECT source, count(*) FROM gone GROUP BY source ORDER BY source",
    "insert": "INSERT INTO cell_population (cell_id, source, ind, men, men_pauv, ind_snv, "
    "log_soc, ind_0_17, ind_18_64, ind_65p) SELECT cell_id, 'filosofi', sum(ind), sum(men), "
    "sum(men_pauv), sum(ind_snv), sum(log_soc), sum(ind_0_17), sum(ind_18_64), sum(ind_65p) "
    "FROM _stage_filosofi GROUP BY cell_id",
}


def load_filosofi(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load INSEE's Filosofi gridded data into `cell_population`, source "filosofi".

    The id column `idcar_200m` (200 m cells, summed into their 1 km cell: the corner floored
    to 1000 m) or else `idcar_1km` decides the resolution; column names are matched without
    regard to case (the 2017 files say `Idcar_1km`, `Ind`…). Values may use `.` or `,`
    decimals. Several files (metropolitan France, Martinique, La Réunion) may be given
    together, all at one resolution. Cells of another source (e.g. synthetic rows) that the
    file covers are replaced: counted as "replaced_<source>". Refused rows: a malformed id
    (not CRS<epsg>RES<res>mN…E… of a French grid, corners not multiples of the resolution), a
    value that is empty or not a number.
    """
    paths, files = _open_all(path)
    resolutions = set()
    for f in files:
        id_column = "idcar_200m" if f.has("idcar_200m") else "idcar_1km"
        if not f.has(id_column):
            f.require(["idcar_1km or idcar_200m", *(c for c in FILOSOFI_VALUES if not f.has(c))])
        f.require(FILOSOFI_VALUES)
        resolutions.add(id_column)
    if len(resolutions) > 1:
        raise LoadError(
            "the files mix idcar_1km and idcar_200m files: load one resolution "
            "(200 m cells would be counted again in their 1 km cell)"
        )
    id_column = resolutions.pop()
    resolution = 200 if id_column == "idcar_200m" else 1000
    report = LoadReport("filosofi")
    with _replacing("filosofi") as session:
        session.execute(text(_FILOSOFI_SQL["stage"]))
        rows = _filosofi_rows(files, id_column, resolution, report, progress)
        copy_rows("_stage_filosofi", ["cell_id", *_FILOSOFI_OUT], rows)
        session.execute(text("DELETE FROM cell_population WHERE source = 'filosofi'"))
        for source, n in session.execute(text(_FILOSOFI_SQL["replace"])).all():
            report.count(f"replaced_{source}", n)
        report.loaded = session.execute(text(_FILOSOFI_SQL["insert"])).rowcount
        _finish(report, paths, "cell_population")
    return report


def _filosofi_rows(files, id_column, resolution, report, progress) -> Iterator[tuple]:
    label = "1 km" if resolution == 1000 else "200 m"
    for f in files:
        for lines, cols, problems in _chunks(f, [id_column, *FILOSOFI_VALUES], report, progress):
            values = {c: _floats(cols[c]) for c in FILOSOFI_VALUES}
            matrix = np.column_stack([values[c] for c in FILOSOFI_VALUES])
            bad = np.isnan(matrix)
            out = [values[c] for c in _FILOSOFI_OUT[:5]]
            out += [sum(values[c] for c in group) for group in FILOSOFI_AGES.values()]
            out_rows = np.column_stack(out).tolist()
            for i, raw in enumerate(cols[id_column]):
                reason = None
                match = _FILOSOFI_ID_RE.match(raw.strip())
                if match is None or int(match[2]) != resolution:
                    reason = f"{id_column} {raw!r} is not a {label} cell id"
                else:
                    epsg, north, east = int(match[1]), int(match[3]), int(match[4])
                    if epsg not in grid.GRID_EPSGS:
                        reason = f"{id_column} {raw!r}: EPSG:{epsg} is not a grid of France"
                    elif north % resolution or east % resolution:
                        reason = f"{id_column} {raw!r}: corners are not multiples of {label}"
                    elif bad[i].any():
                        column = FILOSOFI_VALUES[int(np.argmax(bad[i]))]
                        reason = f"{column} {cols[column][i]!r} is not a number"
                if reason:
                    problems.append((lines[i], f.label + reason))
                    continue
                report.add_type(id_column)
                north, east = north // 1000 * 1000, east // 1000 * 1000
                yield (f"CRS{epsg}RES1000mN{north}E{east}", *out_rows[i])
            _report(report, problems)


# --- DVF --------------------------------------------------------------------------------------

DVF_REQUIRED = (
    "id_mutation",
    "date_mutation",
    "nature_mutation",
    "valeur_fonciere",
    "type_local",
    "surface_reelle_bati",
    "longitude",
    "latitude",
    "code_commune",
)
#: Optional columns that tell a local's rows apart from another local's (see load_dvf).
_DVF_LOCAL = ("id_parcelle", "lot1_numero", "nombre_pieces_principales")
DVF_KINDS = {
    "Maison": "house",
    "Appartement": "flat",
    "Local industriel. commercial ou assimilé": "other",
}
_DVF_STAGE = """CREATE TEMP TABLE _stage_dvf (
    mutation text, file int, line int, kind text, local_key text, sold_on date,
    price numeric(14, 2), surface double precision, geom geometry(Point, 4326),
    cell_id text, problem text
) ON COMMIT DROP"""
_DVF_STAGE_COLUMNS = [
    "mutation",
    "file",
    "line",
    "kind",
    "local_key",
    "sold_on",
    "price",
    "surface",
    "geom",
    "cell_id",
    "problem",
]


def load_dvf(path: PathArg, progress: Progress = None) -> LoadReport:
    """Load Etalab's geolocated DVF into `property_sales`, source "dvf", source_id id_mutation.

    A mutation spans several rows (one per parcel, local and land use). Kept: one sale per
    "Vente" mutation with exactly one house ("Maison") or flat ("Appartement") local of
    surface_reelle_bati > 0; its price is valeur_fonciere, its area that surface, its point
    longitude/latitude, its cell in code_commune's grid. Dependencies (garages, cellars) and
    land do not count as locals. The rows of one local repeat per land use: rows with the
    same type, surface, rooms, parcel and first lot are one local.

    Left out by design and counted (`counts`): non-"Vente" rows ("not_vente_rows"), house
    and flat rows without a surface ("no_surface_rows"), mutations with several houses/flats
    ("multi_local") or with a commercial local as well ("with_commercial_local"): their price
    cannot be split. Refused and reported with the local's line: missing or non-numeric
    longitude/latitude, a point outside the commune's territory, a malformed price or
    commune code. Several files (years, départements) may be loaded together.
    """
    paths, files = _open_all(path)
    for f in files:
        f.require(DVF_REQUIRED)
    report = LoadReport("dvf")
    with _replacing("dvf") as session:
        session.execute(text(_DVF_STAGE))
        copy_rows("_stage_dvf", _DVF_STAGE_COLUMNS, _dvf_rows(files, report, progress))
        multi, mixed = session.execute(
            text(
                "SELECT count(*) FILTER (WHERE locals > 1), "
                "count(*) FILTER (WHERE locals = 1 AND mixed) FROM ("
                "SELECT count(DISTINCT local_key) FILTER (WHERE kind <> 'other') AS locals, "
                "bool_or(kind = 'other') AS mixed FROM _stage_dvf GROUP BY mutation) m"
            )
        ).one()
        report.count("multi_local", multi)
        report.count("with_commercial_local", mixed)
        session.execute(
            text(
                "CREATE TEMP TABLE _dvf_sales ON COMMIT DROP AS "
                "SELECT DISTINCT ON (s.mutation) s.* FROM _stage_dvf s WHERE s.mutation IN ("
                "SELECT mutation FROM _stage_dvf GROUP BY mutation "
                "HAVING count(DISTINCT local_key) = 1 AND NOT bool_or(kind = 'other')) "
                "ORDER BY s.mutation, s.file, s.line"
            )
        )
        refused = session.execute(
            text("SELECT count(*) FROM _dvf_sales WHERE problem IS NOT NULL")
        ).scalar_one()
        listed = session.execute(
            text(
                "SELECT file, line, problem FROM _dvf_sales WHERE problem IS NOT NULL "
                "ORDER BY file, line LIMIT :n"
            ),
            {"n": MAX_PROBLEMS},
        ).all()
        for k, line, problem in listed:
            report.problem(line, files[k].label + problem)
        report.skipped += refused - len(listed)
        session.execute(text("DELETE FROM property_sales WHERE source = 'dvf'"))
        report.loaded = session.execute(
            text(
                "INSERT INTO property_sales (source, source_id, sold_on, property_type, "
                "price_eur, built_area_m2, geom, cell_id) "
                "SELECT 'dvf', mutation, sold_on, kind, price, surface, geom, cell_id "
                "FROM _dvf_sales WHERE problem IS NULL"
            )
        ).rowcount
        for kind, n in session.execute(
            text(
                "SELECT kind, count(*) FROM _dvf_sales WHERE problem IS NULL "
                "GROUP BY kind ORDER BY kind"
            )
        ).all():
            report.count(kind, n)
        _finish(report, paths, "property_sales")
    return report


def _sold_on(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _dvf_rows(files: list[_Csv], report: LoadReport, progress: Progress) -> Iterator[tuple]:
    for k, f in enumerate(files):
        for lines, cols, short in _chunks(f, [*DVF_REQUIRED, *_DVF_LOCAL], report, progress):
            _report(report, short)
            yield from _dvf_chunk(k, lines, cols, report)


def _dvf_chunk(k, lines, cols, report) -> Iterator[tuple]:
    n = len(lines)
    types, nature = cols["type_local"], cols["nature_mutation"]
    for type_local, count in Counter(t.strip() for t in types).items():
        report.add_type(type_local or "(none)", count)
    lon, lat = _floats(cols["longitude"]), _floats(cols["latitude"])
    surface, price = _floats(cols["surface_reelle_bati"]), _floats(cols["valeur_fonciere"])
    territory = np.full(n, -1, dtype=np.int64)
    kinds: dict[int, str] = {}
    communes = cols["code_commune"]
    for i in range(n):
        if nature[i].strip() != "Vente":
            report.count("not_vente_rows")
            continue
        kind = DVF_KINDS.get(types[i].strip())
        if kind is None:
            continue
        if kind != "other" and not surface[i] > 0:
            report.count("no_surface_rows")
            continue
        kinds[i] = kind
        commune = communes[i].strip().upper()
        if _COMMUNE_RE.match(commune):
            territory[i] = _territory(commune)
    candidates = np.array(sorted(kinds), dtype=np.int64)
    located = np.zeros(n, dtype=bool)
    located[candidates] = True
    located &= _inside(lon, lat, territory)
    rows = np.flatnonzero(located)
    cells = _cells(lon, lat, np.full(n, 4326), territory, rows)
    extra = [cols[c] for c in _DVF_LOCAL]
    mutations, dates, prices = cols["id_mutation"], cols["date_mutation"], cols["valeur_fonciere"]

    for i, kind in kinds.items():
        mutation = mutations[i].strip()
        local_key = "|".join(
            [kind, repr(float(surface[i]))] + [c[i].strip() for c in extra if c is not None]
        )
        problem = None
        if not mutation or len(mutation) > 80:
            problem = f"id_mutation {mutation[:20]!r} is empty or longer than 80 characters"
        elif not (price[i] > 0 and price[i] < 1e12 - 1):
            problem = f"valeur_fonciere {prices[i]!r} is not a price"
        elif np.isnan(lon[i]) or np.isnan(lat[i]):
            problem = (
                f"longitude/latitude missing or not numbers: "
                f"{cols['longitude'][i]!r}, {cols['latitude'][i]!r}"
            )
        elif territory[i] < 0:
            problem = f"code_commune {communes[i]!r} is not a commune with a 1 km grid"
        elif not located[i]:
            problem = f"longitude/latitude ({lon[i]}, {lat[i]}) fall outside {_NAMES[territory[i]]}"
        yield (
            mutation,
            k,
            lines[i],
            kind,
            local_key,
            _sold_on(dates[i]),
            None if problem else float(price[i]),
            float(surface[i]) if kind != "other" else None,
            None if problem else _ewkt(float(lon[i]), float(lat[i])),
            None if problem else cells[i],
            problem,
        )
