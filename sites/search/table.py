"""The table of a search's cells for the page without JavaScript: sorted, paged, labelled."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.inputs import bounded_int
from core.tenancy import TenantRef
from ingest.reference.criteria import CRITERIA
from sites.search import layer
from sites.search.engine import STATUS_NAMES, Result
from sites.search.form import UNITS

PAGE_SIZE = 100
SORTS = ("status", "score", "commune")
#: By a status's one-character code (the first letter of its name).
STATUS_LABELS = {
    "g": _l("All must-haves met"),
    "o": _l("One must-have missing"),
    "y": _l("Several must-haves missing"),
}
_RANK = {name[0]: i for i, name in enumerate(STATUS_NAMES)}


@dataclass
class TableRow:
    cell: str
    commune: str
    status: str  # g / o / y
    score: float | None
    failed: list[dict]


def table_rows(tenant: TenantRef, result: Result, sort: str, descending: bool) -> list[TableRow]:
    names = layer.cell_commune_names(tenant)
    rows = [
        TableRow(
            cell=c["id"],
            commune=names.get(c["id"], ""),
            status=c["status"][0],
            score=c.get("score"),
            failed=c.get("failed") or [],
        )
        for c in result.full()["cells"]
    ]
    if sort == "commune":
        rows.sort(key=lambda r: (r.commune.casefold(), r.cell), reverse=descending)
    elif sort == "score":
        rows.sort(key=lambda r: (r.score or 0, -_RANK[r.status]), reverse=descending)
    else:  # status: green first, then the best scores
        rows.sort(key=lambda r: (_RANK[r.status], -(r.score or 0), r.cell), reverse=descending)
    return rows


def _table_state(args) -> tuple[str, bool, int]:
    """Sort as `score` (ascending) or `-score` (descending), and the page number."""
    # The table's own form repeats the current sort; a sort button's value comes last.
    raw = (args.getlist("sort") or ["status"])[-1]
    descending = raw.startswith("-")
    sort = raw.lstrip("-")
    if sort not in SORTS:
        sort, descending = "status", False
    page = max(1, args.get("page", 1, type=bounded_int) or 1)
    return sort, descending, page


def table_context(tenant: TenantRef, result: Result | None, args) -> dict:
    """The page of rows the request's query string asks for, and how to reach the others."""
    sort, descending, page = _table_state(args)
    rows = table_rows(tenant, result, sort, descending) if result is not None else []
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    return {
        "rows": rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "row_count": len(rows),
        "sort": sort,
        "descending": descending,
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1,
    }


def value_units() -> dict[str, str]:
    """Units written after a value in the table (a count needs none)."""
    return {c.id: str(UNITS[c.unit]) for c in CRITERIA if c.unit in UNITS and c.unit != "count"}
