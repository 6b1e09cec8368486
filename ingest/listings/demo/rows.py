"""One demo listing of each kind as a normed file's row (text values, as an editor types them)."""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from ingest.listings.declaration import ENERGY
from ingest.listings.demo import words as w

#: A listing's prefix in its identifier, per kind.
PREFIXES = {
    "real_estate": "IMMO",
    "job": "EMPLOI",
    "business": "REPRISE",
    "leisure": "LOISIR",
    "poi": "LIEU",
}


@dataclass(frozen=True)
class Place:
    """Where a listing is: its commune and a point inside it (lon/lat)."""

    insee: str
    commune: str
    population: int
    lon: float
    lat: float

    @property
    def size(self) -> float:
        """0 for a hamlet of 100, 1 for a town of 6 000 or more: prices and shops follow it."""
        return min(max(math.log10(max(self.population, 100) / 100) / 1.8, 0.0), 1.0)


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())


def _thousands(number: int) -> str:
    """1850 → '1 850' (a narrow no-break space, as French typography groups digits)."""
    return f"{number:,}".replace(",", "\u202f")


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _phone(rng: random.Random) -> str:
    return f"{w.FICTION_PHONE_PREFIX} {rng.randrange(100):02d} {rng.randrange(100):02d}"


def _address(rng: random.Random, place: Place) -> str:
    if place.population < 300 and rng.random() < 0.5:
        return f"Lieu-dit {rng.choice(w.HAMLETS)}"
    return f"{rng.randint(1, 40)} {rng.choice(w.STREETS)}"


def _description(rng: random.Random, opening: str, features: tuple[str, ...], place: Place) -> str:
    picked = rng.sample(features, k=min(len(features), rng.randint(2, 3)))
    where = rng.choice(
        (
            f"Situé à {place.commune}.",
            f"À {place.commune}, au cœur du Cantal.",
            f"Commune : {place.commune} ({_thousands(place.population)} habitants).",
        )
    )
    return "\n".join((opening, " ".join(picked), where, w.FICTITIOUS))


def _spread(rng: random.Random, low: float, high: float, place: Place) -> float:
    """A value of the range that grows with the commune's size, with some noise."""
    share = 0.2 + 0.6 * place.size + rng.uniform(-0.2, 0.2)
    return low + (high - low) * min(max(share, 0.0), 1.0)


def _common(rng: random.Random, kind: str, n: int, place: Place, today: date) -> dict[str, str]:
    return {
        "external_id": f"{PREFIXES[kind]}-DEMO-{place.insee}-{n:04d}",
        "commune_insee": place.insee,
        "address": _address(rng, place),
        "latitude": f"{place.lat:.5f}",
        "longitude": f"{place.lon:.5f}",
        "published_on": (today - timedelta(days=rng.randint(0, 75))).isoformat(),
        "expires_on": (today + timedelta(days=rng.randint(90, 330))).isoformat(),
        "contact_phone": _phone(rng),
    }


def real_estate(rng: random.Random, n: int, place: Place, today: date) -> dict[str, str]:
    row = _common(rng, "real_estate", n, place, today)
    kind = rng.choices(("house", "flat", "land", "farm", "building"), (10, 5, 3, 2, 1))[0]
    # flats are a town's: a village offers houses and land
    if kind == "flat" and place.population < 800:
        kind = "house"
    rent = kind in ("house", "flat") and rng.random() < (0.25 + 0.3 * place.size)
    words = w.HOMES[kind][0]
    agency, domain = rng.choice(w.AGENCIES)
    row |= {
        "transaction": "rent" if rent else "sale",
        "property_type": kind,
        "contact_email": f"contact@{domain}.example.org",
    }
    if kind == "land":
        land = rng.randrange(500, 3000, 50)
        price = round(land * _spread(rng, *w.LAND_PER_M2, place), -2)
        row |= {"land_area_m2": str(land), "price": str(int(price))}
        row["title"] = f"{rng.choice(words)} de {_thousands(land)} m²"
        opening = f"{agency} propose un terrain de {land} m², raccordable aux réseaux."
        row["description"] = _description(rng, opening, w.HOME_FEATURES[-2:], place)
        return row
    _, (area_low, area_high), (land_low, land_high), (rooms_low, rooms_high) = w.HOMES[kind]
    area = rng.randint(area_low, area_high)
    if rent:  # large homes are sold, rarely let
        area = min(area, rng.randint(45, 120))
    rooms = min(rooms_high, max(rooms_low, round(area / 25)))
    # a studio is one room; another flat is never called one
    title = "Studio" if kind == "flat" and rooms == 1 else rng.choice(words)
    if rent:
        price = round(area * rng.uniform(*w.RENT_PER_M2) / 5) * 5
        charges = rng.choice((0, 20, 35, 50))
        row |= {"charges": str(charges), "furnished": rng.choice(("oui", "non"))}
    else:
        price = round(area * _spread(rng, *w.SALE_PER_M2[kind], place), -3)
    energy = _weighted(rng, w.ENERGY_WEIGHTS)
    rooms_text = f"T{rooms}" if kind == "flat" else f"{rooms} pièces"
    row |= {
        "title": (title if title == "Studio" else f"{title} {rooms_text}")
        + (" à louer" if rent else ""),
        "price": str(int(price)),
        "living_area_m2": str(area),
        "rooms": str(rooms),
        "bedrooms": str(max(rooms - 2, 1)),
        "energy_class": energy,
        "ges_class": ENERGY[min(6, max(0, ENERGY.index(energy) + rng.randint(-1, 1)))],
        "year_built": str(rng.choice((1890, 1925, 1960, 1975, 1988, 2004, 2015))),
    }
    if land_high:
        row["land_area_m2"] = str(rng.randrange(land_low, land_high, 10))
    what = "à louer" if rent else "à vendre"
    opening = f"{agency} : {title.lower()} {what}, {area} m² habitables, {rooms} pièces."
    row["description"] = _description(rng, opening, w.HOME_FEATURES, place)
    return row


