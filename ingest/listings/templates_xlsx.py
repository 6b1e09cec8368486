"""XLSX template and filled example of each kind's normed file, generated from the declarations."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from ingest.listings.declaration import KIND_TITLES, SCHEMA_VERSION, fields_of
from ingest.listings.wording import PATTERNS, TYPES

#: Rows of the data sheet prepared for typing (text format, drop-downs).
PREPARED_ROWS = 2000
BOOLEAN_CHOICES = ("oui", "non")
TYPE_WORDS = {
    "string": "texte",
    "integer": "nombre entier",
    "number": "nombre",
    "boolean": "oui / non",
    "date": "date",
}

#: Three realistic listings per kind: the declarations' examples, then two variations, all in
#: Saint-Flour (a territory's file holds its own listings; one elsewhere is refused): the
#: declared point, another point, none (placed at the commune's centre).
_PLACES = (
    {"lambert_x": "", "lambert_y": ""},
    {
        "lambert_x": "",
        "lambert_y": "",
        "address": "3 place d'Armes",
        "latitude": "45.0302",
        "longitude": "3.0957",
    },
    {
        "address": "Rue du Faubourg",
        "latitude": "",
        "longitude": "",
        "lambert_x": "",
        "lambert_y": "",
    },
)
_VARIANTS = {
    "real_estate": (
        {},
        {
            "external_id": "IMMO-2026-0043",
            "title": "Appartement T3 lumineux proche du centre",
            "transaction": "rent",
            "property_type": "flat",
            "price": "540",
            "charges": "45",
            "living_area_m2": "68",
            "rooms": "3",
            "bedrooms": "2",
            "energy_class": "C",
            "furnished": "non",
        },
        {
            "external_id": "IMMO-2026-0044",
            "title": "Terrain à bâtir viabilisé",
            "property_type": "land",
            "price": "32000",
            "living_area_m2": "",
            "land_area_m2": "950",
            "rooms": "",
            "energy_class": "",
        },
    ),
    "job": (
        {"external_id": "EMPLOI-2026-0101", "title": "Agent d'accueil touristique (H/F)"},
        {
            "external_id": "EMPLOI-2026-0102",
            "title": "Infirmier·ère en EHPAD",
            "rome_code": "J1506",
            "contract_type": "CDD",
            "employer_name": "EHPAD Les Tilleuls",
            "siret": "73282932000074",
            "salary_text": "Selon grille FPH",
            "positions": "2",
        },
        {
            "external_id": "EMPLOI-2026-0103",
            "title": "Apprenti·e boulanger·ère",
            "rome_code": "D1102",
            "contract_type": "CDD",
            "apprenticeship": "oui",
            "full_time": "oui",
        },
    ),
    "business": (
        {"external_id": "REPRISE-2026-0007", "title": "Boulangerie-pâtisserie de centre-bourg"},
        {
            "external_id": "REPRISE-2026-0008",
            "title": "Bar-restaurant avec licence IV",
            "activity": "Bar-restaurant",
            "naf_code": "56.10A",
            "transfer_type": "droit_au_bail",
            "annual_rent": "9600",
            "area_m2": "140",
        },
        {
            "external_id": "REPRISE-2026-0009",
            "title": "Local commercial vacant en rez-de-chaussée",
            "activity": "Commerce de détail",
            "transfer_type": "local_vacant",
            "area_m2": "85",
        },
    ),
    "leisure": (
        {"external_id": "LOISIR-2026-0031", "title": "Randonnée des planèzes"},
        {
            "external_id": "LOISIR-2026-0032",
            "title": "Piscine municipale",
            "category": "SportsAndLeisurePlace",
            "opening_hours": "Tu-Su 10:00-19:00",
            "price_text": "Adulte 4 €, enfant 2,50 €",
            "wheelchair": "oui",
        },
        {
            "external_id": "LOISIR-2026-0033",
            "title": "Fête de la Saint-Jean",
            "category": "CulturalEvent",
            "opening_hours": "",
            "start_on": "2027-06-24",
            "end_on": "2027-06-24",
            "audience": "Tout public",
        },
    ),
    "poi": (
        {"external_id": "LIEU-2026-0011", "title": "Maison de santé pluriprofessionnelle"},
        {
            "external_id": "LIEU-2026-0012",
            "title": "Médiathèque municipale",
            "theme": "Culture",
            "poi_type": "Médiathèque",
            "bpe_code": "F307",
            "osm_tag": "amenity=library",
            "website": "https://www.caba.fr",
        },
        {
            "external_id": "LIEU-2026-0013",
            "title": "École élémentaire",
            "theme": "Enseignement",
            "poi_type": "École élémentaire",
            "bpe_code": "C108",
            "osm_tag": "amenity=school",
        },
    ),
}


def example_rows(kind: str) -> list[dict[str, str]]:
    """Three filled rows (text values, as a person would type them)."""
    base = {f.name: f.example for f in fields_of(kind)}
    return [base | place | variant for place, variant in zip(_PLACES, _VARIANTS[kind], strict=True)]


def _cell_value(field, text_value: str):
    """The typed value a spreadsheet would hold, so the example reads as typed data."""
    if not text_value:
        return None
    if field.type == "integer":
        return int(text_value)
    if field.type == "number":
        number = Decimal(text_value.replace(",", "."))
        return int(number) if number == number.to_integral_value() else float(number)
    if field.type == "date":
        return date.fromisoformat(text_value)
    if field.type == "boolean":
        return "oui" if text_value.lower() in ("true", "oui", "vrai", "1") else "non"
    return text_value


def _expected(field) -> str:
    if field.enum:
        return "Valeurs permises : " + ", ".join(field.enum)
    if field.type == "boolean":
        return TYPES["boolean"][0]
    if field.pattern in PATTERNS:
        return PATTERNS[field.pattern][0]
    bounds = []
    if field.minimum is not None:
        bounds.append(f"au moins {field.minimum:g}")
    if field.maximum is not None:
        bounds.append(f"au plus {field.maximum:g}")
    if field.max_length:
        bounds.append(f"{field.max_length} caractères au plus")
    return ", ".join(bounds)


def workbook(kind: str, example: bool = False) -> bytes:
    """The kind's template (header only) or filled example, as XLSX bytes."""
    # openpyxl is slow to import and only a template download needs it.
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    fields = fields_of(kind)
    book = Workbook()
    sheet = book.active
    sheet.title = "Annonces"
    sheet.append([f.name for f in fields])
    header_font = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFE8A0")
    for position, f in enumerate(fields, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(row=1, column=position)
        cell.font = header_font
        if f.required:
            cell.fill = required_fill
        note = f"{f.title_fr}{' (obligatoire)' if f.required else ''}\n{f.description_fr}"
        extra = _expected(f)
        cell.comment = Comment(f"{note}\n{extra}".strip(), "VivrauBassindeVie")
        sheet.column_dimensions[letter].width = max(12, min(40, len(f.name) + 4))
        cells = f"{letter}2:{letter}{PREPARED_ROWS + 1}"
        if f.type == "string":
            # Text format: INSEE codes, postcodes and SIRETs keep their leading zeros.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, PREPARED_ROWS + 2):
                sheet.cell(row=row, column=position).number_format = "@"
        elif f.type == "date":
            sheet.column_dimensions[letter].number_format = "DD/MM/YYYY"
        choices = f.enum or (BOOLEAN_CHOICES if f.type == "boolean" else ())
        if choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=f.title_fr,
                error="Valeurs permises : " + ", ".join(choices),
            )
            validation.add(cells)
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    if example:
        by_name = {f.name: f for f in fields}
        for row_number, row in enumerate(example_rows(kind), start=2):
            for position, f in enumerate(fields, start=1):
                cell = sheet.cell(row=row_number, column=position)
                cell.value = _cell_value(by_name[f.name], row.get(f.name, ""))
                if f.type == "date":
                    cell.number_format = "DD/MM/YYYY"
    _help_sheet(book, kind, fields)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _help_sheet(book, kind: str, fields) -> None:
    # Loaded with the workbook it writes into (see `workbook`).
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet("Aide")
    title_fr, _title_en = KIND_TITLES[kind]
    sheet.append([f"{title_fr} — modèle version {SCHEMA_VERSION}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(
        [
            "Remplissez la feuille « Annonces » : une ligne par annonce, sans modifier la "
            "première ligne (les noms des colonnes). Les colonnes surlignées sont obligatoires."
        ]
    )
    sheet.append([])
    header = ["Colonne", "Titre", "Description", "Type", "Obligatoire", "Valeurs", "Exemple"]
    sheet.append(header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for f in fields:
        sheet.append(
            [
                f.name,
                f.title_fr,
                f.description_fr,
                TYPE_WORDS[f.type],
                "oui" if f.required else "non",
                _expected(f),
                f.example,
            ]
        )
    for letter, width in zip("ABCDEFG", (18, 28, 60, 14, 12, 50, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
