"""The bulk upsert: listings of any kinds saved in one go, one result per item."""

from __future__ import annotations

from flask_babel import gettext as _

from ingest.listings.declaration import KINDS
from ingest.listings.service import Saved, contract_errors, validate, write_apart

#: Items per bulk request; a larger batch is refused whole (413) rather than cut.
BULK_MAX = 1000
#: The store's action on a listing, as a bulk result's status.
ACTIONS = {"create": "created", "update": "updated", "unchanged": "unchanged"}
RESULT_STATUSES = (*ACTIONS.values(), "error")


def contract_errors_of(items: list) -> dict[str, list[str]]:
    """Where the items break the OpenAPI document, as `items[3].price`: an object with one of
    the kinds, and that kind's fields only, of the right types and within their bounds."""
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            errors[where] = [_("A JSON object is expected.")]
            continue
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            errors[f"{where}.kind"] = [_("One of: %(choices)s.", choices=", ".join(KINDS))]
            continue
        fields = {k: v for k, v in item.items() if k != "kind"}
        for name, messages in contract_errors(kind, fields).items():
            errors[f"{where}.{name}"] = messages
    return errors


def save_items(items: list[dict], *, api_key_id: int) -> dict:
    """Save items that keep to the document (`contract_errors_of`), kind by kind: those the
    territory's rules refuse (unknown commune, outside the territory, a SIRET's check digits,
    the same identifier twice) are reported with their errors and change nothing. The answer's
    `summary` counts each status, `results` follow the items' order."""
    results: list[dict] = []
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        results.append({"index": index, "kind": item["kind"], "external_id": item["external_id"]})
        groups.setdefault(item["kind"], []).append(index)
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
    """Per item of one kind: (status, listing id or errors)."""
    saved = write_apart(kind, validate(kind, batch), source="api", api_key_id=api_key_id)
    answers: dict[int, tuple[str, object]] = {i: ("error", e) for i, e in saved.errors.items()}
    for local in saved.records:
        answers[local] = _written(saved, local)
    return answers


def _written(saved: Saved, local: int) -> tuple[str, int]:
    listing_id, action = saved.outcome.results[saved.records[local]["external_id"]]
    return ACTIONS[action], listing_id
