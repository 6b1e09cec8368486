"""Listings' values as people read them, in one place for every public page: job titles, kinds
of equipment and activities, opening hours in words, prices without cents, the energy scale.

Each is also a Jinja filter (registered by the listings blueprint); a code the catalogues do not
know is never shown in place of a label (None: the page leaves the line out)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _

from core.i18n import english, pick
from ingest.reference.equipment import equipment_name
from ingest.reference.rome import job_title

# --- prices ----------------------------------------------------------------------------------


def euros(value) -> str | None:
    """An amount in whole euros, in the reader's way: "185 000 €", "€185,000"."""
    if value is None or value == "":
        return None
    amount = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    pattern = Locale.parse(str(get_locale())).currency_formats["standard"].pattern
    whole = pattern.split(";")[0].replace(".00", "")
    return format_currency(amount, "EUR", format=whole, currency_digits=False)


def listing_price(listing) -> str | None:
    """A property's price: a sale's in euros, a rent per month, charges included when known
    ("650 € / mois CC")."""
    if listing.price is None:
        return None
    if getattr(listing, "transaction", None) != "rent":
        return euros(listing.price)
    if listing.charges:
        return _("%(amount)s / month incl. charges", amount=euros(listing.price + listing.charges))
    return _("%(amount)s / month", amount=euros(listing.price))


def per_period(value, title_en: str) -> str | None:
    """An amount whose column says its period ("Charges (€/month)", "Minimum salary
    (€/year)") with it: "85 € / mois", "28 000 € / an"."""
    amount = euros(value)
    if amount is None:
        return None
    if "/month" in title_en:
        return _("%(amount)s / month", amount=amount)
    if "/year" in title_en:
        return _("%(amount)s / year", amount=amount)
    return amount


#: A salary written out in a card keeps this many characters.
SALARY_TEXT = 40


def salary(listing) -> str | None:
    """A job's salary in a few words: its range per year ("28 000 – 32 000 € / an"), one
    bound ("à partir de 28 000 € / an"), or else what the employer wrote."""
    low, high = listing.salary_min, listing.salary_max
    if low is not None and high is not None and low != high:
        return _("%(low)s – %(high)s / year", low=euros(low), high=euros(high))
    if low is not None and high is not None:
        return _("%(amount)s / year", amount=euros(low))
    if low is not None:
        return _("from %(amount)s / year", amount=euros(low))
    if high is not None:
        return _("up to %(amount)s / year", amount=euros(high))
    text = (listing.salary_text or "").strip()
    if len(text) > SALARY_TEXT:
        text = text[: SALARY_TEXT - 1].rstrip() + "…"
    return text or None


# --- jobs, activities, equipment ---------------------------------------------------------------


def job(code: str | None) -> str | None:
    return job_title(code, english())


def equipment(code: str | None) -> str | None:
    return equipment_name(code, english())


#: DATAtourisme classes (the ontology's names) as people say them (French, English).
CATEGORIES: dict[str, tuple[str, str]] = {
    "PointOfInterest": ("Lieu à découvrir", "Place to discover"),
    "SportsAndLeisurePlace": ("Lieu de sports et de loisirs", "Sports and leisure venue"),
    "CulturalSite": ("Site culturel", "Cultural site"),
    "NaturalHeritage": ("Patrimoine naturel", "Natural heritage"),
    "ParkAndGarden": ("Parc et jardin", "Park and garden"),
    "Museum": ("Musée", "Museum"),
    "Castle": ("Château", "Castle"),
    "ReligiousSite": ("Édifice religieux", "Religious site"),
    "Church": ("Église", "Church"),
    "Chapel": ("Chapelle", "Chapel"),
    "Cathedral": ("Cathédrale", "Cathedral"),
    "Theater": ("Théâtre", "Theatre"),
    "Cinema": ("Cinéma", "Cinema"),
    "Library": ("Bibliothèque", "Library"),
    "SwimmingPool": ("Piscine", "Swimming pool"),
    "EntertainmentAndEvent": ("Fête et manifestation", "Event"),
    "CulturalEvent": ("Manifestation culturelle", "Cultural event"),
    "SportsEvent": ("Événement sportif", "Sports event"),
    "SocialEvent": ("Fête et événement populaire", "Community event"),
    "Festival": ("Festival", "Festival"),
    "Market": ("Marché", "Market"),
    "Exhibition": ("Exposition", "Exhibition"),
    "Concert": ("Concert", "Concert"),
    "Tour": ("Itinéraire", "Tour"),
    "WalkingTour": ("Randonnée pédestre", "Walking tour"),
    "CyclingTour": ("Itinéraire à vélo", "Cycling tour"),
    "Accommodation": ("Hébergement", "Accommodation"),
    "Hotel": ("Hôtel", "Hotel"),
    "Camping": ("Camping", "Campsite"),
    "FoodEstablishment": ("Restauration", "Food and drink"),
    "Restaurant": ("Restaurant", "Restaurant"),
    "TouristInformationCenter": ("Office de tourisme", "Tourist information"),
}
_IDENTIFIER = re.compile(r"^(?:[a-z]+:)?([A-Z][A-Za-z]+)$")


