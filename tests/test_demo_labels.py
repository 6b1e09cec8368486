"""The label scan on the demo's own listings: the generator's rows (ingest/listings/demo), imported
as `flask ingest demo-listings` does, then every public page of the territory read for raw codes."""

from __future__ import annotations

from datetime import date

import pytest

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.declaration import KINDS
from ingest.listings.demo import demo_rows, normed_csv
from ingest.listings.imports import submit
from tests.test_listing_labels import RAW, pages_of, visible_text

#: Fewer than the demo's 60 a kind keeps the scan short; the draws still cover every maker's
#: branches (each kind's codes, contracts, categories, hours).
PER_KIND = 40
DAY = date(2026, 12, 7)


@pytest.fixture
def demo_site(app, cantal, make_tenant):
    """The communauté's demo listings, generated and imported in-process; the paths of their
    pages (the lists show a page of them at a time)."""
    ref = make_tenant(kind="epci", code="200066660", name="Saint-Flour Communauté")
    paths = []
    with app.app_context():
        for kind in KINDS:
            rows = demo_rows(ref, kind, PER_KIND, today=DAY)
            paths += [f"/annonces/{kind}/{row['external_id']}" for row in rows]
            db.session.rollback()  # the communes were read outside the territory
            with tenant_scope(ref):
                record = submit(kind, normed_csv(kind, rows), f"{kind}.csv", inline=True)
                assert record.status == "done", (kind, record.status)
                db.session.commit()
    return ref, paths


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_raw_code_on_the_demos_pages(demo_site, visitor, lang):
    ref, paths = demo_site
    site = visitor(ref)
    site.client.set_cookie("lang", lang, domain=site.host)
    pages = pages_of(site)
    for path in paths:
        if path not in pages:
            response = site.get(path)
            assert response.status_code == 200, path
            pages[path] = response.get_data(as_text=True)
    assert len(pages) > len(paths)  # the home page, the lists and every listing's page
    found = []
    for path, html in pages.items():
        text = visible_text(html)
        for what, pattern in RAW.items():
            for match in pattern.finditer(text):
                found.append(f"{what} {match.group(0)!r} on {path}")
    assert found == []
