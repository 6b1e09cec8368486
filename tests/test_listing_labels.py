"""Listings read by people: labels instead of codes (jobs, equipment, activities, hours, the
energy scale, prices without cents), and a scan of a seeded territory's public pages for any raw
code left."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.declaration import all_fields, fields_of
from ingest.listings.imports import submit
from ingest.listings.models import Listing
from ingest.listings.templates_xlsx import workbook
from sites.listings import labels
from sites.listings.public import details, reader_title, shown_value
from tests.listing_page_helpers import HOME, publish

KINDS = ("real_estate", "job", "business", "leisure", "poi")


@pytest.mark.parametrize(
    ("hours", "french", "english"),
    [
        ("Mo-Fr 09:00-18:00", "du lundi au vendredi, 9\xa0h–18\xa0h",
         "Monday to Friday, 09:00–18:00"),
        ("Tu-Su 10:00-12:30,14:00-19:00; Mo off",
         "du mardi au dimanche, 10\xa0h–12\xa0h\xa030 et 14\xa0h–19\xa0h ; le lundi, fermé",
         "Tuesday to Sunday, 10:00–12:30 and 14:00–19:00; Monday, closed"),
        ("Sa,Su 08:00-12:00", "le samedi, le dimanche, 8\xa0h–12\xa0h",
         "Saturday, Sunday, 08:00–12:00"),
        ("Jul-Aug Mo-Su 10:00-19:00", "de juillet à août, tous les jours, 10\xa0h–19\xa0h",
         "July to August, every day, 10:00–19:00"),
        ("Aug Sa 08:00-12:00", "en août, le samedi, 8\xa0h–12\xa0h",
         "in August, Saturday, 08:00–12:00"),
        ("24/7", "tous les jours, 24 h/24", "open every day, round the clock"),
        ("sunrise-sunset", "sunrise-sunset", "sunrise-sunset"),  # beyond the reading: as written
    ],
)  # fmt: skip
def test_opening_hours_in_words(app, hours, french, english):
    with app.test_request_context():
        with force_locale("fr"):
            assert labels.opening_hours(hours) == french
        with force_locale("en"):
            assert labels.opening_hours(hours) == english


def test_prices_jobs_activities_and_equipment_are_named(app):
    sale = SimpleNamespace(price=Decimal("185000.00"), transaction="sale", charges=None)
    rent = SimpleNamespace(price=Decimal("600"), transaction="rent", charges=Decimal("50"))
    bare = SimpleNamespace(price=Decimal("480.40"), transaction="rent", charges=None)
    with app.test_request_context():
        with force_locale("fr"):
            assert labels.euros(Decimal("185000.00")) == "185\u202f000\xa0€"
            assert labels.listing_price(sale) == "185\u202f000\xa0€"
            assert labels.listing_price(rent) == "650\xa0€ / mois CC"
            assert labels.listing_price(bare) == "480\xa0€ / mois"
            assert labels.job("J1506") == "Soins infirmiers généralistes"
            assert labels.job("J9999") == "Métier du domaine « Santé »"
            assert labels.category("SportsAndLeisurePlace") == "Lieu de sports et de loisirs"
            assert labels.category("schema:Festival") == "Festival"
            assert labels.category("Church") == "Église"  # the demo's, never the class name
            assert labels.category("Randonnée à cheval") == "Randonnée à cheval"
            assert labels.category("UnknownThingClass") == "Activité de loisirs"
            assert labels.equipment("D265") == "Médecin généraliste"
            assert labels.equipment("amenity=library") == "Bibliothèque"
            assert labels.equipment("Z999") is None  # never the code in place of a name
            assert [s["letter"] for s in labels.scale("energy", "D") if s["current"]] == ["D"]
            assert labels.scale("energy", "X") is None
        with force_locale("en"):
            assert labels.euros(185000) == "€185,000"
            assert labels.listing_price(rent) == "€650 / month incl. charges"
            assert labels.equipment("amenity=library") == "Library"


def test_salaries_and_units_read_with_their_values(app):
    def job(**salary):
        values = {"salary_min": None, "salary_max": None, "salary_text": None} | salary
        return SimpleNamespace(kind="job", **values)

    fields = all_fields()
    with app.test_request_context():
        with force_locale("fr"):
            both = job(salary_min=Decimal("28000"), salary_max=Decimal("32000.00"))
            assert labels.salary(both) == "28\u202f000\xa0€ – 32\u202f000\xa0€ / an"
            low, high = job(salary_min=Decimal("30000")), job(salary_max=Decimal("30000"))
            assert labels.salary(low) == "à partir de 30\u202f000\xa0€ / an"
            assert labels.salary(high) == "jusqu’à 30\u202f000\xa0€ / an"
            words = job(salary_text="Selon convention collective des transports routiers")
            assert labels.salary(words) == "Selon convention collective des transpo…"
            assert labels.salary(job()) is None
            assert shown_value(fields["living_area_m2"], Decimal("60.00")) == "60\xa0m²"
            assert shown_value(fields["charges"], Decimal("85")) == "85\xa0€ / mois"
            assert reader_title(fields["living_area_m2"]) == "Surface habitable"
            assert reader_title(fields["theme"]) == "Thème"
            offer = Listing(kind="job", salary_min=Decimal("22500"), salary_max=Decimal("23200"))
            offer.salary_text = "13e mois"
            shown = {d.label: d.value for d in details(offer)}
            assert shown["Salaire"] == "22\u202f500\xa0€ – 23\u202f200\xa0€ / an"
            assert shown["Précisions sur le salaire"] == "13e mois"
            assert not {"Salaire minimum", "Salaire maximum"} & set(shown)
        with force_locale("en"):
            assert labels.salary(job(salary_min=Decimal("28000"))) == "from €28,000 / year"
            assert reader_title(fields["living_area_m2"]) == "Living area"


# --- no raw code on a public page ----------------------------------------------------------------

#: What a code looks like on a page: ROME, BPE, a DATAtourisme class or an OSM tag, the OSM
#: opening-hours syntax, and amounts with cents.
RAW = {
    "ROME code": re.compile(r"\b[A-N]\d{4}\b"),
    "BPE code": re.compile(r"\b[A-G]\d{3}\b"),
    "schema prefix": re.compile(r"\bschema:"),
    "OSM tag": re.compile(r"\b(amenity|shop|leisure|tourism|healthcare|railway)=\w+"),
    "DATAtourisme class": re.compile(
        r"\b(?:[A-Z][a-z]+)+(?:Place|Event|Site|Tour|Heritage|Establishment|Center|Garden)\b"
    ),
    "OSM hours": re.compile(r"\b(Mo|Tu|We|Th|Fr|Sa|Su)-(Mo|Tu|We|Th|Fr|Sa|Su)\b|\d\d:\d\d-\d\d"),
    "cents": re.compile(r"\d,00\s?€|€[\d,]+\.00\b"),
    "enum key": re.compile(r"\b(fonds_de_commerce|droit_au_bail|local_vacant|real_estate)\b"),
}


class _Text(HTMLParser):
    """The text a person reads: no script, style or attribute."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture
