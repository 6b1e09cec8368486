"""The bulk upsert: listings of any kinds saved in one go, one result per item."""

from __future__ import annotations

from flask_babel import gettext as _

from ingest.listings.declaration import KINDS
from ingest.listings.service import save

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
        saved = save(kind, batch, source="api", api_key_id=api_key_id)
        for local, errors in saved.errors.items():
            results[indices[local]] |= {"status": "error", "errors": errors}
        for local, record in saved.records.items():
            listing_id, action = saved.outcome.results[record["external_id"]]
            results[indices[local]] |= {"id": listing_id, "status": ACTIONS[action]}
    summary = dict.fromkeys(RESULT_STATUSES, 0)
    for result in results:
        summary[result["status"]] += 1
    return {"summary": summary, "results": results}
