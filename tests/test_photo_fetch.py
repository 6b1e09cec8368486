"""Photo addresses of a normed file or the API: fetched once by the worker from a local HTTP
server, checked, resized and stored; refused addresses (private, not http(s), too slow, not an
image) reported on the import's row and column; private addresses refused by default."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core.extensions import db
from core.fetch import FetchError, fetch
from core.jobs import get_queue, run
from core.tenancy import tenant_scope
from ingest.listings import store
from ingest.listings.imports import submit
from ingest.listings.models import ListingPhoto
from ingest.listings.photo_fetch import fetch_photos
from ingest.listings.service import save
from tests.image_helpers import encode, noise
from tests.listing_import_helpers import HEADER, csv_file, house, report_of

JPEG = encode(noise((900, 600)), "JPEG")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's hook name
        self.server.hits.append(self.path)
        if self.path.startswith("/photo"):
            body, kind = JPEG, "image/jpeg"
        elif self.path == "/page.html":
            body, kind = b"<html>not an image</html>", "text/html"
        elif self.path == "/to-private":
            return self._redirect("http://169.254.169.254/latest/meta-data")
        elif self.path == "/to-ftp":
            return self._redirect("ftp://example.org/photo.jpg")
        elif self.path == "/slow":
            self.server.release.wait(5)  # held until the test ends: the fetch gives up first
            body, kind = JPEG, "image/jpeg"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, where):
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def images_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.hits, server.release = [], threading.Event()
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    """The test server listens on 127.0.0.1: let the fetcher reach that address only."""
    monkeypatch.setitem(app.config, "PHOTO_FETCH_ALLOW_LOOPBACK", True)
    monkeypatch.setitem(app.config, "PHOTO_FETCH_TIMEOUT", 1.0)


def test_private_addresses_are_refused_by_default(images_server):
    _server, base = images_server
    for url in (f"{base}/photo.jpg", "http://localhost/photo.jpg", "http://10.1.2.3/p.jpg"):
        with pytest.raises(FetchError) as caught:
            fetch(url, timeout=1, max_bytes=1 << 20)
        assert caught.value.code == "private_address", url
    assert _server.hits == []  # refused before any connection


def test_the_fetcher_checks_every_hop_scheme_size_and_time(images_server):
    server, base = images_server
    assert fetch(f"{base}/photo.jpg", timeout=2, max_bytes=1 << 20, allow_loopback=True) == JPEG
    cases = {
        f"{base}/to-private": "private_address",  # the redirect's target is checked too
        f"{base}/to-ftp": "not_http",
        "file:///etc/passwd": "not_http",
        f"{base}/missing": "http_status",
    }
    for url, code in cases.items():
        with pytest.raises(FetchError) as caught:
            fetch(url, timeout=2, max_bytes=1 << 20, allow_loopback=True)
        assert caught.value.code == code, url
    with pytest.raises(FetchError) as caught:
        fetch(f"{base}/photo.jpg", timeout=2, max_bytes=1000, allow_loopback=True)
    assert caught.value.code == "too_large"
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch(f"{base}/slow", timeout=0.5, max_bytes=1 << 20, allow_loopback=True)
    assert caught.value.code == "timeout" and time.monotonic() - started < 2


def queued_photo_jobs():
    return [j for j in get_queue("low").jobs if j.args[0].endswith(":fetch_photos")]


@pytest.mark.parametrize("tracked", [1000, 2], ids=["small file", "big file"])
def test_a_files_addresses_are_fetched_once_and_failures_reported(
    ctx, cantal, make_tenant, images_server, loopback_allowed, redis_conn, monkeypatch, tracked
):
    """A big file's upsert says counts only: its listings are found again for the report."""
    monkeypatch.setattr(store, "TRACKED_BATCH", tracked)
    server, base = images_server
    ref = make_tenant(kind="departement", code="15")
    rows = [
        house("R-1", photo_url=f"{base}/photo-1.jpg | {base}/photo-2.jpg"),
        house("R-2", photo_url=f"{base}/page.html {base}/to-private"),
        house("R-3", photo_url=f"{base}/slow"),
        house("R-4"),
    ]
    with tenant_scope(ref):
        record = submit("real_estate", csv_file(rows, HEADER + ["photo_url"]), "photos.csv")
        assert record.status == "done" and record.created == 4
        assert db.session.execute(select(ListingPhoto)).first() is None  # nothing fetched yet
        import_id = record.id
        db.session.rollback()
    queued = queued_photo_jobs()  # the worker's work, scheduled once the import committed
    assert len(queued) == 3  # one job per listing with addresses, R-4 has none
    assert len({j.id for j in queued}) == 3 and all(j.id.startswith("photos-") for j in queued)
    for one in queued:
        run(*one.args)
    with tenant_scope(ref):
        photos = db.session.execute(select(ListingPhoto).order_by(ListingPhoto.id)).scalars()
        got = [(p.source, p.status, p.error, p.source_url.rsplit("/", 1)[1]) for p in photos]
        assert got == [
            ("file", "ready", None, "photo-1.jpg"),
            ("file", "ready", None, "photo-2.jpg"),
            ("file", "failed", "unknown_format", "page.html"),
            ("file", "failed", "private_address", "to-private"),
            ("file", "failed", "timeout", "slow"),
        ]
        record = db.session.get(type(record), import_id)
        report = report_of(record)
        photo_issues = [i for i in report["issues"] if i["code"].startswith("photo_")]
        assert [(i["row"], i["column"], i["error"]) for i in photo_issues] == [
            (3, "photo_url", False),
            (3, "photo_url", False),
            (4, "photo_url", False),
        ]
        assert "réseau privé" in photo_issues[1]["message"]["fr"]
        assert report["photos"] == {"fetched": 2, "failed": 3}
        assert record.warnings_count >= 3
        db.session.rollback()
    hits = len(server.hits)
    with tenant_scope(ref):  # the same file again: nothing fetched again
        again = submit("real_estate", csv_file(rows, HEADER + ["photo_url"]), "photos.csv")
        assert again.unchanged == 4
        db.session.rollback()
    for job in queued_photo_jobs():
        run(*job.args)
    assert len(server.hits) == hits


def test_api_addresses_are_fetched_and_an_emptied_column_removes_them(
    ctx, cantal, make_tenant, images_server, loopback_allowed
):
    _server, base = images_server
    ref, other = make_tenant(), make_tenant()
    item = {
        "external_id": "API-1",
        "title": "Maison",
        "commune_insee": "15187",
        "transaction": "sale",
        "property_type": "house",
        "price": "120000",
        "photo_url": f"{base}/photo-a.jpg",
    }
    with tenant_scope(ref):
        saved = save("real_estate", [item], source="api")
        assert saved.errors == {}, saved.errors
        listing_id = saved.outcome.results["API-1"][0]
        db.session.commit()
    with tenant_scope(ref):
        assert fetch_photos(listing_id) == {"fetched": 1, "failed": 0}
        db.session.commit()
        assert db.session.execute(select(ListingPhoto.source)).scalars().all() == ["api"]
        db.session.rollback()
    with tenant_scope(other):  # another territory's job sees none of it
        assert fetch_photos(listing_id) == {"fetched": 0, "failed": 0}
        assert db.session.execute(select(ListingPhoto)).first() is None
        db.session.rollback()
    with tenant_scope(ref):
        save("real_estate", [item | {"photo_url": None}], source="api")
        db.session.commit()
        fetch_photos(listing_id)
        db.session.commit()
        assert db.session.execute(select(ListingPhoto)).first() is None
        db.session.rollback()
