"""The words of an import report: every issue code as a precise sentence in French and English.

A report holds both languages at once (it is kept, and read later by whoever opens it), so the
sentences live here as (French, English) pairs beside the declarations' own French and English
titles, rather than in the gettext catalogue that serves one locale per request.
"""

from __future__ import annotations

import difflib
import re

from babel.numbers import format_decimal

from core.i18n import pick
from ingest.listings.declaration import all_fields

#: How much of a value a sentence quotes (a cell may hold megabytes).
QUOTED = 60
LOCALES = ("fr", "en")

#: What a declared pattern means, in words.
PATTERNS = {
    r"^[^\s].*$": ("un texte qui ne commence pas par une espace", "text not starting with a space"),
    r"^(\d{5}|2[AB]\d{3})$": (
        "un code INSEE de 5 caractères, par exemple 15187 (2A/2B en Corse)",
        "a 5-character INSEE code, e.g. 15187 (2A/2B in Corsica)",
    ),
    r"^\d{5}$": ("un code postal de 5 chiffres, par exemple 15100", "a 5-digit postcode"),
    r"^https?://\S+$": (
        "un lien complet commençant par http:// ou https://",
        "a full link starting with http:// or https://",
    ),
    r"^https://\S+$": ("un lien complet commençant par https://", "a full https:// link"),
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": (
        "une adresse e-mail, par exemple accueil@mairie.fr",
        "an e-mail address, e.g. info@town.fr",
    ),
    r"^[+0-9 ().-]{6,30}$": (
        "un numéro de téléphone de 6 à 30 chiffres, espaces, points, tirets ou +",
        "a phone number: 6 to 30 digits, spaces, dots, dashes or +",
    ),
    r"^[A-N]\d{4}$": (
        "un code ROME : une lettre de A à N puis 4 chiffres, par exemple K2112",
        "a ROME code: a letter from A to N then 4 digits, e.g. K2112",
    ),
    r"^\d{14}$": ("un SIRET de 14 chiffres, sans espace", "a 14-digit SIRET, without spaces"),
    r"^\d{2}\.?\d{2}[A-Z]$": (
        "un code NAF comme 47.11F ou 4711F",
        "a NAF code such as 47.11F or 4711F",
    ),
    r"^[A-G]\d{3}$": (
        "un code BPE : une lettre de A à G puis 3 chiffres, par exemple D265",
        "a BPE code: a letter from A to G then 3 digits, e.g. D265",
    ),
    r"^[a-z_:]+=[^=\s]+$": (
        "une étiquette OSM clé=valeur, par exemple amenity=doctors",
        "an OSM tag key=value, e.g. amenity=doctors",
    ),
}
TYPES = {
    "integer": ("un nombre entier, par exemple 5", "a whole number, e.g. 5"),
    "number": (
        "un nombre, par exemple 149000 ou 1 234,50",
        "a number, e.g. 149000 or 1234.50",
    ),
    "date": (
        "une date AAAA-MM-JJ ou JJ/MM/AAAA qui existe, par exemple 02/11/2026",
        "an existing date as YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-11-02",
    ),
    "boolean": ("oui ou non (aussi vrai/faux, 1/0)", "yes or no: oui/non, vrai/faux, 1/0"),
    "string": ("un texte", "text"),
}

