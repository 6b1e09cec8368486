"""Leads the national portal routes to its partners: a signed-in person whose address is
confirmed and whose France-wide search is precise — at most 200 green squares over France, the
proposal's rule for the national platform — becomes a contact of each partner territory holding
some of them, written in that partner's own schema with the same records and consent rules as
its own site's (marked as coming from the portal). A search that is not precise records
nothing. Opening a partner's green square of such a search makes them that partner's prospect.
Each partner is written on its own and a failure never costs the visitor the search."""

from __future__ import annotations

import logging

from flask_login import current_user

from core.fanout import write_in
from sites.leads.capture import record_portal_click, record_portal_search
from sites.portal.partners import holding
from sites.search import national

log = logging.getLogger("vivrau.leads")


def record_national_search(query, result) -> dict[str, int]:
    """After a national search: the events written per partner slug (none when it is not
    precise, or the person is not signed in with a confirmed address)."""
    if not current_user.is_authenticated or not current_user.is_verified:
        return {}
    if not result.precise or not result.counts.get("green"):
        return {}
    account_id, cells = current_user.id, result.green_cells()
    written = {}
    for held in holding(result):
        partner = held.partner.territory
        try:
            written[partner.slug] = write_in(
                partner, lambda: record_portal_search(account_id, query, cells)
            )
        except Exception:  # noqa: BLE001 - logged; the other partners and the search go on
            log.exception("portal lead capture failed in %s", partner.slug)
    return written


def record_national_click(query, cell_id: str, evaluation: dict, partners) -> dict[str, int]:
    """After a person opened a square on the portal: prospect of each partner holding it, when
    it is green for a precise national search and their address is confirmed."""
    if not current_user.is_authenticated or not current_user.is_verified:
        return {}
    if evaluation.get("status") != "green" or not partners:
        return {}
    if not national.national_search(query).precise:
        return {}
    account_id = current_user.id
    codes = [c["insee"] for c in evaluation.get("communes", ()) if c.get("insee")]
    written = {}
    for partner in partners:
        try:
            written[partner.slug] = write_in(
                partner, lambda: record_portal_click(account_id, query, cell_id, codes)
            )
        except Exception:  # noqa: BLE001 - logged; the other partners and the answer go on
            log.exception("portal prospect capture failed in %s", partner.slug)
    return written