def seeded(app, cantal, make_tenant):
    """A territory with the demo's listings (each kind's example file, imported as the demo
    does) and a few more with every coded field filled."""
    ref = make_tenant(name="Saint-Flour")
    with app.app_context(), tenant_scope(ref):
        for kind in KINDS:
            record = submit(kind, workbook(kind, example=True), f"{kind}.xlsx")
            assert record.status == "done", (kind, record.status)
        db.session.commit()
    publish(app, ref, "real_estate", [
        HOME | {"external_id": "RENT", "transaction": "rent", "property_type": "flat",
                "price": Decimal("600"), "charges": Decimal("50"), "energy_class": "B",
                "ges_class": "E"},
    ])  # fmt: skip
    publish(app, ref, "job", [
        {"external_id": "J-OTHER", "title": "Agent polyvalent", "rome_code": "K9999",
         "contract_type": "SAI", "naf_code": "84.11Z"},
    ])  # fmt: skip
    publish(app, ref, "leisure", [
        {"external_id": "L-HOURS", "title": "Marché", "category": "schema:Market",
         "opening_hours": "Sa 08:00-12:30"},
    ])  # fmt: skip
    publish(app, ref, "poi", [
        {"external_id": "P-OSM", "title": "Pharmacie du centre", "theme": "Santé",
         "osm_tag": "amenity=pharmacy", "opening_hours": "Mo-Sa 09:00-19:00"},
        {"external_id": "P-BPE", "title": "Cabinet médical", "theme": "Santé",
         "bpe_code": "D265"},
    ])  # fmt: skip
    return ref


def pages_of(site) -> dict[str, str]:
    """Every public page of the territory's listings: the lists, then each listing's page."""
    found = {"/": site.get("/").get_data(as_text=True)}
    for path in ["/annonces/"] + [f"/annonces/{k}" for k in KINDS]:
        response = site.get(path)
        assert response.status_code == 200, path
        found[path] = response.get_data(as_text=True)
        for link in re.findall(r'href="(/annonces/[a-z_]+/[^"#?]+)"', found[path]):
            if link not in found:
                page = site.get(link)
                assert page.status_code == 200, link
                found[link] = page.get_data(as_text=True)
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_raw_code_on_a_public_page(seeded, visitor, lang):
    site = visitor(seeded)
    site.client.set_cookie("lang", lang, domain=site.host)
    pages = pages_of(site)
    assert len(pages) > 20  # the lists and every listing's page
    for path, html in pages.items():
        text = visible_text(html)
        for what, pattern in RAW.items():
            found = pattern.search(text)
            assert found is None, f"{what} {found.group(0)!r} on {path}"
    if lang == "fr":
        text = visible_text(pages["/annonces/job/EMPLOI-2026-0102"])
        assert "Soins infirmiers généralistes" in text and "CDD (durée déterminée)" in text
        text = visible_text(pages["/annonces/real_estate/RENT"])
        assert "650\xa0€ / mois CC" in text and "Classe B, sur une échelle de A" in text
        assert 'class="energy-B current"' in pages["/annonces/real_estate/RENT"]
        assert 'class="ges-E current"' in pages["/annonces/real_estate/RENT"]
        text = visible_text(pages["/annonces/leisure/LOISIR-2026-0032"])
        assert "du mardi au dimanche, 10\xa0h–19\xa0h" in text
        assert "Lieu de sports et de loisirs" in text
        assert "Pharmacie" in visible_text(pages["/annonces/poi/P-OSM"])
        assert "Médecin généraliste" in visible_text(pages["/annonces/poi/P-BPE"])


def test_a_year_is_not_grouped_like_a_number(app):
    [year] = [f for f in fields_of("real_estate") if f.name == "year_built"]
    [area] = [f for f in fields_of("real_estate") if f.name == "living_area_m2"]
    with app.test_request_context(), force_locale("fr"):
        assert shown_value(year, 1890) == "1890"  # was "1 890" on the demo's pages
        assert shown_value(area, 1250) == "1\u202f250\xa0m²"
