"""Every listing field, declared once per kind.

The normed file's Table Schema (`ingest/schemas/<kind>.json`), the listings table's columns,
and later the API schema and the editor form all derive from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1.0.0"
KINDS = ("real_estate", "job", "business", "leisure", "poi")
KIND_TITLES = {
    "real_estate": ("Annonces immobilières", "Real-estate listings"),
    "job": ("Offres d'emploi", "Job offers"),
    "business": ("Commerces et entreprises à reprendre", "Businesses to take over"),
    "leisure": ("Activités de loisirs", "Leisure activities"),
    "poi": ("Lieux et équipements", "Places and facilities"),
}
#: The same, short enough for a site's navigation.
KIND_SHORT_TITLES = {
    "real_estate": ("Logement", "Homes"),
    "job": ("Emploi", "Jobs"),
    "business": ("Reprendre", "Businesses"),
    "leisure": ("Loisirs", "Leisure"),
    "poi": ("Lieux", "Places"),
}


@dataclass(frozen=True)
class Field:
    """One column of a kind's normed file (and of the listings table)."""

    name: str
    type: str  # string | integer | number | boolean | date
    title_fr: str
    title_en: str
    description_fr: str = ""
    required: bool = False
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    #: A French rule beyond the Table Schema: insee | siret | siren | postcode | naf | rome.
    check: str | None = None
    #: A text that may hold line breaks and tabs (every other control character is refused).
    multiline: bool = False
    example: str = ""


#: One or more http(s) image addresses, separated by spaces or vertical bars.
PHOTO_URLS = r"^https?://[^\s|]+(\s*[\s|]\s*https?://[^\s|]+)*\s*$"


def _s(name, fr, en, desc="", **kw):
    return Field(name, "string", fr, en, desc, **kw)


