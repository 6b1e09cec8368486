"""The bulk upsert: listings of any kinds saved in one go, one result per item."""

from __future__ import annotations

from flask_babel import gettext as _

from core.problems import ApiProblem
from ingest.listings.declaration import KINDS
from ingest.listings.service import Saved, validate, write_apart

#: Items per bulk request; a larger batch is refused whole (413) rather than cut.
BULK_MAX = 1000
#: The store's action on a listing, as a bulk result's status.
ACTIONS = {"create": "created", "update": "updated", "unchanged": "unchanged"}
RESULT_STATUSES = (*ACTIONS.values(), "error")


def save_items(items: list, *, api_key_id: int) -> dict:
    """Save the items kind by kind, all or none of them checked first.

    An item that breaks the OpenAPI document (not an object, no or an unknown kind, a field
    unknown to its kind, of the wrong type or out of bounds) refuses the request: a 422 naming
    each as `items[3].price`, nothing written. Items the territory's rules refuse (unknown
    commune, outside the territory, a SIRET's check digits, the same identifier twice) are
    reported with their errors and change nothing; the others are written. The answer's
    `summary` counts each status, `results` follow the items' order."""
    errors: dict[str, list[str]] = {}
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"items[{index}]"] = [_("A JSON object is expected.")]
        elif not isinstance(item.get("kind"), str) or item["kind"] not in KINDS:
            errors[f"items[{index}].kind"] = [_("One of: %(choices)s.", choices=", ".join(KINDS))]
        else:
            groups.setdefault(item["kind"], []).append(index)
    checked = {}
    for kind, indices in groups.items():
        checked[kind] = validate(kind, [_fields(items[i]) for i in indices])
        for local, broken in checked[kind].broken.items():
            for name, messages in broken.items():
                errors[f"items[{indices[local]}].{name}"] = messages
    if errors:
        raise ApiProblem(422, _("Some values are invalid: see errors."), errors=errors)
    results = [
        {"index": i, "kind": item["kind"], "external_id": item["external_id"]}
        for i, item in enumerate(items)
    ]
    for kind, indices in groups.items():
        saved = write_apart(kind, checked[kind], source="api", api_key_id=api_key_id)
        for local, item_errors in saved.errors.items():
            results[indices[local]] |= {"status": "error", "errors": item_errors}
        for local in saved.records:
            status, listing_id = _written(saved, local)
            results[indices[local]] |= {"status": status, "id": listing_id}
    summary = dict.fromkeys(RESULT_STATUSES, 0)
    for result in results:
        summary[result["status"]] += 1
    return {"summary": summary, "results": results}


def _fields(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "kind"}


def _written(saved: Saved, local: int) -> tuple[str, int]:
    listing_id, action = saved.outcome.results[saved.records[local]["external_id"]]
    return ACTIONS[action], listing_id