#: code → (French, English); placeholders are filled by `describe`.
MESSAGES = {
    "empty": ("Le fichier est vide.", "The file is empty."),
    "not_tabular": (
        "« {filename} » n'est ni un fichier CSV ni un classeur Excel (XLSX) : enregistrez-le "
        "au format CSV ou XLSX depuis votre tableur.",
        "“{filename}” is neither a CSV file nor an Excel workbook (XLSX): save it as CSV or "
        "XLSX from your spreadsheet.",
    ),
    "too_large": (
        "Le fichier est trop volumineux : {limit_mb} Mo au plus. Découpez-le en plusieurs "
        "fichiers.",
        "The file is too large: {limit_mb} MB at most. Split it into several files.",
    ),
    "too_many_rows": (
        "Le fichier compte plus de {limit} lignes : découpez-le en plusieurs fichiers.",
        "The file has more than {limit} rows: split it into several files.",
    ),
    "too_large_unzipped": (
        "Le classeur dépasse {limit_mb} Mo une fois décompressé : découpez-le en plusieurs "
        "fichiers, ou enregistrez-le au format CSV.",
        "The workbook exceeds {limit_mb} MB once unzipped: split it into several files, or save "
        "it as CSV.",
    ),
    "too_many_columns": (
        "Ligne {row}, colonne {column} : le fichier a plus de {limit} colonnes ; gardez les "
        "colonnes du modèle (des cellules lointaines, même vides, comptent).",
        "Row {row}, column {column}: the file has more than {limit} columns; keep the "
        "template's columns (distant cells, even empty, count).",
    ),
    "too_many_cells": (
        "La feuille compte plus de {limit} cellules (les cellules vides mises en forme "
        "comptent) : découpez le fichier ou enregistrez-le au format CSV.",
        "The sheet has more than {limit} cells (formatted empty cells count): split the file or "
        "save it as CSV.",
    ),
    "too_many_strings": (
        "Le classeur contient plus de {limit} textes différents : découpez-le en plusieurs "
        "fichiers.",
        "The workbook holds more than {limit} distinct texts: split it into several files.",
    ),
    "doctype": (
        "Le classeur contient une déclaration DOCTYPE, qu'aucun tableur n'écrit : il est refusé "
        "par sécurité. Enregistrez-le de nouveau depuis votre tableur.",
        "The workbook holds a DOCTYPE declaration, which no spreadsheet writes: it is refused "
        "for safety. Save it again from your spreadsheet.",
    ),
    "bad_xml": (
        "Le classeur XLSX est endommagé ou incomplet ({reason}) : enregistrez-le de nouveau "
        "depuis votre tableur.",
        "The XLSX workbook is damaged or incomplete ({reason}): save it again from your "
        "spreadsheet.",
    ),
    "bad_encoding": (
        "Le fichier n'est ni en UTF-8 ni en Windows-1252 (octet {position} illisible) : "
        "enregistrez-le en « CSV UTF-8 » depuis votre tableur.",
        "The file is neither UTF-8 nor Windows-1252 (byte {position} unreadable): save it as "
        "“CSV UTF-8” from your spreadsheet.",
    ),
    "control_character": (
        "Ligne {row}, colonne {field} : le texte contient un caractère de contrôle invisible "
        "({character}, position {position}), refusé ; retirez-le.",
        "Row {row}, column {field}: the text holds an invisible control character "
        "({character}, position {position}), which is refused; remove it.",
    ),
    "unknown_column": (
        "La colonne « {column} » n'appartient pas au modèle : elle est ignorée.{hint_fr}",
        "Column “{column}” is not part of the template: it is ignored.{hint_en}",
    ),
    "duplicate_column": (
        "La colonne « {column} » figure plusieurs fois dans l'en-tête : gardez-en une seule.",
        "Column “{column}” appears more than once in the header: keep only one.",
    ),
    "missing_required_column": (
        "La colonne obligatoire {field} est absente de l'en-tête : rien ne peut être importé "
        "sans elle.",
        "The required column {field} is missing from the header: nothing can be imported "
        "without it.",
    ),
    "missing_optional_column": (
        "La colonne facultative {field} est absente : elle restera vide.",
        "The optional column {field} is missing: it will stay empty.",
    ),
    "wrong_delimiter": (
        "L'en-tête ne forme qu'une seule colonne : séparez les colonnes par des points-virgules "
        "(;), des virgules (,) ou des tabulations, et gardez les noms de colonnes du modèle.",
        "The header makes a single column: separate the columns with semicolons (;), commas (,) "
        "or tabs, and keep the template's column names.",
    ),
    "no_rows": (
        "Le fichier ne contient que la ligne d'en-tête, aucune annonce.",
        "The file holds the header row only, no listing.",
    ),
    "bad_type": (
        "Ligne {row}, colonne {field} : « {value} » n'est pas {expected}.",
        "Row {row}, column {field}: “{value}” is not {expected}.",
    ),
    "required": (
        "Ligne {row}, colonne {field} : cette valeur est obligatoire.",
        "Row {row}, column {field}: this value is required.",
    ),
    "enum": (
        "Ligne {row}, colonne {field} : « {value} » n'est pas une valeur permise ; valeurs "
        "possibles : {expected}.",
        "Row {row}, column {field}: “{value}” is not an allowed value; allowed values: {expected}.",
    ),
    "pattern": (
        "Ligne {row}, colonne {field} : « {value} » n'a pas la forme attendue, {expected}.",
        "Row {row}, column {field}: “{value}” does not have the expected form, {expected}.",
    ),
    "minimum": (
        "Ligne {row}, colonne {field} : {value} est trop petit, au moins {expected}.",
        "Row {row}, column {field}: {value} is too small, at least {expected}.",
    ),
    "maximum": (
        "Ligne {row}, colonne {field} : {value} est trop grand, au plus {expected}.",
        "Row {row}, column {field}: {value} is too large, at most {expected}.",
    ),
    "maxLength": (
        "Ligne {row}, colonne {field} : le texte fait {length} caractères, {expected} au plus.",
        "Row {row}, column {field}: the text is {length} characters long, {expected} at most.",
    ),
    "constraint": (
        "Ligne {row}, colonne {field} : « {value} » ne respecte pas les règles de la colonne.",
        "Row {row}, column {field}: “{value}” breaks the column's rules.",
    ),
    "duplicate_id": (
        "Ligne {row}, colonne {field} : l'identifiant « {value} » figure déjà ligne "
        "{first_row} ; chaque annonce doit avoir son propre identifiant.",
        "Row {row}, column {field}: identifier “{value}” already appears on row {first_row}; "
        "each listing needs its own identifier.",
    ),
    "missing_cell": (
        "Ligne {row} : la ligne a moins de cellules que l'en-tête (colonne {field} manquante).",
        "Row {row}: the row has fewer cells than the header (column {field} missing).",
    ),
    "extra_cell": (
        "Ligne {row} : la ligne a plus de cellules que l'en-tête ; un séparateur est peut-être "
        "en trop dans une valeur (mettez-la entre guillemets).",
        "Row {row}: the row has more cells than the header; a value may hold a separator "
        "(put it in quotes).",
    ),
    "bad_siret": (
        "Ligne {row}, colonne {field} : « {value} » n'est pas un SIRET valide (sa clé de "
        "contrôle est fausse) ; vérifiez-le sur annuaire-entreprises.data.gouv.fr.",
        "Row {row}, column {field}: “{value}” is not a valid SIRET (its check digit is wrong); "
        "check it on annuaire-entreprises.data.gouv.fr.",
    ),
    "outside_france": (
        "Ligne {row}, colonne {field} : le point ({value}) est hors de France ; donnez la "
        "latitude et la longitude en degrés décimaux (WGS 84), sans les inverser.",
        "Row {row}, column {field}: the point ({value}) is outside France; give latitude and "
        "longitude in decimal degrees (WGS 84), not swapped.",
    ),
    "half_coordinates": (
        "Ligne {row} : la colonne {field} est vide alors que l'autre coordonnée est donnée ; "
        "indiquez les deux, ou aucune pour placer l'annonce au centre de la commune.",
        "Row {row}: column {field} is empty while the other coordinate is given; fill both, or "
        "neither to place the listing at the commune's centre.",
    ),
    "unknown_commune": (
        "Ligne {row}, colonne {field} : aucune commune n'a le code INSEE « {value} » (le code "
        "INSEE n'est pas le code postal).",
        "Row {row}, column {field}: no commune has INSEE code “{value}” (the INSEE code is not "
        "the postcode).",
    ),
    "far_from_commune": (
        "Ligne {row}, colonne {field} : le point ({value}) est à {km} km de la commune {insee} ; "
        "vérifiez les coordonnées ou le code INSEE.",
        "Row {row}, column {field}: the point ({value}) is {km} km from commune {insee}; check "
        "the coordinates or the INSEE code.",
    ),
    "outside_territory": (
        "Ligne {row}, colonne {field} : le point ({value}) est à {km} km du territoire, commune "
        "du territoire la plus proche : {nearest} (un point à moins de {margin_km} km est "
        "accepté) ; vérifiez les coordonnées, ou publiez l'annonce sur le territoire où elle se "
        "trouve.",
        "Row {row}, column {field}: the point ({value}) lies {km} km outside the territory, "
        "nearest commune of the territory: {nearest} (a point up to {margin_km} km outside is "
        "accepted); check the coordinates, or publish the listing on the territory where it "
        "lies.",
    ),
    "commune_outside_territory": (
        "Ligne {row}, colonne {field} : la commune {name} ({value}) ne fait pas partie du "
        "territoire : elle est à {km} km de celui-ci, commune du territoire la plus proche : "
        "{nearest} ; donnez le point de l'annonce, ou publiez-la sur le territoire de cette "
        "commune.",
        "Row {row}, column {field}: commune {name} ({value}) is not part of the territory: it "
        "lies {km} km outside it, nearest commune of the territory: {nearest}; give the "
        "listing's point, or publish it on that commune's territory.",
    ),
    "unreadable": (
        "Le fichier n'a pas pu être lu : {reason}",
        "The file could not be read: {reason}",
    ),
    "other": (
        "Ligne {row}, colonne {field} : « {value} » est refusé ({code}).",
        "Row {row}, column {field}: “{value}” is refused ({code}).",
    ),
}
#: Subject and body of the mail sent when a worker import ends, by final status.
MAIL = {
    "subject": (
        "Import de « {filename} » : {outcome}",
        "Import of “{filename}”: {outcome}",
    ),
    "done": ("terminé", "done"),
    "dry_run": ("vérifié (essai, rien n'a été modifié)", "checked (trial run, nothing changed)"),
    "rejected": ("refusé, rien n'a été modifié", "rejected, nothing changed"),
    "failed": ("échec, rien n'a été modifié", "failed, nothing changed"),
    "body": (
        "Bonjour {name},\n\nL'import du fichier « {filename} » ({kind}) est {outcome}.\n\n"
        "Lignes lues : {rows_read}\nLignes valides : {rows_valid}\n"
        "Annonces créées : {created}\nmodifiées : {updated}\ninchangées : {unchanged}\n"
        "dépubliées : {unpublished}\nErreurs : {errors}\nAvertissements : {warnings}\n\n"
        "Le rapport détaillé : {link}\n",
        "Hello {name},\n\nThe import of “{filename}” ({kind}) is {outcome}.\n\n"
        "Rows read: {rows_read}\nValid rows: {rows_valid}\n"
        "Listings created: {created}\nupdated: {updated}\nunchanged: {unchanged}\n"
        "unpublished: {unpublished}\nErrors: {errors}\nWarnings: {warnings}\n\n"
        "The full report: {link}\n",
    ),
}
_CONSTRAINT = re.compile(r'constraint "(\w+)"')
_FIELDS = all_fields()