def category(value: str | None) -> str | None:
    """A DATAtourisme class ("SportsAndLeisurePlace", "schema:Festival") as words; an editor's
    own words ("Randonnée") as written; an unknown class identifier as a leisure activity."""
    if not value:
        return None
    found = _IDENTIFIER.match(value.strip())
    if not found:
        return value
    pair = CATEGORIES.get(found.group(1))
    if pair is None:
        if found.group(1).istitle():  # one plain word ("Randonnée", "Piscine"): a person's
            return value.strip()
        return _("Leisure activity")
    return pick(*pair)


# --- opening hours -----------------------------------------------------------------------------

_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}  # fmt: skip
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_RULE = re.compile(
    rf"^(?:(?P<months>{_MONTH}(?:-{_MONTH})?)\s+)?"
    r"(?P<days>(?:Mo|Tu|We|Th|Fr|Sa|Su|PH)(?:[-,](?:Mo|Tu|We|Th|Fr|Sa|Su|PH))*)?\s*"
    r"(?P<times>off|closed|\d{1,2}:\d{2}-\d{1,2}:\d{2}(?:,\d{1,2}:\d{2}-\d{1,2}:\d{2})*)?$"
)


def _time(text: str, en: bool) -> str:
    hours, minutes = (int(x) for x in text.split(":"))
    if en:
        return f"{hours:02d}:{minutes:02d}"
    return f"{hours}\u00a0h" if minutes == 0 else f"{hours}\u00a0h\u00a0{minutes:02d}"


def _months(text: str, en: bool) -> str:
    """A season: "Jul-Aug" → "de juillet à août" (July to August), "Aug" → "en août"."""
    names = _MONTH_NAMES["en" if en else "fr"]
    first, _, last = text.partition("-")
    a = names[_MONTHS.index(first)]
    if not last:
        return f"in {a}" if en else f"en {a}"
    b = names[_MONTHS.index(last)]
    return f"{a} to {b}" if en else f"de {a} à {b}"


def _days(text: str, en: bool) -> str:
    if text == "Mo-Su":
        return "every day" if en else "tous les jours"
    names = _DAY_NAMES["en" if en else "fr"]
    parts = []
    for piece in text.split(","):
        if piece == "PH":
            parts.append("public holidays" if en else "les jours fériés")
        elif "-" in piece:
            a, b = piece.split("-")
            first, last = names[_DAYS.index(a)], names[_DAYS.index(b)]
            parts.append(f"{first} to {last}" if en else f"du {first} au {last}")
        else:
            name = names[_DAYS.index(piece)]
            parts.append(name if en else f"le {name}")
    return ", ".join(parts)


def opening_hours(value: str | None) -> str | None:
    """OSM opening hours in words: "Mo-Fr 09:00-18:00; Sa 09:00-12:00" → "du lundi au vendredi,
    9 h–18 h ; le samedi, 9 h–12 h". Rules beyond days and hours are given as written."""
    if not value:
        return None
    text = value.strip()
    en = english()
    if text == "24/7":
        return "open every day, round the clock" if en else "tous les jours, 24 h/24"
    out = []
    for rule in (r.strip() for r in text.split(";") if r.strip()):
        found = _RULE.match(rule)
        if not found or not (found.group("days") or found.group("times")):
            return text  # beyond this reading: the editor's text, as written
        days, times, months = found.group("days"), found.group("times"), found.group("months")
        if times in ("off", "closed"):
            words = "closed" if en else "fermé"
        elif times:
            spans = [s.split("-") for s in times.split(",")]
            words = (" and " if en else " et ").join(
                f"{_time(a, en)}–{_time(b, en)}" for a, b in spans
            )
        else:
            words = ""
        label = _days(days, en) if days else ("every day" if en else "tous les jours")
        if months:
            label = f"{_months(months, en)}, {label}"
        out.append(f"{label}, {words}" if words else label)
    return (" ; " if not en else "; ").join(out)


# --- energy ------------------------------------------------------------------------------------

SCALE = ("A", "B", "C", "D", "E", "F", "G")


def scale(which: str, letter: str | None) -> list[dict] | None:
    """The seven steps of the energy or GES scale (`which`), the listing's marked; their usual
    colours are the theme's (listings.css, .energy-A…), each letter also written: the colour
    is never the only sign."""
    if letter not in SCALE:
        return None
    return [{"letter": x, "css": f"{which}-{x}", "current": x == letter} for x in SCALE]


FILTERS = {
    "euros": euros,
    "listing_price": listing_price,
    "job_title": job,
    "equipment_name": equipment,
    "leisure_category": category,
    "opening_hours": opening_hours,
}
