"""The one write path of listings: located, upserted in one statement, logged, idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings import store
from ingest.listings.models import Listing, ListingEvent
from ingest.listings.rules import locate
from ingest.listings.service import as_input, save
from ingest.listings.store import upsert
from tests.listing_api_helpers import house as valid_house


def house(external_id="R-1", **over):
    """The API's valid house, its numbers typed as the store receives them."""
    typed = valid_house(
        external_id,
        price=Decimal("149000"),
        latitude=Decimal("45.0337"),
        longitude=Decimal("3.0928"),
    )
    return typed | over


def write(records, **kw):
    problems = locate(db.session, records)
    assert problems == []
    outcome = upsert(db.session, "real_estate", records, source="api", **kw)
    db.session.commit()
    return outcome


def test_upsert_creates_then_changes_nothing_then_updates_and_logs(ctx, cantal, make_tenant):
    ref = make_tenant()
    with tenant_scope(ref):
        first = write([house(), house("R-2", latitude=None, longitude=None)])
        assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
        again = write([house(), house("R-2", latitude=None, longitude=None)])
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        changed = write(
            [house(price=Decimal("139000")), house("R-2", latitude=None, longitude=None)]
        )
        assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
        listings = {x.external_id: x for x in db.session.execute(select(Listing)).scalars()}
        assert listings["R-1"].price == Decimal("139000") and listings["R-1"].status == "published"
        assert listings["R-1"].cell_id and not listings["R-1"].location_approximate
        assert listings["R-2"].location_approximate and listings["R-2"].cell_id
        events = db.session.execute(select(ListingEvent).order_by(ListingEvent.id)).scalars().all()
        assert [e.action for e in events] == ["create", "create", "update"]
        assert events[-1].changes == {"price": ["149000", "139000"]}
        gone = upsert(db.session, "real_estate", [house()], source="file", snapshot=True)
        db.session.commit()
        assert gone.unpublished == 1
        assert db.session.get(Listing, listings["R-2"].id).status == "unpublished"


def test_locate_reports_unknown_communes_and_points_at_sea(ctx, cantal, make_tenant):
    ref = make_tenant()
    with tenant_scope(ref):
        records = [
            house(commune_insee="99999"),
            house("R-2", latitude=Decimal("45.5"), longitude=Decimal("-3.0")),  # Bay of Biscay
            house(
                "R-3",
                latitude=None,
                longitude=None,
                lambert_x=Decimal("707308"),
                lambert_y=Decimal("6437166"),
            ),
            house("R-4", latitude=Decimal("45.0")),
        ]
        records[3]["longitude"] = None
        found = {(p.index, p.code) for p in locate(db.session, records)}
        assert found == {(0, "unknown_commune"), (1, "far_from_commune"), (3, "half_coordinates")}
        assert records[2]["cell_id"] and abs(records[2]["_lat"] - 45.03) < 0.2
        db.session.rollback()


def test_api_and_form_share_one_validation(ctx, cantal, make_tenant):
    ref = make_tenant()
    item = {
        "external_id": "J-1",
        "title": "Boulanger",
        "commune_insee": "15187",
        "rome_code": "D1102",
        "contract_type": "CDI",
        "positions": 2,
    }
    with tenant_scope(ref):
        bad = save(
            "job",
            [
                item | {"positions": "2", "colour": "red"},  # a string where JSON wants a number
                item | {"external_id": "J-2", "siret": "73282932000075", "contract_type": "CDX"},
                item | {"external_id": "J-3", "commune_insee": "99999"},
            ],
            source="api",
        )
        assert set(bad.errors[0]) == {"positions", "colour"}
        assert set(bad.errors[1]) == {"siret", "contract_type"}
        assert set(bad.errors[2]) == {"commune_insee"}
        assert bad.outcome.created == 0
        form = {k: str(v) for k, v in item.items()} | {"full_time": "on", "latitude": ""}
        form = {k: (v or None) for k, v in form.items()}
        ok = save("job", [form], source="manual", strict=False)
        db.session.commit()
        assert ok.errors == {} and ok.outcome.created == 1
        listing = db.session.execute(select(Listing)).scalar_one()
        assert listing.full_time is True and listing.location_approximate
        assert as_input(listing)["positions"] == 2 and "latitude" not in as_input(listing)


def test_a_big_batch_is_counted_logged_and_announced_like_a_small_one(
    ctx, cantal, make_tenant, monkeypatch
):
    """Past TRACKED_BATCH the upsert only counts (set-based, its log written in SQL): the same
    created / updated / unchanged, one event per change, the newly published ids announced."""
    monkeypatch.setattr(store, "TRACKED_BATCH", 2)
    announced = []
    monkeypatch.setattr(store, "announce_written", announced.append)
    ref = make_tenant()
    with tenant_scope(ref):
        batch = [house(f"R-{i}") for i in range(4)]
        batch[3]["status"] = "draft"
        first = write([dict(r) for r in batch])
        assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
        ids = dict(db.session.execute(select(Listing.external_id, Listing.id)).all())
        assert announced[-1] == sorted(ids[f"R-{i}"] for i in range(3))
        batch[0]["price"] = Decimal("1000")
        batch[3]["status"] = "published"  # a draft published: announced again
        again = write([dict(r) for r in batch])
        assert (again.created, again.updated, again.unchanged) == (0, 2, 2)
        assert announced[-1] == [ids["R-3"]]
        events = db.session.execute(
            select(ListingEvent.action, func.count()).group_by(ListingEvent.action)
        ).all()
        assert dict(events) == {"create": 4, "update": 2}


