"""Lead capture, called by the search API for signed-in people: a precise search that makes some
cells green makes the person a contact of those cells' communes; opening one of their green
cells makes them a prospect of its commune(s).

An unconfirmed address records nothing, as an anonymous visitor: anyone can register with
someone else's address, and no territory may hold a person who has not proven theirs.

Each capture is one statement in the request's territory (the communes are looked up in its
territory_cells, an umbrella's holding its members' communes) and never breaks the search: a
failure is logged and the answer goes out as usual.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from flask_login import current_user
from sqlalchemy import Numeric, String, exists, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.extensions import db
from core.signals import announce, lead_gained
from core.tenancy import require_tenant
from ingest.reference.territory import TerritoryCell
from sites.leads.models import Lead, LeadEvent
from sites.search import engine

log = logging.getLogger("vivrau.leads")
REPEAT_WINDOW = timedelta(minutes=30)


def _snapshot(query) -> tuple[dict, Decimal | None]:
    """The search as sent (criteria, household, budget) and the budget as a decimal."""
    data = query.as_json()
    budget = data.get("budget")
    return data, (Decimal(str(budget)).quantize(Decimal("0.01")) if budget is not None else None)


def _capture(account_id: int, per, kind: str, query, origin: str = "site") -> int:
    """Upsert the leads of the communes in `per` (commune, cells) and log one event each;
    `origin`: the territory's own site or the national portal. A person who becomes the
    territory's contact, or prospect, for the first time is announced (`lead_gained`)."""
    stage = "prospect" if kind == "click" else "contact"
    gained = _first_time(account_id, stage)
    written = _write(account_id, per, kind, query, origin)
    if written and gained:
        announce(lead_gained, require_tenant(), stage=stage, origin=origin)
    return written


def _first_time(account_id: int, stage: str) -> bool:
    """Is the person not yet the bound territory's `stage` (a prospect is a contact too)?"""
    held = select(Lead.id).where(Lead.account_id == account_id)
    if stage == "prospect":
        held = held.where(Lead.stage == "prospect")
    return not db.session.scalar(select(exists(held)))


def _write(account_id: int, per, kind: str, query, origin: str) -> int:
    snapshot, budget = _snapshot(query)
    values = select(
        literal(account_id).label("account_id"), per.c.commune, literal(origin).label("origin")
    )
    insert_leads = pg_insert(Lead).from_select(["account_id", "commune_insee", "origin"], values)
    changes = {"last_seen_at": func.now()}
    if kind == "click":
        insert_leads = pg_insert(Lead).from_select(
            ["account_id", "commune_insee", "origin", "stage", "prospect_at"],
            select(
                literal(account_id).label("account_id"),
                per.c.commune,
                literal(origin).label("origin"),
                literal("prospect").label("stage"),
                func.now().label("prospect_at"),
            ),
        )
        changes |= {
            "stage": "prospect",
            "prospect_at": func.coalesce(Lead.prospect_at, func.now()),
        }
    leads = (
        insert_leads.on_conflict_do_update(
            index_elements=[Lead.account_id, Lead.commune_insee], set_=changes
        )
        .returning(Lead.id, Lead.commune_insee)
        .cte("upserted")
    )
    criteria = literal(snapshot, JSONB)
    # The same search (or click) again within REPEAT_WINDOW — a reload, the map asking twice —
    # keeps the lead fresh but logs no new event: the console counts searches, not requests.
    seen = LeadEvent.__table__.alias("seen")
    repeated = exists().where(
        seen.c.lead_id == leads.c.id,
        seen.c.kind == kind,
        seen.c.cells == per.c.cells,
        seen.c.criteria == criteria,
        seen.c.at > func.now() - REPEAT_WINDOW,
    )
    statement = insert(LeadEvent).from_select(
        ["lead_id", "kind", "cells", "criteria", "budget", "origin"],
        select(
            leads.c.id,
            literal(kind),
            per.c.cells,
            criteria,
            literal(budget, Numeric(12, 2)),
            literal(origin),
        )
        .join(per, per.c.commune == leads.c.commune_insee)
        .where(~repeated),
    )
    return db.session.execute(statement).rowcount


def _cells_by_commune(cells: list[str], communes: list[str] = ()):
    """(commune, its cells among `cells`) in the bound territory. With `communes` (a clicked
    cell's), the territory's communes among them get the same cells too: a cell on a border
    concerns both towns."""
    where = TerritoryCell.cell_id.in_(cells)
    if communes:
        found = (
            select(TerritoryCell.commune_insee.label("commune"))
            .where(or_(where, TerritoryCell.commune_insee.in_(list(communes))))
            .where(TerritoryCell.commune_insee.is_not(None))
            .distinct()
            .subquery("found")
        )
        cell_array = literal(sorted(cells), ARRAY(String(40)))
        return select(found.c.commune, cell_array.label("cells")).cte("per")
    ordered = aggregate_order_by(TerritoryCell.cell_id, TerritoryCell.cell_id)
    return (
        select(
            TerritoryCell.commune_insee.label("commune"),
            func.array_agg(ordered).label("cells"),
        )
        .where(where, TerritoryCell.commune_insee.is_not(None))
        .group_by(TerritoryCell.commune_insee)
        .cte("per")
    )


def _run(what: str, work) -> int:
    """Capture inside a savepoint: a failure undoes the capture alone, and the request's commit
    point keeps the rest — a lost lead must never cost the visitor their search."""
    try:
        require_tenant()
        with db.session.begin_nested():
            return work()
    except Exception:  # noqa: BLE001 - logged, the search goes on
        log.exception("lead capture failed (%s)", what)
        return 0


def record_search(query, result) -> int:
    """After a signed-in person's search: contact of each commune with green cells, when the
    search is precise and their address confirmed. Returns the number of events written."""
    if not current_user.is_verified or not result.precise or not result.counts.get("green"):
        return 0
    account_id = current_user.id
    cells = result.green_cells()
    return _run("search", lambda: _capture(account_id, _cells_by_commune(cells), "search", query))


def record_click(query, cell_id: str, evaluation: dict) -> int:
    """After a signed-in person opened a cell: prospect of its commune(s) when it is green for
    their search and that search is precise (a lead needs a precise search), their address
    confirmed."""
    if not current_user.is_verified or evaluation.get("status") != "green":
        return 0
    account_id = current_user.id
    codes = [c["insee"] for c in evaluation.get("communes", ()) if c.get("insee")]

    def work():
        if not engine.score(require_tenant(), query).precise:
            return 0
        # The cell's main commune and, among the others it overlaps, the territory's own.
        return _capture(account_id, _cells_by_commune([cell_id], codes), "click", query)

    return _run("click", work)


def record_portal_search(account_id: int, query, cells: list[str]) -> int:
    """In the bound partner territory: the national portal's precise search made `cells` green
    over France; the person becomes a contact of the partner's communes holding some of them
    (the caller checked the search and the person, and binds each partner in turn)."""
    return _capture(account_id, _cells_by_commune(cells), "search", query, origin="portal")


def record_portal_click(account_id: int, query, cell_id: str, communes: list[str]) -> int:
    """In the bound partner territory: the person opened one of its green cells on the
    portal; prospect of the commune(s) it concerns."""
    return _capture(account_id, _cells_by_commune([cell_id], communes), "click", query, "portal")