def job(rng: random.Random, n: int, place: Place, today: date) -> dict[str, str]:
    row = _common(rng, "job", n, place, today)
    code = rng.choice(list(w.JOBS))
    title, contracts, (low, high) = w.JOBS[code]
    employer, domain = rng.choice(w.EMPLOYERS[code[0]])
    if employer in ("Mairie", "Centre hospitalier", "Office de tourisme", "Coopérative laitière"):
        employer = f"{employer} de {place.commune}"
    contract = rng.choice(contracts)
    apprentice = contract == "CDD" and rng.random() < 0.15
    salary_min = round(rng.uniform(low, (low + high) / 2), -2)
    salary_max = round(rng.uniform(salary_min, high), -2)
    row |= {
        "title": f"{'Apprenti·e ' + title.lower() if apprentice else title} (H/F)",
        "rome_code": code,
        "contract_type": contract,
        "full_time": "non" if rng.random() < 0.2 else "oui",
        "working_hours": rng.choice(w.HOURS),
        "salary_min": str(int(salary_min)),
        "salary_max": str(int(max(salary_min, salary_max))),
        "experience": rng.choice(w.EXPERIENCE),
        "apprenticeship": "oui" if apprentice else "non",
        "employer_name": employer,
        "positions": str(rng.choice((1, 1, 1, 2, 3))),
        "contact_email": f"recrutement@{domain}-{_slug(place.commune)}.example.org",
    }
    opening = f"{employer} recrute : {title.lower()}, {w.CONTRACT_WORDS[contract]}."
    row["description"] = _description(rng, opening, w.JOB_FEATURES, place)
    return row


def business(rng: random.Random, n: int, place: Place, today: date) -> dict[str, str]:
    row = _common(rng, "business", n, place, today)
    activity = rng.choice(list(w.BUSINESSES))
    titles, (a_low, a_high), (p_low, p_high), (t_low, t_high), (s_low, s_high) = w.BUSINESSES[
        activity
    ]
    transfer = "local_vacant" if not p_high else _weighted(rng, w.TRANSFER_WEIGHTS)
    area = rng.randint(a_low, a_high)
    row |= {
        "title": f"{rng.choice(titles)} à {place.commune}",
        "activity": activity,
        "transfer_type": transfer,
        "area_m2": str(area),
        "annual_rent": str(round(area * rng.uniform(40, 90), -2)).removesuffix(".0"),
        "reason": rng.choice(w.REASONS),
        "available_from": (today + timedelta(days=rng.randint(30, 300))).isoformat(),
        "contact_email": f"cession.{n}@{_slug(place.commune)}.test",
    }
    if p_high:
        row["price"] = str(int(round(_spread(rng, p_low, p_high, place), -3)))
        row["turnover"] = str(int(round(_spread(rng, t_low, t_high, place), -3)))
        row["staff"] = str(rng.randint(s_low, s_high))
        opening = f"À céder : {activity.lower()} installé·e depuis de longues années."
    else:
        opening = f"Local de {area} m² libre, idéal pour un commerce ou un service."
    row["description"] = _description(rng, opening, w.BUSINESS_FEATURES, place)
    return row


def leisure(rng: random.Random, n: int, place: Place, today: date) -> dict[str, str]:
    row = _common(rng, "leisure", n, place, today)
    category = rng.choice(list(w.LEISURE))
    titles, hours = w.LEISURE[category]
    row |= {
        "title": f"{rng.choice(titles)} de {place.commune}",
        "category": category,
        "price_text": rng.choice(w.LEISURE_PRICES),
        "audience": rng.choice(w.AUDIENCES),
        "wheelchair": rng.choice(("oui", "non")),
        "contact_email": f"loisirs@{_slug(place.commune)}.test",
    }
    if category in w.EVENTS:
        start = today + timedelta(days=rng.randint(7, 300))
        row["start_on"] = start.isoformat()
        row["end_on"] = (start + timedelta(days=rng.choice((0, 0, 1, 2)))).isoformat()
        row["expires_on"] = row["end_on"]
        opening = f"Rendez-vous le {start:%d/%m/%Y} pour cette édition."
    else:
        row["opening_hours"] = hours or rng.choice(w.OPENING_HOURS)
        opening = "Un lieu à découvrir en famille ou entre amis, toute l'année."
    row["description"] = _description(rng, opening, w.LEISURE_FEATURES, place)
    return row


def poi(rng: random.Random, n: int, place: Place, today: date) -> dict[str, str]:
    row = _common(rng, "poi", n, place, today)
    theme, kind, bpe, osm, title = rng.choice(w.PLACES)
    row |= {
        "title": f"{title} de {place.commune}",
        "theme": theme,
        "poi_type": kind,
        "bpe_code": bpe,
        "osm_tag": osm,
        "opening_hours": rng.choice(w.OPENING_HOURS),
        "website": f"https://www.{_slug(place.commune)}.example.org/",
        "contact_email": f"accueil@{_slug(place.commune)}.test",
    }
    row.pop("expires_on")  # a place stays
    opening = f"{kind} ouvert·e au public."
    row["description"] = _description(rng, opening, w.PLACE_FEATURES, place)
    return row


MAKERS = {
    "real_estate": real_estate,
    "job": job,
    "business": business,
    "leisure": leisure,
    "poi": poi,
}