COMMON: tuple[Field, ...] = (
    _s(
        "external_id",
        "Identifiant",
        "Identifier",
        "Votre identifiant de l'annonce, unique pour ce type : il sert à la mettre à jour.",
        required=True,
        max_length=100,
        pattern=r"^[^\s].*$",
        example="IMMO-2026-0042",
    ),
    _s(
        "title",
        "Titre",
        "Title",
        required=True,
        max_length=200,
        example="Maison de bourg avec jardin",
    ),
    _s("description", "Description", "Description", max_length=20000, multiline=True),
    _s(
        "commune_insee",
        "Code INSEE de la commune",
        "Commune INSEE code",
        "5 caractères, par exemple 15187 pour Saint-Flour (2A/2B en Corse).",
        required=True,
        max_length=5,
        pattern=r"^(\d{5}|2[AB]\d{3})$",
        check="insee",
        example="15187",
    ),
    _s("address", "Adresse", "Address", max_length=300, example="12 rue des Lacs"),
    _s(
        "postcode", "Code postal", "Postcode", pattern=r"^\d{5}$", check="postcode", example="15100"
    ),
    Field(
        "latitude",
        "number",
        "Latitude",
        "Latitude",
        "WGS 84 en degrés décimaux ; à défaut, le centre de la commune (approximatif).",
        minimum=-90,
        maximum=90,
        example="45.0337",
    ),
    Field(
        "longitude", "number", "Longitude", "Longitude", minimum=-180, maximum=180, example="3.0928"
    ),
    Field(
        "lambert_x",
        "number",
        "X Lambert-93",
        "Lambert-93 X",
        "Alternative à latitude/longitude (EPSG:2154, mètres).",
        minimum=-500_000,
        maximum=2_000_000,
        example="706520",
    ),
    Field(
        "lambert_y",
        "number",
        "Y Lambert-93",
        "Lambert-93 Y",
        minimum=5_000_000,
        maximum=8_000_000,
        example="6440080",
    ),
    Field(
        "published_on",
        "date",
        "Date de publication",
        "Publication date",
        "AAAA-MM-JJ ou JJ/MM/AAAA.",
        example="2026-11-02",
    ),
    Field(
        "expires_on",
        "date",
        "Date d'expiration",
        "Expiry date",
        "Après cette date l'annonce n'est plus affichée.",
        example="2027-02-28",
    ),
    _s("url", "Lien", "Link", max_length=500, pattern=r"^https?://\S+$"),
    _s(
        "contact_email",
        "E-mail de contact",
        "Contact e-mail",
        max_length=320,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
    _s(
        "contact_phone",
        "Téléphone de contact",
        "Contact phone",
        max_length=30,
        pattern=r"^[+0-9 ().-]{6,30}$",
    ),
    _s(
        "photo_url",
        "Photos (liens)",
        "Photos (links)",
        "Adresses http(s) d'images, séparées par des espaces ou des barres verticales (|) ;"
        " la plateforme les télécharge une fois, les vérifie et les redimensionne.",
        max_length=2000,
        pattern=PHOTO_URLS,
    ),
)

ENERGY = ("A", "B", "C", "D", "E", "F", "G")
#: Bounds of amounts and areas: far above any real listing, well inside their columns
#: (numeric(16, 2): below 10¹⁴), so that a value the declaration accepts the database stores.
MAX_PRICE = 1_000_000_000
MAX_SALARY = 10_000_000
MAX_AREA_M2 = 1_000_000_000
PER_KIND: dict[str, tuple[Field, ...]] = {
    "real_estate": (
        _s(
            "transaction",
            "Transaction",
            "Transaction",
            required=True,
            enum=("sale", "rent"),
            example="sale",
        ),
        _s(
            "property_type",
            "Type de bien",
            "Property type",
            required=True,
            enum=("house", "flat", "land", "building", "farm", "other"),
            example="house",
        ),
        Field(
            "price",
            "number",
            "Prix (€)",
            "Price (€)",
            "Prix de vente ou loyer mensuel.",
            required=True,
            minimum=0,
            maximum=MAX_PRICE,
            example="149000",
        ),
        Field(
            "charges",
            "number",
            "Charges (€/mois)",
            "Charges (€/month)",
            minimum=0,
            maximum=1_000_000,
        ),
        Field(
            "living_area_m2",
            "number",
            "Surface habitable (m²)",
            "Living area (m²)",
            minimum=0,
            maximum=100000,
            example="110",
        ),
        Field(
            "land_area_m2",
            "number",
            "Surface du terrain (m²)",
            "Land area (m²)",
            minimum=0,
            maximum=MAX_AREA_M2,
        ),
        Field("rooms", "integer", "Pièces", "Rooms", minimum=0, maximum=200, example="5"),
        Field("bedrooms", "integer", "Chambres", "Bedrooms", minimum=0, maximum=200),
        _s("energy_class", "Classe énergie (DPE)", "Energy class", enum=ENERGY, example="D"),
        _s("ges_class", "Classe GES", "Greenhouse-gas class", enum=ENERGY),
        Field(
            "year_built",
            "integer",
            "Année de construction",
            "Year built",
            minimum=1000,
            maximum=2100,
        ),
        Field("furnished", "boolean", "Meublé", "Furnished"),
    ),
    "job": (
        _s(
            "rome_code",
            "Code ROME",
            "ROME code",
            "Métier, par exemple K2112.",
            required=True,
            pattern=r"^[A-N]\d{4}$",
            check="rome",
            example="J1506",
        ),
        _s(
            "contract_type",
            "Type de contrat",
            "Contract type",
            required=True,
            enum=("CDI", "CDD", "MIS", "SAI", "LIB", "FRA", "DIN", "CCE", "TTI"),
            example="CDI",
        ),
        Field("full_time", "boolean", "Temps plein", "Full time", example="true"),
        _s("working_hours", "Horaires", "Working hours", max_length=200),
        _s("salary_text", "Salaire (texte)", "Salary (text)", max_length=200),
        Field(
            "salary_min",
            "number",
            "Salaire minimum (€/an)",
            "Minimum salary (€/year)",
            minimum=0,
            maximum=MAX_SALARY,
        ),
        Field(
            "salary_max",
            "number",
            "Salaire maximum (€/an)",
            "Maximum salary (€/year)",
            minimum=0,
            maximum=MAX_SALARY,
        ),
        _s("experience", "Expérience demandée", "Experience required", max_length=200),
        Field("apprenticeship", "boolean", "Apprentissage", "Apprenticeship"),
        _s("employer_name", "Employeur", "Employer", max_length=200),
        _s("siret", "SIRET de l'employeur", "Employer's SIRET", pattern=r"^\d{14}$", check="siret"),
        _s("naf_code", "Code NAF", "NAF code", pattern=r"^\d{2}\.?\d{2}[A-Z]$", check="naf"),
        Field("positions", "integer", "Postes", "Positions", minimum=1, maximum=10000),
        _s(
            "application_url",
            "Candidater (lien)",
            "Apply (link)",
            max_length=500,
            pattern=r"^https?://\S+$",
        ),
    ),
    "business": (
        _s(
            "activity",
            "Activité",
            "Activity",
            required=True,
            max_length=200,
            example="Boulangerie-pâtisserie",
        ),
        _s("naf_code", "Code NAF", "NAF code", pattern=r"^\d{2}\.?\d{2}[A-Z]$", check="naf"),
        _s("siret", "SIRET", "SIRET", pattern=r"^\d{14}$", check="siret"),
        _s(
            "transfer_type",
            "Type de cession",
            "Transfer type",
            required=True,
            enum=("fonds_de_commerce", "droit_au_bail", "murs", "parts_sociales", "local_vacant"),
            example="fonds_de_commerce",
        ),
        Field("price", "number", "Prix (€)", "Price (€)", minimum=0, maximum=MAX_PRICE),
        Field(
            "annual_rent",
            "number",
            "Loyer annuel (€)",
            "Annual rent (€)",
            minimum=0,
            maximum=MAX_PRICE,
        ),
        Field("area_m2", "number", "Surface (m²)", "Area (m²)", minimum=0, maximum=MAX_AREA_M2),
        Field(
            "turnover",
            "number",
            "Chiffre d'affaires (€)",
            "Turnover (€)",
            minimum=0,
            maximum=1_000_000_000_000,
        ),
        Field("staff", "integer", "Salariés", "Staff", minimum=0, maximum=1_000_000),
        _s("reason", "Motif de la cession", "Reason", max_length=500),
        Field("available_from", "date", "Disponible à partir du", "Available from"),
    ),
    "leisure": (
        _s(
            "category",
            "Catégorie (DATAtourisme)",
            "Category (DATAtourisme)",
            required=True,
            max_length=100,
            example="SportsAndLeisurePlace",
        ),
        Field("start_on", "date", "Début", "Start"),
        Field("end_on", "date", "Fin", "End"),
        _s(
            "opening_hours",
            "Horaires (syntaxe OSM)",
            "Opening hours (OSM syntax)",
            max_length=500,
            example="Mo-Fr 09:00-18:00",
        ),
        _s("price_text", "Tarifs", "Prices", max_length=300),
        _s("audience", "Public", "Audience", max_length=200),
        Field("wheelchair", "boolean", "Accessible en fauteuil", "Wheelchair accessible"),
    ),
    "poi": (
        _s(
            "theme",
            "Thème (SCDL équipements)",
            "Theme (SCDL facilities)",
            required=True,
            max_length=100,
            example="Santé",
        ),
        _s("poi_type", "Type", "Type", max_length=100, example="Maison de santé"),
        _s(
            "bpe_code",
            "Code BPE (TYPEQU)",
            "BPE code (TYPEQU)",
            pattern=r"^[A-G]\d{3}$",
            example="D265",
        ),
        _s(
            "osm_tag",
            "Étiquette OSM",
            "OSM tag",
            pattern=r"^[a-z_:]+=[^=\s]+$",
            example="amenity=doctors",
        ),
        _s("opening_hours", "Horaires (syntaxe OSM)", "Opening hours (OSM syntax)", max_length=500),
        _s("website", "Site web", "Website", max_length=500, pattern=r"^https?://\S+$"),
    ),
}


#: Readable (French, English) labels of enum values, for forms and pages (files keep the codes).
CHOICE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "transaction": {"sale": ("Vente", "Sale"), "rent": ("Location", "Rent")},
    "property_type": {
        "house": ("Maison", "House"),
        "flat": ("Appartement", "Flat"),
        "land": ("Terrain", "Land"),
        "building": ("Immeuble", "Building"),
        "farm": ("Ferme, corps de ferme", "Farm"),
        "other": ("Autre", "Other"),
    },
    "contract_type": {
        "CDI": ("CDI (durée indéterminée)", "Permanent contract (CDI)"),
        "CDD": ("CDD (durée déterminée)", "Fixed-term contract (CDD)"),
        "MIS": ("Mission intérimaire", "Temporary agency work"),
        "SAI": ("Travail saisonnier", "Seasonal work"),
        "LIB": ("Profession libérale", "Liberal profession"),
        "FRA": ("Franchise", "Franchise"),
        "DIN": ("CDI intérimaire", "Permanent agency contract"),
        "CCE": ("Profession commerciale", "Commercial agent"),
        "TTI": ("Travail temporaire d'insertion", "Temporary integration work"),
    },
    "transfer_type": {
        "fonds_de_commerce": ("Fonds de commerce", "Goodwill (fonds de commerce)"),
        "droit_au_bail": ("Droit au bail", "Leasehold (droit au bail)"),
        "murs": ("Murs commerciaux", "Commercial premises (walls)"),
        "parts_sociales": ("Parts sociales", "Company shares"),
        "local_vacant": ("Local vacant", "Vacant premises"),
    },
}


