"""No missed fetch, on a Redis of the test's own: photo addresses saved while Redis is away are
queued by the photo sweep once it is back (once: a live job is not queued again), fetched by a
worker, and the sweep then finds nothing left; an emptied column is swept too."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import ListingPhoto
from ingest.listings.photo_fetch import job_id
from ingest.listings.photo_sweep import pending, sweep_photos
from ingest.listings.service import save
from tests import private_redis as private_redis_fixtures
from tests.private_redis import app_on, queued_ids, run_queued_jobs
from tests.test_photo_fetch import images_server  # noqa: F401 - the fixture

server = private_redis_fixtures.server
town = private_redis_fixtures.town


def house(base: str, *paths: str) -> dict:
    return {
        "external_id": "S-1",
        "title": "Maison",
        "commune_insee": "15187",
        "transaction": "sale",
        "property_type": "house",
        "price": "120000",
        "photo_url": " | ".join(f"{base}{p}" for p in paths) or None,
    }


def saved(app, town, item) -> tuple[int, str | None]:
    with app.app_context(), tenant_scope(town):
        result = save("real_estate", [item], source="api")
        assert result.errors == {}, result.errors
        listing_id = result.outcome.results[item["external_id"]][0]
        db.session.commit()  # Redis away: the fetch is not queued, and nothing fails
    return listing_id, item["photo_url"]


def sweep(app) -> dict[str, int]:
    with app.app_context(), tenant_scope(None):
        return sweep_photos()


def photos(app, town) -> list[tuple[str, str]]:
    with app.app_context(), tenant_scope(town):
        rows = db.session.execute(
            select(ListingPhoto.status, ListingPhoto.source_url).order_by(ListingPhoto.id)
        ).all()
        db.session.rollback()
    return [(status, url.rsplit("/", 1)[1]) for status, url in rows]


def test_addresses_saved_while_redis_is_away_are_fetched_once_it_is_back(
    app,
    server,
    town,
    images_server,  # noqa: F811 - the fixture
    tmp_path_factory,
):
    _http, base = images_server
    settings = {
        "REDIS_RETRY_SECONDS": 0,
        "PHOTO_FETCH_ALLOW_LOOPBACK": True,
        "PHOTO_FETCH_TIMEOUT": 1.0,
    }
    with app_on(server, app, tmp_path_factory, **settings) as running:
        server.stop()
        listing_id, urls = saved(running, town, house(base, "/photo-1.jpg", "/page.html"))
        server.start()  # empty: the fetch was never queued
        assert queued_ids(server) == []
        with running.app_context(), tenant_scope(town):
            assert pending() == [(listing_id, urls)]
            db.session.rollback()

        assert sweep(running)[town.slug] == {"pending": 1, "queued": 1}
        assert sweep(running)[town.slug] == {"pending": 1, "queued": 0}, "a live job is enough"
        assert queued_ids(server) == [job_id(town.slug, listing_id, urls)]
        run_queued_jobs(running)
        assert photos(running, town) == [("ready", "photo-1.jpg"), ("failed", "page.html")]
        assert sweep(running)[town.slug] == {"pending": 0, "queued": 0}, "fetched once"

        # An emptied column while Redis is away: the fetched photo is removed by the sweep's job.
        server.stop()
        saved(running, town, house(base))
        server.start()
        assert sweep(running)[town.slug] == {"pending": 1, "queued": 1}
        run_queued_jobs(running)
        assert photos(running, town) == []
        assert sweep(running)[town.slug] == {"pending": 0, "queued": 0}
