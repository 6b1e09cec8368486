"""The listings console: roles, forms under the API's rules, publishing, log, imports, keys."""

from __future__ import annotations

import hashlib
import html
import io
import re

import pytest
from sqlalchemy import select

from core.auth.models import Account
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.apikeys import create_key
from ingest.listings.models import ApiKey, Listing, ListingEvent, ListingImport

HOUSE = {
    "external_id": "IMMO-1",
    "title": "Maison de bourg",
    "commune_insee": "15187",
    "transaction": "sale",
    "property_type": "house",
    "price": "149000",
    "latitude": "45.0337",
    "longitude": "3.0928",
    "furnished": "",
}


@pytest.fixture
def world(app, cantal, make_tenant, make_account):
    a, b = make_tenant(name="Saint-Flour"), make_tenant(name="Murat")
    return {
        "a": a,
        "b": b,
        "resident": make_account(),
        "editor": make_account(roles=[("editor", a)], name="Edith Éditrice"),
        "admin": make_account(roles=[("admin", a)], name="Adam Admin"),
        "other_editor": make_account(roles=[("editor", b)]),
    }


def signed_in(visitor, ref, email):
    site = visitor(ref)
    site.login(email)
    return site


def listings(app, ref):
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(select(Listing).order_by(Listing.id)).scalars().all()
        db.session.expunge_all()
        db.session.rollback()
        return rows


def events(app, ref):
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(select(ListingEvent).order_by(ListingEvent.id)).scalars().all()
        out = [(e.action, e.account_id, e.external_id, e.changes) for e in rows]
        db.session.rollback()
        return out


def account_id(app, email):
    with app.app_context():
        found = db.session.execute(select(Account.id).where(Account.email == email)).scalar()
        db.session.rollback()
        return found


def create(site, data=None, kind="real_estate"):
    return site.post(f"/console/annonces/nouvelle/{kind}", HOUSE | (data or {}))


ROUTES = [
    "/console/annonces/",
    "/console/annonces/nouvelle/real_estate",
    "/console/annonces/activite",
    "/console/annonces/imports",
    "/console/annonces/modeles",
]


def test_roles(app, world, visitor):
    resident = signed_in(visitor, world["a"], world["resident"])
    assert {resident.get(p).status_code for p in ROUTES} == {403}
    editor = signed_in(visitor, world["a"], world["editor"])
    assert {editor.get(p).status_code for p in ROUTES} == {200}
    assert editor.get("/console/annonces/cles").status_code == 403  # keys: admins only
    admin = signed_in(visitor, world["a"], world["admin"])
    assert admin.get("/console/annonces/cles").status_code == 200
    outsider = signed_in(visitor, world["a"], world["other_editor"])
    assert {outsider.get(p).status_code for p in ROUTES} == {403}
    anonymous = visitor(world["a"]).get("/console/annonces/")
    assert anonymous.status_code == 302 and "/compte/connexion" in anonymous.location
    # a listing of A does not exist on B's host, even for an editor of B
    assert create(editor).status_code == 302
    (house,) = listings(app, world["a"])
    on_b = signed_in(visitor, world["b"], world["other_editor"])
    assert on_b.get(f"/console/annonces/{house.id}").status_code == 404
    assert (
        on_b.post(
            f"/console/annonces/{house.id}/publier", csrf_from="/console/annonces/"
        ).status_code
        == 404
    )


