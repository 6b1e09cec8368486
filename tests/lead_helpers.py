"""What the leads' tests share: cells at sea, the criterion searched, leads written directly, the
console's CSV read back."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from core import grid
from core.auth.models import Account
from core.extensions import db
from core.tenancy import tenant_scope
from sites.leads.models import Lead, LeadEvent

N0, E0 = 1_200_000, 1_200_000  # at sea, far from any real cell of the other tests


def cell(i: int) -> str:
    return grid.format_ids([N0 + 1000 * (i // 100)], [E0 + 1000 * (i % 100)]).tolist()[0]


#: "Contact n° 12" in French, "Contact no. 12" in English.
PSEUDONYM = re.compile(r"Contact n(?:°|o\.) \d+")
GP_10 = {"criteria": [{"id": "gp_km", "threshold": 10, "importance": "must"}]}


def account_id(app, email: str) -> int:
    with app.app_context():
        found = db.session.execute(
            select(Account.id).where(Account.email.ilike(email))
        ).scalar_one()
        db.session.rollback()
        return found


def add_lead(app, ref, person: int, commune: str, stage="contact", budget=None, criteria=None):
    """A lead written directly (console tests need no search)."""
    with app.app_context(), tenant_scope(ref):
        lead = Lead(account_id=person, commune_insee=commune, stage=stage)
        if stage == "prospect":
            lead.prospect_at = db.func.now()
        db.session.add(lead)
        db.session.flush()
        db.session.add(
            LeadEvent(
                lead_id=lead.id,
                kind="search",
                cells=[cell(0)],
                criteria=criteria or GP_10,
                budget=budget,
            )
        )
        db.session.commit()


def add_message(app, ref, person: int, commune: str, title: str = "Maison de bourg"):
    """A message to an advertiser by `person` about a listing in `commune` (an event
    `contact`, as the listing's contact form records it)."""
    with app.app_context(), tenant_scope(ref):
        lead = db.session.execute(
            select(Lead).where(Lead.account_id == person, Lead.commune_insee == commune)
        ).scalar_one()
        listing = {"kind": "real_estate", "external_id": "M1", "title": title}
        db.session.add(
            LeadEvent(
                lead_id=lead.id, kind="contact", cells=[cell(0)], criteria={"listing": listing}
            )
        )
        db.session.commit()


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