def test_a_big_batch_s_new_listings_go_in_by_copy_and_existing_ones_by_the_upsert(
    ctx, cantal, make_tenant, monkeypatch
):
    """New listings of a big batch are copied straight into the table, those that exist take
    the upsert: the same rows, counts, log and announcements as one upsert of them all, and the
    snapshot still unpublishes only what the file left out."""
    monkeypatch.setattr(store, "TRACKED_BATCH", 2)
    announced = []
    monkeypatch.setattr(store, "announce_written", announced.append)
    copied = []
    insert = store.fresh.insert
    monkeypatch.setattr(
        store.fresh,
        "insert",
        lambda c, k, r, *a, **kw: copied.append(len(r)) or insert(c, k, r, *a, **kw),
    )
    ref = make_tenant()
    with tenant_scope(ref):
        write([house("R-0"), house("R-1"), house("R-9")])
        ids = dict(db.session.execute(select(Listing.external_id, Listing.id)).all())
        batch = [house("R-0", price=Decimal("99000")), house("R-1")]
        batch += [house("R-2", latitude=None, longitude=None), house("R-3", status="draft")]
        batch += [house("R-4", description="a\tb\\N")]
        outcome = write(batch, snapshot=True)
        assert copied == [3, 3]  # the first write's three, then
        assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 1, 1)
        assert outcome.unpublished == 1  # R-9, absent from the file
        rows = {x.external_id: x for x in db.session.execute(select(Listing)).scalars()}
        assert rows["R-0"].id == ids["R-0"] and rows["R-0"].price == Decimal("99000")
        assert rows["R-9"].status == "unpublished" and rows["R-3"].status == "draft"
        assert rows["R-2"].location_approximate and rows["R-2"].cell_id and rows["R-2"].geom
        assert not rows["R-4"].location_approximate and rows["R-4"].cell_id == rows["R-1"].cell_id
        assert rows["R-4"].description == "a\tb\\N" and rows["R-4"].source == "api"
        assert announced[-1] == [rows["R-2"].id, rows["R-4"].id]
        events = db.session.execute(
            select(ListingEvent.external_id, ListingEvent.action).order_by(ListingEvent.id)
        ).all()
        assert [tuple(e) for e in events[3:]] == [
            ("R-2", "create"), ("R-3", "create"), ("R-4", "create"),
            ("R-0", "update"), ("R-9", "unpublish"),
        ]  # fmt: skip


def test_a_listing_created_meanwhile_sends_the_batch_back_to_the_upsert(
    ctx, cantal, make_tenant, monkeypatch
):
    """Another writer created one of the 'new' listings between the check and the COPY: the
    copy is undone (nothing of it kept) and the whole batch upserted."""
    monkeypatch.setattr(store, "TRACKED_BATCH", 2)
    ref = make_tenant()
    with tenant_scope(ref):
        write([house("R-1")])
        monkeypatch.setattr(
            store.fresh, "new_ones", lambda c, k, records: list(range(len(records)))
        )
        outcome = write([house("R-0"), house("R-1", price=Decimal("1")), house("R-2")])
        assert (outcome.created, outcome.updated, outcome.unchanged) == (2, 1, 0)
        assert db.session.scalar(select(func.count()).select_from(Listing)) == 3
        assert db.session.scalar(select(Listing.price).filter_by(external_id="R-1")) == 1
        actions = db.session.execute(
            select(ListingEvent.action, func.count()).group_by(ListingEvent.action)
        ).all()
        assert dict(actions) == {"create": 3, "update": 1}


def test_staging_keeps_every_character_a_text_may_hold(ctx, cantal, make_tenant):
    """Values reach the table as written: tabs, line breaks and backslashes (COPY's escapes),
    a text that reads like COPY's NULL, a date and a decimal."""
    ref = make_tenant()
    texts = ["a\tb", "deux\nlignes\r\n\tet un \\ seul", "\\N", "N\\"]
    with tenant_scope(ref):
        write(
            [
                house(f"T-{i}", description=text, published_on=date(2026, 1, 5))
                for i, text in enumerate(texts)
            ]
        )
        stored = db.session.execute(
            select(Listing.description, Listing.published_on, Listing.price).order_by(
                Listing.external_id
            )
        ).all()
        assert [row.description for row in stored] == texts
        assert {(row.published_on, row.price) for row in stored} == {
            (date(2026, 1, 5), Decimal("149000"))
        }
