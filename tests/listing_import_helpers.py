"""What the normed-file imports' tests share: files written here, the listings a reader sees, an
import's report, and a territory with two listings imported."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from core.extensions import db
from core.storage import get_storage
from core.tenancy import require_tenant, tenant_scope
from ingest.listings.imports import submit
from ingest.listings.models import Listing, ListingImport

HEADER = [
    "external_id",
    "title",
    "commune_insee",
    "postcode",
    "latitude",
    "longitude",
    "transaction",
    "property_type",
    "price",
    "living_area_m2",
    "rooms",
    "energy_class",
    "published_on",
    "expires_on",
    "description",
]


def house(external_id: str, **over) -> dict:
    return {
        "external_id": external_id,
        "title": "Maison de bourg avec jardin",
        "commune_insee": "15187",
        "postcode": "15100",
        "latitude": "45.0337",
        "longitude": "3.0928",
        "transaction": "sale",
        "property_type": "house",
        "price": "149 000",
        "living_area_m2": "110",
        "rooms": "5",
        "energy_class": "D",
        "published_on": "02/11/2026",
        "expires_on": "2027-02-28",
        "description": "",
    } | over


def csv_file(rows, header=HEADER, delimiter=";", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(name, "") for name in header])
    return out.getvalue().encode(encoding)


BASELINE = [house("R-1"), house("R-2", commune_insee="15014", latitude="", longitude="")]
#: A territory holding BASELINE's two communes, Saint-Flour and Aurillac: the Cantal.
BASELINE_TERRITORY = {"kind": "departement", "code": "15"}


def state() -> dict[str, tuple]:
    """What a reader sees of the territory's listings."""
    rows = db.session.execute(
        select(Listing.external_id, Listing.status, Listing.price, Listing.title, Listing.cell_id)
    ).all()
    db.session.rollback()
    return {r[0]: tuple(r[1:]) for r in rows}


def report_of(record: ListingImport) -> dict:
    return json.loads(get_storage().for_tenant(require_tenant().slug).get(record.report_key))


def issues_of(record: ListingImport) -> list[dict]:
    return report_of(record)["issues"]


@pytest.fixture
def territory(ctx, cantal, make_tenant):
    ref = make_tenant(**BASELINE_TERRITORY)
    with tenant_scope(ref):
        baseline = submit("real_estate", csv_file(BASELINE), "base.csv")
        assert baseline.status == "done" and baseline.created == 2
        yield ref
