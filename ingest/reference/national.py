"""The national matrix: every metropolitan cell's stored criteria, rounded as they are shown,
written as memory-mappable files that every process of a machine maps once — the portal's
France-wide search holds about 550 000 cells × the catalogue without a copy per worker.

Layout (under NATIONAL_DIR)
    `<version>/codes.npy`       int64, sorted: each cell as northing_km × 10 000 + easting_km
    `<version>/values.npy`      float32, (len(CRITERIA), cells), NaN = unknown; the listing
                                criteria's rows stay unknown (the partners' listings are
                                counted where they are read)
    `<version>/communes.npy`    int32 per cell: its commune's index in `communes.json` (-1: none)
    `<version>/departements.npy` int16 per cell: its département's index in `departements.json`
    `<version>/communes.json`, `departements.json`: their codes, names and the lon/lat of the
                                centre of their cells (where the national map marks them)
    `<version>/manifest.json`   format, version, criteria order, counts, when it was built
    `CURRENT`                   the version in use, replaced atomically once a build is complete

A version is a digest of the content: building twice from the same data changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core import grid
from core.extensions import db
from ingest.reference.bulk import Progress, session_cursor, tick
from ingest.reference.communes import departement_names, names_of
from ingest.reference.criteria import CRITERIA, round_rows, stored_criteria

if TYPE_CHECKING:
    import numpy as np

FORMAT = 1
#: Versions kept besides the current one (a process may still map the previous one).
KEPT_VERSIONS = 1
#: Rows fetched at a time while reading the profiles.
CHUNK = 50_000
ARRAYS = ("codes", "values", "communes", "departements")


class NationalMatrixError(Exception):
    """The national matrix cannot be read (never built, or a file missing or of another format)."""


def codes_of(northing, easting):
    """Each cell's code (northing and easting of its corner, in whole km) from metres."""
    return (northing // 1000) * 10_000 + easting // 1000


def ids_of(codes) -> list[str]:
    """The INSPIRE ids of cell codes."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is read

    codes = np.asarray(codes, dtype="int64")
    return grid.format_ids((codes // 10_000) * 1000, (codes % 10_000) * 1000).tolist()


def code_of_id(cell: str) -> int:
    """A metropolitan cell id's code; CellIdError for anything else."""
    epsg, northing, easting = grid.parse(cell)
    if epsg != grid.METROPOLE:
        raise grid.CellIdError(f"cell id {cell!r} is not a metropolitan cell (EPSG:3035)")
    return int(codes_of(northing, easting))


def departement_of(insee: str | None) -> str | None:
    """The département of a commune code (97x overseas: three characters)."""
    if not insee:
        return None
    return insee[:3] if insee.startswith("97") else insee[:2]


_SQL = """
    SELECT c.northing, c.easting, c.commune_insee, p.synthetic, {columns}
    FROM cells c JOIN cell_profiles p ON p.cell_id = c.id
    WHERE c.epsg = :epsg
"""


def _read(progress: Progress):
    """Every metropolitan cell with a profile: (codes, commune codes, stored values, whether any
    profile is synthetic)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is built

    stored = stored_criteria()
    columns = ", ".join(f"COALESCE(p.{c.id}, 'NaN')" for c in stored)
    sql = _SQL.format(columns=columns).replace(":epsg", str(grid.METROPOLE))
    codes, communes, chunks, synthetic = [], [], [], False
    with session_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            block = np.array([r[:2] for r in rows], dtype="int64")
            codes.append(codes_of(block[:, 0], block[:, 1]))
            communes += [r[2] for r in rows]
            synthetic = synthetic or any(r[3] for r in rows)
            chunks.append(np.array([r[4:] for r in rows], dtype="float64"))
            tick(progress, len(rows))
    if not chunks:
        return np.empty(0, "int64"), [], np.empty((len(stored), 0), "float64"), False
    return np.concatenate(codes), communes, np.concatenate(chunks).T, synthetic


@dataclass(frozen=True)
class Manifest:
    version: str
    cells: int
    communes: int
    departements: int
    built_at: str
    seconds: float
    #: Any profile made from generated (demo) data: the portal says so.
    synthetic: bool = False


def build(directory: Path, progress: Progress = None) -> Manifest:
    """Write the national matrix from `cells` and `cell_profiles` and make it current."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is built

    started = time.monotonic()
    codes, commune_codes, stored, synthetic = _read(progress)
    commune_names = names_of(commune_codes)
    db.session.rollback()  # read only: no transaction held while the files are written
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    round_rows(stored, stored_criteria())
    values = np.full((len(CRITERIA), len(codes)), np.nan, dtype="float32")
    row = {c.id: i for i, c in enumerate(CRITERIA)}
    values[[row[c.id] for c in stored_criteria()]] = stored[:, order]
    commune_codes = [commune_codes[i] for i in order.tolist()]
    communes = sorted({c for c in commune_codes if c})
    commune_index = {c: i for i, c in enumerate(communes)}
    departements = sorted({departement_of(c) for c in communes})
    departement_index = {d: i for i, d in enumerate(departements)}
    arrays = {
        "codes": codes,
        "values": values,
        "communes": np.array([commune_index.get(c, -1) for c in commune_codes], dtype="int32"),
        "departements": np.array(
            [departement_index.get(departement_of(c), -1) for c in commune_codes], dtype="int16"
        ),
    }
    places = {
        "communes": _places(codes, arrays["communes"], communes, commune_names),
        "departements": _places(codes, arrays["departements"], departements, departement_names()),
    }
    digest = hashlib.sha256(f"{FORMAT}:{[c.id for c in CRITERIA]}".encode())
    for name in ARRAYS:
        digest.update(arrays[name].tobytes())
    digest.update(json.dumps(places, sort_keys=True).encode() + bytes([synthetic]))
    version = digest.hexdigest()[:16]
    manifest = Manifest(
        version=version,
        cells=len(codes),
        communes=len(communes),
        departements=len(departements),
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        seconds=round(time.monotonic() - started, 2),
        synthetic=synthetic,
    )
    _write(directory, manifest, arrays, places)
    return manifest


def _places(codes, index, area_codes: list[str], names: dict[str, str]) -> dict:
    """Codes, names and the lon/lat of the mean centre of each area's cells (the map's marks)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is built

    size = len(area_codes)
    known = index >= 0
    count = np.bincount(index[known], minlength=size).clip(1)
    northing = (codes[known] // 10_000) * 1000 + 500
    easting = (codes[known] % 10_000) * 1000 + 500
    mean_n = np.bincount(index[known], weights=northing, minlength=size) / count
    mean_e = np.bincount(index[known], weights=easting, minlength=size) / count
    lon, lat = grid.project(mean_e, mean_n, grid.METROPOLE, 4326) if size else ([], [])
    return {
        "codes": list(area_codes),
        "names": [names.get(code, code) for code in area_codes],
        "points": [[round(float(x), 5), round(float(y), 5)] for x, y in zip(lon, lat, strict=True)],
    }


def _write(directory: Path, manifest: Manifest, arrays, places: dict) -> None:
    """Into `<version>.partial`, renamed to `<version>` when complete; then CURRENT."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is built

    directory.mkdir(parents=True, exist_ok=True)
    final = directory / manifest.version
    if not final.exists():
        partial = directory / f"{manifest.version}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name in ARRAYS:
            np.save(partial / f"{name}.npy", arrays[name])
        for name, content in places.items():
            (partial / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False))
        body = {
            "format": FORMAT,
            "criteria": [c.id for c in CRITERIA],
            **manifest.__dict__,
        }
        (partial / "manifest.json").write_text(json.dumps(body, indent=1))
        os.replace(partial, final)
    pointer = directory / "CURRENT.partial"
    pointer.write_text(manifest.version)
    os.replace(pointer, directory / "CURRENT")
    _prune(directory, manifest.version)