def fields_of(kind: str) -> tuple[Field, ...]:
    if kind not in PER_KIND:
        raise ValueError(f"unknown listing kind {kind!r}: one of {', '.join(KINDS)}")
    return COMMON + PER_KIND[kind]


def all_fields() -> dict[str, Field]:
    """Every field by name, across kinds; a name means the same thing (and type) everywhere."""
    found: dict[str, Field] = {}
    for kind in KINDS:
        for f in fields_of(kind):
            if f.name in found and found[f.name].type != f.type:
                raise TypeError(f"field {f.name!r} has two types across kinds")
            found.setdefault(f.name, f)
    return found


def table_schema(kind: str) -> dict:
    """The kind's normed file as a Frictionless Table Schema, in French."""
    fields = []
    for f in fields_of(kind):
        entry = {"name": f.name, "type": f.type, "title": f.title_fr}
        if f.description_fr:
            entry["description"] = f.description_fr
        if f.example:
            entry["example"] = f.example
        constraints = {}
        if f.required:
            constraints["required"] = True
        if f.enum:
            constraints["enum"] = list(f.enum)
        if f.pattern:
            constraints["pattern"] = f.pattern
        if f.minimum is not None:
            constraints["minimum"] = f.minimum
        if f.maximum is not None:
            constraints["maximum"] = f.maximum
        if f.max_length is not None:
            constraints["maxLength"] = f.max_length
        if constraints:
            entry["constraints"] = constraints
        if f.type == "boolean":
            entry["trueValues"] = ["true", "vrai", "oui", "1"]
            entry["falseValues"] = ["false", "faux", "non", "0"]
        fields.append(entry)
    title_fr, _title_en = KIND_TITLES[kind]
    return {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": f"vivrau-{kind.replace('_', '-')}",
        "title": title_fr,
        "description": f"Fichier normé VivrauBassindeVie : {title_fr.lower()}.",
        "version": SCHEMA_VERSION,
        "fields": fields,
        "primaryKey": ["external_id"],
        "missingValues": [""],
    }
