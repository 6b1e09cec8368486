"""Public listing pages: only published listings, on their own territory, formatted per locale;
filters, sorting and pagination."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.service import save
from sites.listings import views as listing_site
from tests import listing_page_helpers
from tests.listing_page_helpers import BASE

catalogue = listing_page_helpers.catalogue


@pytest.fixture
def territories(app, cantal, make_tenant):
    a, b = make_tenant(name="Saint-Flour"), make_tenant(name="Murat")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    items = [
        BASE | {"external_id": "PUB", "status": "published"},
        BASE | {"external_id": "DRAFT", "status": "draft"},
        BASE | {"external_id": "OFF", "status": "unpublished"},
        BASE | {"external_id": "OLD", "status": "published", "expires_on": yesterday},
        BASE | {"external_id": "A/B 1", "status": "published", "photo_url": None},
    ]
    with app.app_context(), tenant_scope(a):
        saved = save("real_estate", items, source="api")
        assert saved.errors == {}
        db.session.commit()
    return a, b


def test_only_published_listings_have_a_page(territories, visitor):
    a, b = territories
    site = visitor(a)
    assert site.get("/annonces/real_estate/PUB").status_code == 200
    assert site.get("/annonces/real_estate/A/B 1").status_code == 200
    for external_id in ("DRAFT", "OFF", "OLD", "NOPE"):
        assert site.get(f"/annonces/real_estate/{external_id}").status_code == 404, external_id
    assert site.get("/annonces/job/PUB").status_code == 404
    assert site.get("/annonces/boat/PUB").status_code == 404
    assert visitor(b).get("/annonces/real_estate/PUB").status_code == 404
    listing_page = site.get("/annonces/real_estate").get_data(as_text=True)
    assert "/annonces/real_estate/PUB" in listing_page
    assert "DRAFT" not in listing_page and "/OFF" not in listing_page and "/OLD" not in listing_page
    assert "/annonces/real_estate/PUB" in site.get("/annonces/").get_data(as_text=True)


def test_the_page_shows_formatted_fields_in_the_readers_language(territories, visitor):
    a, _b = territories
    site = visitor(a)
    response = site.get("/annonces/real_estate/PUB")
    page = response.get_data(as_text=True)
    assert "Saint-Flour" in page and "Maison" in page  # commune name, readable enum label
    assert "149\u202f000\xa0€" in page and ",00" not in page  # whole euros, no cents
    # (Oui once the catalogue has the msgid; the label itself comes from the declaration)
    assert re.search(r"<dt>Meublé</dt>\s*<dd>(Oui|Yes)</dd>", page)
    assert "Belle maison.<br>Grand jardin." in page and "<p>Proche école.</p>" in page
    # A photo's address is fetched by the worker, never shown from its own server (hot-linked).
    assert "photos.example.org" not in page
    assert "https:" not in response.headers["Content-Security-Policy"].split("img-src")[1]
    # The advertiser is written to through the page's form: their address is not published
    # (harvested by robots otherwise).
    assert "contact-form" in page and "immo@saint-flour.fr" not in page
    site.client.set_cookie("lang", "en", domain=site.host)
    english = site.get("/annonces/real_estate/PUB").get_data(as_text=True)
    assert "Furnished" in english and "Yes" in english and "House" in english
    assert "€149,000" in english and "149,000.00" not in english


# --- filters, sorting, pagination ---------------------------------------------------------------


def ids_on(page: str, kind: str) -> list[str]:
    return re.findall(rf'href="/annonces/{kind}/([^"]+)"', page)


def test_real_estate_filters_and_sorting(catalogue, visitor):
    site = visitor(catalogue)
    page = site.get("/annonces/real_estate?price_min=100000&price_max=200000").get_data(
        as_text=True
    )
    assert ids_on(page, "real_estate") == ["H2"]
    page = site.get("/annonces/real_estate?area_min=100&rooms_min=6").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["H3"]
    page = site.get("/annonces/real_estate?transaction=rent").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["R1"]
    page = site.get("/annonces/real_estate?property_type=house&sort=price_asc").get_data(
        as_text=True
    )
    assert ids_on(page, "real_estate") == ["H1", "H2", "H3"]
    page = site.get("/annonces/real_estate?transaction=sale&sort=price_desc").get_data(as_text=True)
    assert ids_on(page, "real_estate") == ["H3", "H2", "H1"]
    page = site.get("/annonces/real_estate?commune=15187").get_data(as_text=True)
    assert len(ids_on(page, "real_estate")) == 4
    assert '<option value="15187" selected>Saint-Flour</option>' in page
    assert "149\u202f000" in page or "90\u202f000" in page  # key facts on the cards


def test_filters_of_the_other_kinds(catalogue, visitor):
    site = visitor(catalogue)
    assert ids_on(site.get("/annonces/job?contract_type=CDI").get_data(as_text=True), "job") in (
        ["J1", "J3"],
        ["J3", "J1"],
    )
    assert ids_on(site.get("/annonces/job?rome=j15").get_data(as_text=True), "job") in (
        ["J2", "J3"],
        ["J3", "J2"],
    )
    assert ids_on(site.get("/annonces/job?rome=J15&full_time=1").get_data(as_text=True), "job") == [
        "J3"
    ]
    page = site.get("/annonces/business?transfer_type=local_vacant").get_data(as_text=True)
    assert ids_on(page, "business") == ["B2"]
    assert ids_on(
        site.get("/annonces/business?price_max=50000").get_data(as_text=True), "business"
    ) == ["B2"]
    page = site.get("/annonces/leisure?date_from=2030-12-01").get_data(as_text=True)
    assert sorted(ids_on(page, "leisure")) == ["L2", "L3"]  # no dates: always on
    page = site.get("/annonces/leisure?date_from=2030-06-01&date_to=2030-08-01&category=Festival")
    assert ids_on(page.get_data(as_text=True), "leisure") == ["L1"]
    assert ids_on(site.get("/annonces/poi?theme=Culture").get_data(as_text=True), "poi") == ["P2"]
    # The kind select of the form leads to the other kind's page, keeping what applies to it.
    moved = site.get("/annonces/real_estate?kind=job&contract_type=CDD&price_min=5")
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/annonces/job?contract_type=CDD")
    page = site.get("/annonces/job?contract_type=CDI&rome=M").get_data(as_text=True)
    assert ids_on(page, "job") == ["J1"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/annonces/real_estate?price_min=abc", "price_min"),
        ("/annonces/real_estate?price_min=-5", "price_min"),
        ("/annonces/real_estate?price_max=1e400", "price_max"),
        ("/annonces/real_estate?price_min=NaN", "price_min"),
        ("/annonces/real_estate?rooms_min=2.5", "rooms_min"),
        ("/annonces/real_estate?price_min=200000&price_max=100", "price_max"),
        ("/annonces/real_estate?commune=75056", "commune"),
        ("/annonces/real_estate?transaction=swap", "transaction"),
        ("/annonces/real_estate?sort=<script>", "sort"),
        ("/annonces/job?rome=Z99", "rome"),
        ("/annonces/job?full_time=maybe", "full_time"),
        ("/annonces/job?sort=price_asc", "sort"),
        ("/annonces/leisure?date_from=31/12/2030", "date_from"),
        ("/annonces/leisure?date_from=2030-12-01&date_to=2030-01-01", "date_to"),
        ("/annonces/poi?theme=Nope", "theme"),
    ],
)
def test_bad_filter_values_are_said_never_a_500(catalogue, visitor, query, field):
    response = visitor(catalogue).get(query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in page and 'aria-invalid="true"' in page
    assert (
        "<script>" not in page.split("<main")[1].split("</main>")[0].replace('<script src="', "")
        or "&lt;script&gt;" in page
    )


def test_pages_keep_the_filters(catalogue, visitor, monkeypatch):
    monkeypatch.setattr(listing_site, "PAGE_SIZE", 2)
    site = visitor(catalogue)
    first = site.get("/annonces/real_estate?property_type=house&sort=price_asc").get_data(
        as_text=True
    )
    assert ids_on(first, "real_estate") == ["H1", "H2"]
    nxt = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "property_type=house" in nxt and "sort=price_asc" in nxt and "page=2" in nxt
    assert ids_on(site.get(nxt).get_data(as_text=True), "real_estate") == ["H3"]
    assert site.get("/annonces/real_estate?page=99").status_code == 200
    assert site.get("/annonces/real_estate?page=-3").status_code == 200
