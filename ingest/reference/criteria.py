"""The criteria catalogue: what a visitor can ask of a 1 km cell, and how each value is made.

This module is the one definition: the cell_profiles columns, `GET /api/v1/criteria`, the
README's table and the search form all derive from CRITERIA.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: How a value is computed (see ingest/reference/computations.py):
METHODS = {
    "nearest": "distance in km from the cell's centre to the nearest point of these types",
    "count_within": "number of points of these types within `radius_km` of the cell's centre",
    "median_price": "median price per m² of the sales in the cell when it has at least "
    "`min_sales`, else of its commune, else of its département",
    "ratio": "numerator / denominator of the cell's gridded population data (× scale)",
    "listings": "number of the territory's own published listings of this kind in the cell "
    "(computed per territory at search time, not stored nationally)",
}


@dataclass(frozen=True)
class Criterion:
    id: str
    label_fr: str
    label_en: str
    theme: str
    unit: str
    direction: str  # "lower" or "higher" is better
    threshold: float  # the default must-have bound, in `unit`
    source: str
    method: str
    #: BPE TYPEQU codes and OSM tags ("osm:amenity=pharmacy") the method counts or reaches.
    types: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        return self.method != "listings"

    def as_json(self) -> dict:
        data = asdict(self)
        data["types"] = list(self.types)
        data["computation"] = METHODS[self.method]
        data["stored"] = self.stored
        return data


def _near(id, fr, en, theme, km, types, source="BPE, OSM"):
    return Criterion(id, fr, en, theme, "km", "lower", km, source, "nearest", tuple(types))


def _count(id, fr, en, theme, least, types, source="BPE, OSM"):
    return Criterion(
        id,
        fr,
        en,
        theme,
        "count",
        "higher",
        least,
        source,
        "count_within",
        tuple(types),
        {"radius_km": 5},
    )


def _ratio(id, fr, en, unit, direction, threshold, num, den, scale=1.0):
    return Criterion(
        id,
        fr,
        en,
        "population",
        unit,
        direction,
        threshold,
        "INSEE Filosofi",
        "ratio",
        (),
        {"numerator": num, "denominator": den, "scale": scale},
    )


CRITERIA: tuple[Criterion, ...] = (
    # Health
    _near(
        "gp_km",
        "Médecin généraliste le plus proche",
        "Nearest GP",
        "health",
        10,
        ["D265", "D201", "osm:amenity=doctors", "osm:healthcare=doctor"],
    ),
    _near(
        "pharmacy_km",
        "Pharmacie la plus proche",
        "Nearest pharmacy",
        "health",
        10,
        ["D307", "D301", "osm:amenity=pharmacy", "osm:healthcare=pharmacy"],
    ),
    _near(
        "dentist_km",
        "Dentiste le plus proche",
        "Nearest dentist",
        "health",
        15,
        ["D266", "D221", "osm:amenity=dentist", "osm:healthcare=dentist"],
    ),
    _near(
        "emergency_km",
        "Urgences hospitalières les plus proches",
        "Nearest emergency unit",
        "health",
        45,
        ["D106", "osm:healthcare=hospital", "osm:amenity=hospital"],
    ),
    # Childhood and education
    _near(
        "nursery_km",
        "Crèche la plus proche",
        "Nearest nursery",
        "education",
        10,
        ["D502", "osm:amenity=childcare"],
    ),
    _near(
        "primary_school_km",
        "École maternelle ou élémentaire la plus proche",
        "Nearest nursery or primary school",
        "education",
        5,
        ["C101", "C102", "C104", "C105", "osm:amenity=kindergarten", "osm:amenity=school"],
    ),
    _near(
        "college_km",
        "Collège le plus proche",
        "Nearest lower secondary school (collège)",
        "education",
        15,
        ["C201"],
        "BPE",
    ),
    _near(
        "lycee_km",
        "Lycée le plus proche",
        "Nearest upper secondary school (lycée)",
        "education",
        30,
        ["C301", "C302"],
        "BPE",
    ),
    # Shops and services
    _near(
        "supermarket_km",
        "Supermarché le plus proche",
        "Nearest supermarket",
        "shops",
        10,
        ["B101", "B102", "B201", "osm:shop=supermarket"],
    ),
    _near(
        "bakery_km",
        "Boulangerie la plus proche",
        "Nearest bakery",
        "shops",
        5,
        ["B203", "B207", "osm:shop=bakery"],
    ),
    _near(
        "post_km",
        "Bureau de poste ou France Services le plus proche",
        "Nearest post office or France Services",
        "services",
        10,
        ["A206", "A207", "A208", "osm:amenity=post_office"],
    ),
    _near(
        "bank_km",
        "Banque la plus proche",
        "Nearest bank",
        "services",
        15,
        ["A203", "osm:amenity=bank"],
    ),
    # Mobility
    _near(
        "train_station_km",
        "Gare la plus proche",
        "Nearest train station",
        "mobility",
        20,
        ["E107", "E108", "E109"],
        "BPE",
    ),
    _near(
        "ev_charger_km",
        "Borne de recharge la plus proche",
        "Nearest EV charger",
        "mobility",
        15,
        ["osm:amenity=charging_station"],
        "OSM",
    ),
    # Leisure and culture (counts within 5 km)
    _count(
        "sport_count",
        "Équipements sportifs à moins de 5 km",
        "Sports facilities within 5 km",
        "leisure",
        3,
        [
            "F1",
            "osm:leisure=sports_centre",
            "osm:leisure=pitch",
            "osm:leisure=swimming_pool",
            "osm:leisure=stadium",
        ],
    ),
    _count(
        "culture_count",
        "Équipements culturels à moins de 5 km",
        "Cultural facilities within 5 km",
        "leisure",
        1,
        [
            "F3",
            "osm:amenity=theatre",
            "osm:amenity=cinema",
            "osm:amenity=library",
            "osm:amenity=arts_centre",
            "osm:tourism=museum",
        ],
    ),
    _count(
        "leisure_count",
        "Lieux de loisirs à moins de 5 km",
        "Leisure places within 5 km",
        "leisure",
        2,
        ["F2", "osm:leisure=park", "osm:leisure=playground", "osm:leisure=nature_reserve"],
    ),
    _count(
        "tourism_count",
        "Équipements touristiques à moins de 5 km",
        "Tourism facilities within 5 km",
        "leisure",
        1,
        [
            "G1",
            "osm:tourism=hotel",
            "osm:tourism=camp_site",
            "osm:tourism=information",
            "osm:tourism=guest_house",
        ],
    ),
    _count(
        "restaurant_count",
        "Restaurants et cafés à moins de 5 km",
        "Restaurants and cafés within 5 km",
        "leisure",
        2,
        ["A504", "osm:amenity=restaurant", "osm:amenity=cafe", "osm:amenity=bar"],
    ),
    # Housing market
    Criterion(
        "house_price_m2",
        "Prix médian au m² d'une maison",
        "Median price per m², houses",
        "housing",
        "€/m²",
        "lower",
        2500,
        "DVF",
        "median_price",
        (),
        {"property_type": "house", "min_sales": 5},
    ),
    Criterion(
        "flat_price_m2",
        "Prix médian au m² d'un appartement",
        "Median price per m², flats",
        "housing",
        "€/m²",
        "lower",
        3000,
        "DVF",
        "median_price",
        (),
        {"property_type": "flat", "min_sales": 5},
    ),
    # Population (INSEE gridded data)
    _ratio(
        "density",
        "Densité de population",
        "Population density",
        "inh./km²",
        "lower",
        500,
        "ind",
        None,
    ),
    _ratio(
        "poverty_share",
        "Part des ménages pauvres",
        "Share of poor households",
        "%",
        "lower",
        15,
        "men_pauv",
        "men",
        100,
    ),
    _ratio(
        "living_standard",
        "Niveau de vie moyen",
        "Average standard of living",
        "€/year",
        "higher",
        20000,
        "ind_snv",
        "ind",
    ),
    _ratio(
        "social_housing_share",
        "Logements sociaux pour 100 ménages",
        "Social housing per 100 households",
        "%",
        "higher",
        5,
        "log_soc",
        "men",
        100,
    ),
    _ratio(
        "under_18_share",
        "Part des moins de 18 ans",
        "Share of under-18s",
        "%",
        "higher",
        20,
        "ind_0_17",
        "ind",
        100,
    ),
    _ratio(
        "over_65_share",
        "Part des 65 ans et plus",
        "Share of people aged 65 and over",
        "%",
        "lower",
        30,
        "ind_65p",
        "ind",
        100,
    ),
    # The territory's own listings
    Criterion(
        "jobs_count",
        "Offres d'emploi du territoire",
        "The territory's job offers",
        "territory",
        "count",
        "higher",
        1,
        "territory",
        "listings",
        (),
        {"kind": "job"},
    ),
    Criterion(
        "homes_count",
        "Biens immobiliers du territoire",
        "The territory's homes",
        "territory",
        "count",
        "higher",
        1,
        "territory",
        "listings",
        (),
        {"kind": "real_estate"},
    ),
    Criterion(
        "businesses_count",
        "Commerces et entreprises à reprendre",
        "Businesses to take over",
        "territory",
        "count",
        "higher",
        1,
        "territory",
        "listings",
        (),
        {"kind": "business"},
    ),
)
BY_ID = {c.id: c for c in CRITERIA}


#: Decimals a value is kept and shown with, per unit (whole numbers otherwise): the matrices
#: hold values so rounded, so that a search compares the very number a person reads.
DECIMALS = {"km": 1, "%": 1}


def decimals(criterion: Criterion) -> int:
    return DECIMALS.get(criterion.unit, 0)


def round_rows(values, criteria: list[Criterion] | tuple = CRITERIA) -> None:
    """Round rows of values (a numpy array, one row per criterion in `criteria`'s order; float64,
    before they are stored as float32) in place to the precision each criterion is shown with."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a matrix is built

    for i, c in enumerate(criteria):
        np.round(values[i], decimals(c), out=values[i])


def stored_criteria() -> list[Criterion]:
    return [c for c in CRITERIA if c.stored]


def matches(criterion: Criterion, type_code: str) -> bool:
    """Does a POI type code count for this criterion (`F1` matches every F1xx code)?"""
    return any(type_code == t or (len(t) == 2 and type_code.startswith(t)) for t in criterion.types)
