"""Search presets: ready-made sets of criteria for common moves, as data (French and English).

Each preset is a list of (criterion id, threshold, importance) that fills the search form; the
visitor can change everything afterwards. Thresholds are in the criterion's unit (see
ingest/reference/criteria.py). A household with children also gets EDUCATION offered as
nice-to-haves (`for_household`), never forced as must-haves.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.reference.criteria import BY_ID


@dataclass(frozen=True)
class Preset:
    id: str
    name_fr: str
    name_en: str
    description_fr: str
    description_en: str
    criteria: tuple[tuple[str, float, str], ...]

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name_fr": self.name_fr,
            "name_en": self.name_en,
            "description_fr": self.description_fr,
            "description_en": self.description_en,
            "criteria": [
                {"id": cid, "threshold": threshold, "importance": importance}
                for cid, threshold, importance in self.criteria
            ],
        }


PRESETS: tuple[Preset, ...] = (
    Preset(
        "young_family",
        "Famille avec de jeunes enfants",
        "Family with young children",
        "Crèche et école proches, médecin et commerces à portée, des enfants alentour.",
        "Nursery and school close by, a GP and shops within reach, other children around.",
        (
            ("primary_school_km", 5, "must"),
            ("gp_km", 10, "must"),
            ("supermarket_km", 10, "must"),
            ("nursery_km", 10, "nice"),
            ("college_km", 15, "nice"),
            ("pharmacy_km", 10, "nice"),
            ("sport_count", 3, "nice"),
            ("leisure_count", 2, "nice"),
            ("under_18_share", 20, "nice"),
        ),
    ),
    Preset(
        "remote_worker",
        "Télétravailleur",
        "Remote worker",
        "Une gare pour les jours au bureau, des commerces et des lieux pour sortir.",
        "A station for office days, shops, and places to go out.",
        (
            ("train_station_km", 20, "must"),
            ("supermarket_km", 10, "must"),
            ("bakery_km", 5, "nice"),
            ("post_km", 10, "nice"),
            ("restaurant_count", 2, "nice"),
            ("culture_count", 1, "nice"),
            ("ev_charger_km", 15, "nice"),
        ),
    ),
    Preset(
        "retired",
        "Retraité",
        "Retired",
        "Soins à proximité (médecin, pharmacie, urgences), commerces et services du quotidien.",
        "Care nearby (GP, pharmacy, emergency unit), everyday shops and services.",
        (
            ("gp_km", 5, "must"),
            ("pharmacy_km", 5, "must"),
            ("emergency_km", 30, "must"),
            ("bakery_km", 5, "nice"),
            ("supermarket_km", 10, "nice"),
            ("post_km", 10, "nice"),
            ("bank_km", 15, "nice"),
            ("culture_count", 1, "nice"),
        ),
    ),
    Preset(
        "business_takeover",
        "Reprise d'entreprise",
        "Business takeover",
        "Des commerces ou entreprises à reprendre, une clientèle alentour, des services.",
        "Businesses to take over, customers around, services.",
        (
            ("businesses_count", 1, "must"),
            ("density", 500, "nice"),
            ("bank_km", 15, "nice"),
            ("post_km", 10, "nice"),
            ("tourism_count", 1, "nice"),
            ("restaurant_count", 2, "nice"),
        ),
    ),
    Preset(
        "first_job",
        "Premier emploi",
        "First job",
        "Des offres d'emploi du territoire, une gare et des logements à louer ou acheter.",
        "The territory's job offers, a station, and homes to rent or buy.",
        (
            ("jobs_count", 1, "must"),
            ("homes_count", 1, "nice"),
            ("train_station_km", 20, "nice"),
            ("supermarket_km", 10, "nice"),
            ("restaurant_count", 2, "nice"),
            ("sport_count", 3, "nice"),
        ),
    ),
)
BY_PRESET = {p.id: p for p in PRESETS}
#: Offered as nice-to-haves to a household with children (at the criteria's default thresholds).
EDUCATION = ("nursery_km", "primary_school_km", "college_km", "lycee_km")


def for_household(children: int) -> list[dict]:
    """The criteria a household with children is offered to add (nice-to-haves)."""
    if not children:
        return []
    return [
        {"id": cid, "threshold": BY_ID[cid].threshold, "importance": "nice"} for cid in EDUCATION
    ]