def test_errors_are_shown_next_to_fields_and_nothing_is_saved(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    response = create(
        site,
        {"price": "cher", "transaction": "lease", "title": "", "contact_email": "non"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "nothing was saved" in page or "rien n" in page
    for name in ("price", "transaction", "title", "contact_email"):
        assert f'id="f-{name}-errors"' in page
        assert re.search(rf'id="f-{name}"[^>]*aria-describedby="[^"]*f-{name}-errors', page), name
        assert f'href="#f-{name}"' in page  # the summary links to the field
    # location rules come after the fields' own, as for the API and the file
    place = create(site, {"commune_insee": "99999"}).get_data(as_text=True)
    assert 'id="f-commune_insee-errors"' in place and "99999" in place
    assert listings(app, world["a"]) == []
    assert events(app, world["a"]) == []


def test_a_listing_saved_without_identifier_gets_one_and_its_commune_by_name(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    form = site.get("/console/annonces/nouvelle/real_estate").get_data(as_text=True)
    # Lambert-93 is folded away under "advanced"; the identifier may be left to us.
    advanced = re.search(r'<details class="advanced">(.*?)</details>', form, re.S)
    assert advanced and 'name="lambert_x"' in advanced.group(1)
    assert 'name="latitude"' not in advanced.group(1)
    assert re.search(r'name="external_id"[^>]*>', form) and "Laissez-le vide" in form
    saved = create(
        site, {"external_id": "", "commune_insee": "saint flour", "latitude": "", "longitude": ""}
    )
    assert saved.status_code == 302
    (made,) = listings(app, world["a"])
    assert re.fullmatch(r"IMMO-\d{8}-[0-9a-f]{6}", made.external_id)
    assert made.commune_insee == "15187"
    # A name that is no commune of the territory is refused on its field, nothing saved.
    refused = create(
        site, {"external_id": "", "commune_insee": "Aurillac", "latitude": "", "longitude": ""}
    )
    assert refused.status_code == 422 and len(listings(app, world["a"])) == 1


def test_a_point_outside_the_territory_says_how_far_and_where(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    # Aurillac, about 50 km from Saint-Flour, the territory's only commune.
    far = {"commune_insee": "15014", "latitude": "44.9264", "longitude": "2.4397"}
    response = create(site, far)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    errors = page.split('id="f-latitude-errors"')[1].split("</")[0]
    assert re.search(r"est à \d+,\d km du territoire, commune du territoire la plus proche : "
                     r"Saint-Flour", errors), errors  # fmt: skip
    centre = create(site, far | {"latitude": "", "longitude": ""})
    page = html.unescape(centre.get_data(as_text=True))
    errors = page.split('id="f-commune_insee-errors"')[1].split("</")[0]
    assert "Aurillac (15014)" in errors and "la plus proche : Saint-Flour" in errors
    assert listings(app, world["a"]) == []


def test_create_edit_duplicate_publish_unpublish_are_logged_with_the_account(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    who = account_id(app, world["editor"])
    created = create(site)
    assert created.status_code == 302
    (house,) = listings(app, world["a"])
    assert house.status == "draft" and house.source == "manual" and house.cell_id
    assert house.created_by_id == who and house.furnished is None
    edit_url = f"/console/annonces/{house.id}"
    page = site.get(edit_url).get_data(as_text=True)
    assert 'value="149000"' in page and "IMMO-1" in page and house.cell_id in page
    # the identifier cannot be changed by editing: it is the key of the upsert
    changed = site.post(edit_url, HOUSE | {"price": "139000", "external_id": "OTHER"})
    assert changed.status_code == 302
    (house,) = listings(app, world["a"])
    assert house.price == 139000 and house.external_id == "IMMO-1" and house.status == "draft"
    assert site.post(f"{edit_url}/publier", csrf_from=edit_url).status_code == 302
    assert site.post(f"{edit_url}/depublier", csrf_from=edit_url).status_code == 302
    duplicate = site.get(f"{edit_url}/dupliquer").get_data(as_text=True)
    assert 'name="external_id" value=""' in duplicate and 'value="139000"' in duplicate
    taken = create(site, {"price": "139000"})  # same identifier as an existing listing
    assert taken.status_code == 422 and len(listings(app, world["a"])) == 1
    assert create(site, {"external_id": "IMMO-2", "price": "139000"}).status_code == 302
    log = events(app, world["a"])
    assert [e[0] for e in log] == ["create", "update", "publish", "unpublish", "create"]
    assert all(e[1] == who for e in log)
    assert log[1][3] == {"price": ["149000", "139000"]}
    assert log[2][3] == {"status": ["draft", "published"]}
    activity = site.get("/console/annonces/activite").get_data(as_text=True)
    assert "Edith Éditrice" in activity and "149000" in activity and "139000" in activity
    one = site.get(f"/console/annonces/activite?listing={house.id}").get_data(as_text=True)
    assert one.count("<tr>") == 1 + 4  # header + this listing's four events


def test_bulk_publish_and_expired_listings_stay_unpublished(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    create(site)
    create(site, {"external_id": "IMMO-2", "expires_on": "2020-01-01"})
    ids = [x.id for x in listings(app, world["a"])]
    response = site.post(
        "/console/annonces/statut",
        {"ids": [str(i) for i in ids], "action": "publish"},
        csrf_from="/console/annonces/",
    )
    assert response.status_code == 302
    statuses = {x.external_id: x.status for x in listings(app, world["a"])}
    assert statuses == {"IMMO-1": "published", "IMMO-2": "draft"}


def test_search_and_filters(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    create(site)
    create(site, {"external_id": "50%_OFF", "title": "Grange à rénover"})
    job = {
        "external_id": "JOB-1",
        "title": "Boulanger",
        "commune_insee": "15187",
        "rome_code": "D1102",
        "contract_type": "CDI",
    }
    assert site.post("/console/annonces/nouvelle/job", job).status_code == 302

    def titles(query):
        page = site.get("/console/annonces/?" + query).get_data(as_text=True)
        return set(re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page))

    assert titles("") == {"Maison de bourg", "Grange à rénover", "Boulanger"}
    assert titles("q=grange") == {"Grange à rénover"}
    assert titles("q=50%25_") == {"Grange à rénover"}  # % and _ are literal
    assert titles("q=%25") == {"Grange à rénover"}
    assert titles("q=immo-1") == {"Maison de bourg"}
    assert titles("kind=job") == {"Boulanger"}
    assert titles("status=published") == set()
    assert titles("status=draft&kind=real_estate") == {"Maison de bourg", "Grange à rénover"}
    assert titles("source=api") == set()
    assert titles("commune=15187") == {"Maison de bourg", "Grange à rénover", "Boulanger"}
    assert titles("commune=15014") == set()
    page = site.get("/console/annonces/?kind=real_estate").get_data(as_text=True)
    assert re.search(r"(Brouillon|Draft) : 2", page)


def test_a_title_with_markup_is_escaped_everywhere(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    create(site, {"title": evil, "description": evil + "\nligne 2"})
    (house,) = listings(app, world["a"])
    site.post(f"/console/annonces/{house.id}/publier", csrf_from="/console/annonces/")
    pages = [
        site.get("/console/annonces/"),
        site.get(f"/console/annonces/{house.id}"),
        site.get(f"/console/annonces/{house.id}/dupliquer"),
        site.get("/console/annonces/activite"),
        visitor(world["a"]).get("/annonces/real_estate/IMMO-1"),
        visitor(world["a"]).get("/annonces/"),
        visitor(world["a"]).get("/annonces/real_estate"),
    ]
    for response in pages:
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_map_picker_uses_local_assets_only(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    create(site)
    (house,) = listings(app, world["a"])
    for path in ("/console/annonces/nouvelle/real_estate", f"/console/annonces/{house.id}"):
        response = site.get(path)
        page = response.get_data(as_text=True)
        assert 'class="folium-map"' in page and "data-picker-map=" in page
        assert "/static/vendor/leaflet/leaflet.js" in page
        assert "/static/vendor/leaflet/leaflet.css" in page
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
        assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
        assert not any(re.search(r"https?://", s) for s in scripts)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        inline = re.findall(r"<script nonce=\"([^\"]+)\">", page)
        assert inline and all(n == nonce.group(1) for n in inline)
        assert "<style" not in page  # no inline style: the CSP would block it
        # the inputs remain the way to place the point
        assert 'id="f-latitude"' in page and 'id="f-longitude"' in page
    for path in ("/console/annonces/static/picker.js", "/static/vendor/leaflet/leaflet.js"):
        asset = site.get(path)
        assert asset.status_code == 200
        asset.close()


def test_api_key_is_shown_once_then_kept_hashed_and_revoked(app, world, visitor):
    admin = signed_in(visitor, world["a"], world["admin"])
    response = admin.post(
        "/console/annonces/cles", {"name": "SIG <intercommunal>", "scopes": ["listings:read"]}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    plaintext = re.search(r'value="(vvk_[^"]+)"', page).group(1)
    assert "SIG &lt;intercommunal&gt;" in page
    again = admin.get("/console/annonces/cles").get_data(as_text=True)
    assert plaintext not in again and plaintext.split("_")[1] in again
    with app.app_context(), tenant_scope(world["a"]):
        key = db.session.execute(select(ApiKey)).scalar_one()
        assert key.secret_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert key.scopes == ["listings:read"] and key.revoked_at is None
        key_id = key.id
        db.session.rollback()
    refused = admin.post("/console/annonces/cles", {"name": "x"})
    assert refused.status_code == 200 and 'id="scopes-errors"' in refused.get_data(as_text=True)
    revoked = admin.post(
        f"/console/annonces/cles/{key_id}/revoquer", csrf_from="/console/annonces/cles"
    )
    assert revoked.status_code == 302
    with app.app_context(), tenant_scope(world["a"]):
        assert db.session.get(ApiKey, key_id).revoked_at is not None
        db.session.rollback()
    other = signed_in(visitor, world["b"], world["other_editor"])
    assert other.get("/console/annonces/cles").status_code == 403


def test_import_upload_history_detail_and_downloads(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    csv_text = (
        "external_id;title;commune_insee;transaction;property_type;price\n"
        "F-1;Maison <b>vue</b>;15187;sale;house;120000\n"
        "F-2;Ferme;15187;sale;castle;90000\n"
    )
    data = {
        "kind": "real_estate",
        "file": (io.BytesIO(csv_text.encode("utf-8")), "annonces.csv"),
        "valid_only": "y",
    }
    response = site.post("/console/annonces/imports", data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    detail_url = response.location
    detail = site.get(detail_url)
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "castle" in page and "property_type" in page
    # The errors come first, then the warnings grouped by kind (a title and a count each).
    errors_at, warnings_at = page.index('id="report-errors"'), page.index("report-warnings")
    assert errors_at < warnings_at and "1 erreur" in page
    groups = re.findall(r"<summary>([^<]+)</summary>", page[warnings_at:])
    assert any(g.startswith("Colonnes facultatives absentes") for g in groups)
    assert len(groups) == len(set(groups))
    import_id = int(detail_url.rstrip("/").rsplit("/", 1)[1])
    progress = site.get(f"/console/annonces/imports/{import_id}.json").get_json()
    assert progress["status"] == "done" and progress["rows_read"] == 2
    assert progress["rows_valid"] == 1 and progress["running"] is False
    history = site.get("/console/annonces/imports").get_data(as_text=True)
    assert "annonces.csv" in history and "Edith Éditrice" in history
    original = site.get(f"/console/annonces/imports/{import_id}/fichier")
    assert (
        original.data == csv_text.encode()
        and "attachment" in original.headers["Content-Disposition"]
    )
    report = site.get(f"/console/annonces/imports/{import_id}/rapport.csv")
    assert report.status_code == 200 and "castle" in report.get_data(as_text=True)
    assert [x.external_id for x in listings(app, world["a"])] == ["F-1"]
    log = site.get("/console/annonces/activite").get_data(as_text=True)
    assert f"/console/annonces/imports/{import_id}" in log
    for path in (
        "/console/annonces/modeles/real_estate.json",
        "/console/annonces/modeles/real_estate.xlsx",
        "/console/annonces/modeles/real_estate-exemple.xlsx",
    ):
        download = site.get(path)
        assert download.status_code == 200 and download.data, path
    assert site.get("/console/annonces/modeles/boat.json").status_code == 404
    # another territory's import does not exist here
    other = signed_in(visitor, world["b"], world["other_editor"])
    assert other.get(f"/console/annonces/imports/{import_id}").status_code == 404
    with app.app_context(), tenant_scope(world["a"]):
        assert db.session.get(ListingImport, import_id).created_by_id == account_id(
            app, world["editor"]
        )
        db.session.rollback()


def test_an_unreadable_upload_is_refused_with_a_message(app, world, visitor):
    site = signed_in(visitor, world["a"], world["editor"])
    data = {"kind": "real_estate", "file": (io.BytesIO(b""), "vide.csv")}
    response = site.post("/console/annonces/imports", data, content_type="multipart/form-data")
    assert response.status_code in (200, 302)
    if response.status_code == 302:  # kept and reported as rejected
        page = site.get(response.location).get_data(as_text=True)
        assert "vide.csv" in page
    assert listings(app, world["a"]) == []


def test_the_log_names_the_api_key_of_a_change(app, world, visitor):
    with app.app_context(), tenant_scope(world["a"]):
        key, _plaintext = create_key("SIG du canton", ["listings:write"])
        db.session.add(
            ListingEvent(
                kind="real_estate",
                external_id="IMMO-9",
                action="create",
                source="api",
                api_key_id=key.id,
            )
        )
        db.session.commit()
    site = signed_in(visitor, world["a"], world["editor"])
    log = site.get("/console/annonces/activite")
    assert log.status_code == 200 and "SIG du canton" in log.get_data(as_text=True)
