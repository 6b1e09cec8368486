"""The home page: key figures from the cells (and their cache), texts in the reader's language or
the other one (said so), renamed axes, the hero photo's upload, member towns, the favicon.

Cells lie off the Breton coast (no real commune there), in a corner no other test uses; their
profiles, population and sales are inserted by hand so the figures can be worked out on paper.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import insert, select, text

from core import grid
from core.extensions import db
from core.images import MAX_PHOTO_BYTES
from core.storage import get_storage
from core.tenancy import tenant_scope
from ingest.reference.models import CellPopulation, CellProfile, PropertySale
from ingest.reference.territory import TerritoryCell
from sites import home
from sites.models import Branding
from tenants.provisioning import add_member
from tests.image_helpers import encode, noise, png_declaring
from tests.search_helpers import listing_in

E0, N0 = 3_050_000, 2_800_000
DEPARTEMENT = "98"


def cell(c: int) -> str:
    return grid.format_ids([N0], [E0 + 1000 * c]).tolist()[0]


#: c0: 300 people, GP at 2 km; c1: 100 people, GP at 12 km; c2: nobody, GP at 30 km.
PEOPLE = {0: 300.0, 1: 100.0, 2: 0.0}
GP_KM = {0: 2.0, 1: 12.0, 2: 30.0}


@pytest.fixture
def land(ctx, make_tenant):
    """A commune (whose code has no commune row here) over three hand-made cells."""
    ref = make_tenant()
    db.session.rollback()
    with tenant_scope(ref):
        db.session.execute(insert(TerritoryCell), [{"cell_id": cell(c)} for c in PEOPLE])
        db.session.commit()
    db.session.execute(
        insert(CellProfile),
        [{"cell_id": cell(c), "departement": DEPARTEMENT, "gp_km": GP_KM[c]} for c in PEOPLE],
    )
    zero = dict.fromkeys(("men", "men_pauv", "ind_snv", "log_soc", "ind_0_17", "ind_65p"), 0.0)
    db.session.execute(
        insert(CellPopulation),
        [
            {"cell_id": cell(c), "source": "test", "ind": n, "ind_18_64": n, **zero}
            for c, n in PEOPLE.items()
        ],
    )
    # Houses at 1 000, 2 000 and 3 000 €/m² in c0; one flat at 2 500 €/m² in c1.
    for i, (kind, price, area, c) in enumerate(
        [
            ("house", 100_000, 100, 0),
            ("house", 200_000, 100, 0),
            ("house", 300_000, 100, 0),
            ("flat", 125_000, 50, 1),
        ]
    ):
        db.session.execute(
            text(
                "INSERT INTO property_sales (source, source_id, property_type, price_eur,"
                " built_area_m2, geom, cell_id) VALUES ('test', :id, :kind, :price, :area,"
                " ST_SetSRID(ST_MakePoint(-5, 48), 4326), :cell)"
            ),
            {"id": f"home-{i}", "kind": kind, "price": price, "area": area, "cell": cell(c)},
        )
    db.session.commit()
    yield ref
    db.session.rollback()
    cells = [cell(c) for c in PEOPLE]
    for model in (CellProfile, CellPopulation, PropertySale):
        db.session.execute(model.__table__.delete().where(model.cell_id.in_(cells)))
    db.session.commit()


def add_listing(ref, n: int, kind: str = "job", status: str = "published") -> None:
    listing_in(ref, kind, n, cell(0), status, announced=True)


def figures_of(ref) -> home.KeyFigures:
    db.session.rollback()
    with tenant_scope(ref):
        try:
            return home.key_figures(ref)
        finally:
            db.session.rollback()


# --- key figures ---------------------------------------------------------------------------------


def test_key_figures_by_hand(land, redis_conn):
    add_listing(land, 1)
    add_listing(land, 2, "real_estate")
    add_listing(land, 3, "real_estate", status="draft")
    figures = figures_of(land)
    assert figures.population == 400  # no commune row: the cells' inhabitants
    assert figures.cells == 3
    gp = next(a for a in figures.amenities if a.criterion == "gp_km")
    # 300 of 400 people are 2 km from a GP: half of them are within 2 km; the empty cell at
    # 30 km weighs nothing; 75 % are within the default 10 km.
    assert gp.median_km == 2.0 and gp.share_within == 0.75 and gp.threshold_km == 10
    assert figures.prices == {"house": (2000, 3), "flat": (2500, 1)}
    assert figures.listings == {"real_estate": 1, "job": 1}  # the draft is not counted


def test_key_figures_are_cached_and_dropped_when_listings_change(land, redis_conn, monkeypatch):
    first = figures_of(land)
    assert first.listings == {}
    assert redis_conn.exists(f"vivrau:home:figures:{land.slug}")
    computed = []
    real = home.compute_figures
    monkeypatch.setattr(home, "compute_figures", lambda ref: computed.append(ref) or real(ref))
    assert figures_of(land) == first and computed == []  # from the cache
    add_listing(land, 1)  # announces listings_changed once committed
    assert figures_of(land).listings == {"job": 1} and len(computed) == 1
    home._profiles_changed()  # the national profiles were rebuilt
    figures_of(land)
    assert len(computed) == 2


def test_umbrella_figures_follow_a_member_s_listings(land, make_tenant, visitor, redis_conn):
    umbrella = make_tenant(kind="umbrella", name="Petites villes")
    add_member(umbrella.slug, land.slug)
    assert figures_of(umbrella).listings == {}
    add_listing(land, 1)  # a member's change reaches its umbrella's cached figures
    assert figures_of(umbrella).listings == {"job": 1}
    body = _home(visitor, umbrella)
    assert "Ses villes membres" in body and f"http://{land.slug.replace('_', '-')}." in body


def test_umbrella_s_latest_listings_take_turns_among_its_members(make_tenant, ctx):
    umbrella = make_tenant(kind="umbrella", name="Petites villes")
    first, last = make_tenant(), make_tenant()
    for member in (first, last):
        add_member(umbrella.slug, member.slug)
    for n in range(4):
        add_listing(first, n)
    for n in range(4, 8):  # imported after: every one newer than the first town's
        add_listing(last, n)
    db.session.rollback()
    with tenant_scope(umbrella):
        cards = home.latest_listings(umbrella, limit=4)
    assert [c.site.slug for c in cards] == [last.slug, first.slug, last.slug, first.slug]
    assert [c.title for c in cards] == ["job 7", "job 3", "job 6", "job 2"]


def test_key_figures_without_redis_are_computed_for_the_page(land, app):
    saved = app.config["REDIS_URL"]
    app.extensions.pop("redis", None)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert figures_of(land).population == 400
    finally:
        app.config["REDIS_URL"] = saved
        app.extensions.pop("redis", None)
        app.extensions.pop("redis_watch", None)


def test_home_page_shows_figures_presets_and_cards(land, visitor, redis_conn):
    add_listing(land, 1)
    page = visitor(land).get("/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "en chiffres" in body and "Habitants" in body and "400" in body
    assert "2\u202f000 €/m²" in body  # the median house price, as French writes it
    # Worded as the search page words km: a distance to one decimal, a threshold as set.
    assert "la moitié des habitants à moins de 2,0\u00a0km" in body
    assert "75\u00a0% à moins de 10\u00a0km" in body
    assert 'href="/recherche?preset=young_family#results-title"' in body  # lands on the results
    assert 'href="/annonces/job/job-1"' in body and 'class="kind-icon"' in body  # no photo
    for target in ("/recherche", "/annonces/real_estate", "/annonces/poi", "/compte/favoris/"):
        assert f'href="{target}"' in body
    assert 'class="menu-button" aria-expanded="false" aria-controls="site-menu"' in body


# --- texts: fallback and renamed axes ------------------------------------------------------------


def _home(visitor, ref, lang: str | None = None) -> str:
    reader = visitor(ref)
    if lang:
        reader.post("/langue", {"lang": lang, "next": "/"}, csrf_from="/")
    return reader.get("/").get_data(as_text=True)


FRENCH_ONLY = {
    "fr-title": "Vivre à Murat",
    "fr-introduction": "Au pied du rocher de Bonnevie.",
    "fr-hero_alt": "Le rocher de Bonnevie au-dessus des toits",
    "fr-axis_tourism_title": "Volcans et grands espaces",
    "fr-axis_tourism": "Le Plomb du Cantal à vingt minutes.",
    "fr-axis_residential": "Écoles et maison de santé.",
}


def test_home_in_english_when_only_french_texts_exist(make_tenant, make_account, visitor):
    town = make_tenant(name="Murat")
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    assert editor.post("/console/textes", FRENCH_ONLY).status_code == 302
    english = _home(visitor, town, "en")
    assert '<html lang="en">' in english
    assert "not written in English yet: they are shown in French." in english
    assert '<span lang="fr">Vivre à Murat</span>' in english
    assert '<p lang="fr">Le Plomb du Cantal à vingt minutes.</p>' in english
    # The renamed heading is the French one (marked), the other axis keeps the English default.
    assert '<h3 lang="fr">Volcans et grands espaces</h3>' in english
    assert "<h3>Residential economy</h3>" in english
    french = _home(visitor, town)
    assert "pas encore écrits" not in french and "<h3>Volcans et grands espaces</h3>" in french
    assert "<h3>Économie résidentielle</h3>" in french and "Économie productive" not in french


def test_renamed_axes_in_both_languages(make_tenant, make_account, visitor):
    town = make_tenant()
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    texts = {
        **FRENCH_ONLY,
        "en-axis_tourism_title": "Volcanoes and open spaces",
        "en-axis_tourism": "The Plomb du Cantal twenty minutes away.",
        "en-axis_residential": "Schools and a health centre.",
        "en-title": "Living in Murat",
        "en-introduction": "Below the Bonnevie rock.",
        "en-hero_alt": "The Bonnevie rock above the roofs",
    }
    assert editor.post("/console/textes", texts).status_code == 302
    english = _home(visitor, town, "en")
    assert "<h3>Volcanoes and open spaces</h3>" in english and "not written in" not in english
    form = editor.get("/console/textes").get_data(as_text=True)
    assert 'value="Volcans et grands espaces"' in form and "Intitulé (vide" in form


# --- the hero photo ------------------------------------------------------------------------------


def _upload(admin, data: bytes, name: str = "photo.jpg", form_page: str = "/console/apparence"):
    token = admin.csrf(form_page)
    return admin.client.post(
        "/console/apparence/photo",
        base_url=admin.base,
        content_type="multipart/form-data",
        data={"csrf_token": token, "photo": (io.BytesIO(data), name)},
        follow_redirects=True,
    )


def _hero_key(app, ref):
    with app.app_context(), tenant_scope(ref):
        branding = db.session.execute(select(Branding)).scalar_one_or_none()
        return branding.hero_key if branding else None


def _stored(app, ref) -> list[str]:
    with app.app_context():
        return get_storage().for_tenant(ref.slug).list("branding/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\x00" * 40, "Ce fichier est au format GIF, ce n&#39;est pas une photo"),
        (b"Bonjour, ceci est un texte.", "Ce fichier n&#39;est pas une image"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_PHOTO_BYTES + 10), "La photo est trop lourde : 7 Mo"),
        (png_declaring(30_000, 30_000), "La photo a trop de pixels : 12\u202f000 au plus"),
        (encode(noise((64, 64)), "JPEG")[:-200], "La photo est endommagée"),
    ],
    ids=["gif", "text", "too-large", "bomb", "truncated"],
)
def test_hero_bad_inputs_are_refused_in_french_and_change_nothing(
    app, make_tenant, make_account, visitor, data, message
):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    good = _upload(admin, encode(noise((320, 200)), "PNG"), "good.png")
    assert "La photo de la page d&#39;accueil est enregistrée." in good.get_data(as_text=True)
    before = _hero_key(app, town)
    stored = _stored(app, town)
    response = _upload(admin, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and message in body, body[-3000:]
    assert _hero_key(app, town) == before and before is not None
    assert _stored(app, town) == stored


def test_hero_photo_is_resized_stored_and_shown_with_its_alt(make_tenant, make_account, visitor):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    # A smooth picture: noise this large would outweigh the request limit.
    big = Image.linear_gradient("L").resize((2400, 1200)).convert("RGB")
    _upload(admin, encode(big, "PNG"), "big.png")
    admin.post("/console/textes", {"fr-hero_alt": "La ville haute au soleil couchant"})
    body = visitor(town).get("/").get_data(as_text=True)
    src = re.search(r'<img class="hero-photo" src="([^"]+)" alt="([^"]*)"', body)
    assert src.group(2) == "La ville haute au soleil couchant"
    served = visitor(town).get(src.group(1))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (1600, 800) and "exif" not in image.info
    assert visitor(town).get("/photo/hero-0000000000000000.jpg").status_code == 404


def test_only_an_admin_sends_the_hero_photo(app, make_tenant, make_account, visitor):
    town = make_tenant()
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    sent = _upload(editor, encode(noise((32, 32)), "PNG"), form_page="/console/textes")
    assert sent.status_code == 403
    assert _hero_key(app, town) is None


# --- member towns and favicon --------------------------------------------------------------------


def test_a_communaute_links_the_sites_of_its_communes(cantal, make_tenant, visitor, redis_conn):
    epci = make_tenant(kind="epci", name="Saint-Flour Communauté")
    town = make_tenant(code="15187", name="Saint-Flour")
    body = visitor(epci).get("/").get_data(as_text=True)
    assert "Ses communes" in body
    link = re.search(r'<ul class="town-list">\s*<li><a href="([^"]+)">Saint-Flour</a>', body)
    assert link and link.group(1).startswith(f"http://{town.slug.replace('_', '-')}.")
    # The others, without a site of their own, are named but not linked.
    assert re.search(r"<summary>\d+ autres communes</summary>", body)
    assert "Andelat" in body and ">Andelat<" not in body


def test_favicon_is_the_theme_s_then_the_logo(make_tenant, make_account, visitor):
    town = make_tenant()
    reader = visitor(town)
    body = reader.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/theme/favicon.svg" type="image/svg+xml">' in body
    icon = reader.get("/favicon.ico")
    assert icon.status_code == 302 and icon.headers["Location"].endswith("/theme/favicon.svg")
    assert reader.get("/theme/favicon.svg").mimetype == "image/svg+xml"
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    token = admin.csrf("/console/apparence")
    admin.client.post(
        "/console/apparence/logo",
        base_url=admin.base,
        content_type="multipart/form-data",
        data={"csrf_token": token, "logo": (io.BytesIO(encode(noise((48, 48)), "PNG")), "l.png")},
    )
    page = reader.get("/").get_data(as_text=True)
    logo = re.search(r'<link rel="icon" href="(/logo/[^"]+\.png)" type="image/png">', page)
    assert logo and reader.get("/favicon.ico").headers["Location"].endswith(logo.group(1))
