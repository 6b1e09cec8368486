"""The bulk upsert: listings of any kinds saved in one go, one result per item."""

from __future__ import annotations

import logging

import psycopg
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from core.extensions import db
from ingest.listings.declaration import KINDS
from ingest.listings.service import Saved, validate, write

log = logging.getLogger(__name__)
#: A write the database refused: through SQLAlchemy, or the staging COPY on the raw connection.
REFUSED = (DBAPIError, psycopg.Error)

#: Items per bulk request; a larger batch is refused whole (413) rather than cut.
BULK_MAX = 1000
#: The store's action on a listing, as a bulk result's status.
ACTIONS = {"create": "created", "update": "updated", "unchanged": "unchanged"}
RESULT_STATUSES = (*ACTIONS.values(), "error")


def save_items(items: list, *, api_key_id: int) -> dict:
    """Save the valid items, kind by kind; the others are reported with their errors and change
    nothing. The answer's `summary` counts each status, `results` follow the items' order."""
    results: list[dict] = []
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        external_id = item.get("external_id") if isinstance(item, dict) else None
        result = {
            "index": index,
            "kind": kind if isinstance(kind, str) else None,
            "external_id": external_id if isinstance(external_id, str) else None,
        }
        if not isinstance(item, dict):
            result |= {"status": "error", "errors": {"_schema": [_("A JSON object is expected.")]}}
        elif kind not in KINDS:
            message = _("One of: %(choices)s.", choices=", ".join(KINDS))
            result |= {"status": "error", "errors": {"kind": [message]}}
        else:
            groups.setdefault(kind, []).append(index)
        results.append(result)
    for kind, indices in groups.items():
        batch = [{k: v for k, v in items[i].items() if k != "kind"} for i in indices]
        for local, (status, detail) in _save_kind(kind, batch, api_key_id).items():
            key = "errors" if status == "error" else "id"
            results[indices[local]] |= {"status": status, key: detail}
    summary = dict.fromkeys(RESULT_STATUSES, 0)
    for result in results:
        summary[result["status"]] += 1
    return {"summary": summary, "results": results}


def _save_kind(kind: str, batch: list[dict], api_key_id: int) -> dict[int, tuple[str, object]]:
    """Per item of one kind: (status, listing id or errors). Validation names each refused
    field; should the database still refuse the batch, each item is tried alone, so that one
    item loses only itself."""
    saved = validate(kind, batch)
    answers: dict[int, tuple[str, object]] = {i: ("error", e) for i, e in saved.errors.items()}
    try:
        with db.session.begin_nested():
            write(kind, saved, source="api", api_key_id=api_key_id)
    except REFUSED:
        for local, record in saved.records.items():
            alone = Saved(records={local: record})
            try:
                with db.session.begin_nested():
                    write(kind, alone, source="api", api_key_id=api_key_id)
            except REFUSED as error:
                log.warning("bulk item refused by the database: %s", getattr(error, "orig", error))
                answers[local] = ("error", {"_schema": [_("The database refused this item.")]})
            else:
                answers[local] = _written(alone, local)
        return answers
    for local in saved.records:
        answers[local] = _written(saved, local)
    return answers


def _written(saved: Saved, local: int) -> tuple[str, int]:
    listing_id, action = saved.outcome.results[saved.records[local]["external_id"]]
    return ACTIONS[action], listing_id
