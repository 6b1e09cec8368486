"""The table of a search's cells for the page without JavaScript: sorted, paged, labelled, with
the values of the few criteria that tell this search's cells apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from core.inputs import bounded_int
from core.tenancy import TenantRef
from sites.search import layer, values
from sites.search.advice import telling
from sites.search.engine import STATUS_NAMES, Result, _passes, _rows, label_of
from sites.search.form import bound_of

PAGE_SIZE = 100
SORTS = ("status", "score", "commune")
#: By a status's one-character code (the first letter of its name).
STATUS_LABELS = {
    "g": _l("All must-haves met"),
    "o": _l("One must-have missing"),
    "y": _l("Several must-haves missing"),
}


@dataclass
class Shown:
    """One criterion's value in a cell, as the table shows it."""

    id: str
    label: str
    text: str  # "" when unknown
    bound: str  # "at most" / "at least"
    threshold: str
    ok: bool


@dataclass
class TableRow:
    cell: str
    commune: str
    status: str  # g / o / y
    score: float | None
    values: list[Shown] = field(default_factory=list)  # the telling criteria's, in column order
    failed: list[Shown] = field(default_factory=list)  # missed must-haves not among the columns


@dataclass
class Column:
    """A telling criterion: its name and what was asked ("at most" "10 km")."""

    id: str
    label: str
    importance: str
    bound: str
    threshold: str


def _order(result: Result, names: list[str], sort: str, descending: bool):
    """Cell positions in the asked order; ties stay in id order (the matrix's)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    n = result.total
    scores = result.scores if result.scores is not None else np.zeros(n, "float32")
    index = np.arange(n)
    if sort == "commune":
        order = sorted(range(n), key=lambda i: names[i].casefold())
        return order[::-1] if descending else order
    if sort == "score":
        if descending:  # best first: highest score, then green first
            return np.lexsort((index, result.fails, -scores)).tolist()
        return np.lexsort((index, -result.fails.astype("int16"), scores)).tolist()
    order = result.order().tolist()  # status: green first, then the best scores
    return order[::-1] if descending else order


def _shown(result: Result, wanted, row, i: int) -> Shown:
    c = wanted.criterion
    threshold = result.query.threshold_of(wanted)
    return Shown(
        id=wanted.id,
        label=label_of(c),
        text=values.text(c, row[i]),
        bound=bound_of(c),
        threshold=values.threshold_text(c, threshold),
        ok=bool(_passes(row[i : i + 1], c, threshold)[0]),
    )


def page_rows(tenant: TenantRef, result: Result, positions: list[int], columns) -> list[TableRow]:
    """The rows of these cell positions: their commune, status, score, the columns' values and
    the must-haves they miss besides (a page is at most PAGE_SIZE rows)."""
    m, query = result.matrix, result.query
    names = layer.cell_commune_names(tenant)
    shown_ids = {c.id for c in columns}
    asked = {w.id: w for w in query.criteria}
    wanted = [asked[c.id] for c in columns] + [w for w in query.must if w.id not in shown_ids]
    ids = [w.id for w in wanted]
    rows_of = dict(zip(ids, _rows(m, query, ids), strict=True))
    scores = result.scores
    out = []
    for i in positions:
        cell = str(m.ids[i])
        row = TableRow(
            cell=cell,
            commune=names.get(cell, ""),
            status=STATUS_NAMES[int(result.fails[i])][0],
            score=round(float(scores[i]), 3) if scores is not None else None,
        )
        row.values = [_shown(result, asked[c.id], rows_of[c.id], i) for c in columns]
        for w in query.must:
            if w.id not in shown_ids:
                one = _shown(result, w, rows_of[w.id], i)
                if not one.ok:
                    row.failed.append(one)
        out.append(row)
    return out


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
    count = result.total if result is not None else 0
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(page, pages)
    rows, columns, others = [], [], False
    if result is not None and count:
        columns = [
            Column(
                w.id,
                label_of(w.criterion),
                w.importance,
                bound_of(w.criterion),
                values.threshold_text(w.criterion, result.query.threshold_of(w)),
            )
            for w in telling(result)
        ]
        # The column of missed must-haves only when some are not value columns already.
        others = any(w.id not in {c.id for c in columns} for w in result.query.must)
        names = layer.cell_commune_names(tenant)
        ordered = [names.get(c, "") for c in result.matrix.ids.tolist()]
        positions = _order(result, ordered, sort, descending)
        shown = positions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        rows = page_rows(tenant, result, shown, columns)
    return {
        "rows": rows,
        "columns": columns,
        "others": others or not columns,
        "row_count": count,
        "sort": sort,
        "descending": descending,
        "page": page,
        "pages": pages,
        "first": (page - 1) * PAGE_SIZE + 1,
    }