def quoted(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= QUOTED else text[:QUOTED] + "…"


def field_label(name: str | None, locale: str) -> str:
    """« price » (Prix (€)): the name the file uses and the title a person reads."""
    if not name:
        return "—"
    f = _FIELDS.get(name)
    if f is None:
        return pick(f"« {name} »", f"“{name}”", locale)
    title = pick(f.title_fr, f.title_en, locale)
    return pick(f"« {name} » ({title})", f"“{name}” ({title})", locale)


def expected(name: str | None, what: str, locale: str) -> str:
    """What a column accepts for the rule `what` (a type or a constraint name)."""
    f = _FIELDS.get(name or "")
    if f is None:
        return ""
    if what == "enum":
        return ", ".join(f.enum)
    if what == "pattern":
        meaning = PATTERNS.get(f.pattern or "")
        return pick(*meaning, locale) if meaning else f"{f.pattern}"
    if what == "minimum":
        return _number(f.minimum, locale)
    if what == "maximum":
        return _number(f.maximum, locale)
    if what == "maxLength":
        return f"{f.max_length}"
    return pick(*TYPES.get(f.type, TYPES["string"]), locale)


def _number(value, locale: str) -> str:
    """A bound as the reader writes numbers: 1 000 000 000 in French, 1,000,000,000 in English."""
    return format_decimal(value, locale=locale)


def describe(issue, locale: str = "fr") -> str:
    """The sentence for one issue (normed.Issue or anything with the same attributes)."""
    code, params = issue.code, dict(issue.params or {})
    key = code
    if code == "constraint":
        found = _CONSTRAINT.search(params.get("note") or "")
        key = found.group(1) if found and found.group(1) in MESSAGES else "constraint"
    elif code not in MESSAGES:
        key = "other"
    what = key if code == "constraint" else "type"
    values = {
        "row": issue.row if issue.row is not None else "—",
        "column": issue.column or "",
        "field": field_label(issue.column, locale),
        "value": quoted(issue.value),
        "expected": expected(issue.column, what, locale),
        "length": len(issue.value or ""),
        "code": code,
        "hint_fr": "",
        "hint_en": "",
        "filename": "",
        "limit_mb": "",
        "limit": "",
        "first_row": "",
        "km": "",
        "margin_km": "",
        "insee": "",
        "nearest": "",
        "name": "",
        "reason": "",
        "position": "",
        "character": "",
    }
    values.update({k: v for k, v in params.items() if k in values})
    for distance in ("km", "margin_km"):  # 14,2 km in French, 14.2 km in English
        if isinstance(values[distance], int | float):
            values[distance] = format_decimal(values[distance], format="#,##0.#", locale=locale)
    if code == "unknown_column" and issue.column:
        guess = _guess(issue.column)
        if guess:
            values["hint_fr"] = f" Vouliez-vous dire {field_label(guess, 'fr')} ?"
            values["hint_en"] = f" Did you mean {field_label(guess, 'en')}?"
    return pick(*MESSAGES[key], locale).format(**values)


def _guess(column: str) -> str | None:
    """The declared field a renamed column most likely is (by name or French title)."""
    names = {name: name for name in _FIELDS}
    names |= {f.title_fr.lower(): name for name, f in _FIELDS.items()}
    close = difflib.get_close_matches(column.strip().lower(), list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None


#: Titles of the groups a report's warnings are shown in, per kind (French, English).
WARNING_TITLES = {
    "unknown_column": ("Colonnes inconnues, ignorées", "Unknown columns, ignored"),
    "missing_optional_column": (
        "Colonnes facultatives absentes (leurs valeurs restent vides)",
        "Optional columns missing (their values stay empty)",
    ),
}


def warning_title(code: str, english: bool = False) -> str:
    french, english_title = WARNING_TITLES.get(code, ("Avertissements", "Warnings"))
    return english_title if english else french
