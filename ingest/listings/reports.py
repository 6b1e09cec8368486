"""An import's report: built once the import has run (counts, and each issue located and worded
in French and English), kept in the territory's storage, read back for the console and the
command line, exported as a CSV a French spreadsheet opens right."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from core.csvexport import neutralise
from core.i18n import pick
from core.storage import get_storage
from core.tenancy import require_tenant
from ingest.listings.models import ListingImport
from ingest.listings.normed import Issue
from ingest.listings.rules import visible
from ingest.listings.wording import describe

#: A report lists this many issues at most (the counts always cover them all).
REPORT_ISSUES = 20_000

#: A reported value keeps this many characters (a cell may hold megabytes).
REPORT_VALUE = 500


def build_report(record: ListingImport, issues: list[Issue], status: str, counts, meta) -> dict:
    """The kept report: counts, and each issue located and worded in French and English."""
    # Errors first (what stops the import), each kind in file order: a long list of warnings
    # about optional columns never hides them, nor pushes them past the report's limit.
    ordered = sorted(issues, key=lambda i: (not i.error, i.row or 0))
    return {
        "import_id": record.id,
        "kind": record.kind,
        "filename": record.filename,
        "status": status,
        "snapshot": record.snapshot,
        "dry_run": record.dry_run,
        "valid_only": record.valid_only,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "counts": counts,
        "issues_total": len(issues),
        "issues": [
            {
                "row": i.row,
                "column": i.column,
                # Control characters shown as their pictures: the report is read, not parsed.
                "value": None if i.value is None else visible(str(i.value)[:REPORT_VALUE]),
                "code": i.code,
                "error": i.error,
                "message": {"fr": describe(i, "fr"), "en": describe(i, "en")},
            }
            for i in ordered[:REPORT_ISSUES]
        ],
    }


def load_report(record: ListingImport) -> dict | None:
    if not record.report_key:
        return None
    storage = get_storage().for_tenant(require_tenant().slug)
    return json.loads(storage.get(record.report_key))


REPORT_COLUMNS = {
    "fr": ("Ligne", "Colonne", "Valeur", "Gravité", "Code", "Message"),
    "en": ("Row", "Column", "Value", "Severity", "Code", "Message"),
}
SEVERITY = {True: ("erreur", "error"), False: ("avertissement", "warning")}


def report_csv(report: dict, locale: str = "fr") -> bytes:
    """The report's issues as a CSV a French spreadsheet opens right: UTF-8 with BOM, `;`,
    every cell neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(pick(REPORT_COLUMNS["fr"], REPORT_COLUMNS["en"], locale))
    for issue in report["issues"]:
        message = pick(issue["message"]["fr"], issue["message"]["en"], locale)
        writer.writerow(
            neutralise(cell)
            for cell in (
                issue["row"] or "",
                issue["column"] or "",
                issue["value"] or "",
                pick(*SEVERITY[bool(issue["error"])], locale),
                issue["code"],
                message,
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