def _prune(directory: Path, current: str) -> None:
    """Remove the versions older than the last KEPT_VERSIONS besides the current one (a process
    still mapping one keeps reading it: the files go when it lets go)."""
    others = [
        p for p in directory.iterdir() if p.is_dir() and p.name != current and "." not in p.name
    ]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEPT_VERSIONS:]:
        shutil.rmtree(old, ignore_errors=True)


def current_version(directory: Path) -> str | None:
    try:
        return (directory / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Mapped:
    """The national matrix as mapped by one process (the arrays read-only, shared)."""

    version: str
    codes: np.ndarray
    values: np.ndarray
    communes: np.ndarray
    departements: np.ndarray
    #: {"codes": […], "names": […], "points": [[lon, lat], …]}, in the arrays' index order.
    commune_places: dict
    departement_places: dict
    #: Made from generated (demo) data.
    synthetic: bool = False

    @property
    def commune_codes(self) -> list[str]:
        return self.commune_places["codes"]

    @property
    def departement_codes(self) -> list[str]:
        return self.departement_places["codes"]


def open_version(directory: Path, version: str) -> Mapped:
    """Map one version's arrays read-only (NationalMatrixError when it is not complete)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when the matrix is read

    folder = directory / version
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT or manifest.get("criteria") != [c.id for c in CRITERIA]:
            raise NationalMatrixError(
                f"national matrix {version}: built for another format or catalogue; run "
                "`flask geo build-national` again"
            )
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        communes = json.loads((folder / "communes.json").read_text())
        departements = json.loads((folder / "departements.json").read_text())
    except (OSError, ValueError) as error:
        raise NationalMatrixError(f"national matrix {version} cannot be read: {error}") from error
    return Mapped(
        version,
        **arrays,
        commune_places=communes,
        departement_places=departements,
        synthetic=bool(manifest.get("synthetic")),
    )
