"""A territory's team and look: invitations, themes, colours, logo, home texts in two languages."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from PIL import Image
from sqlalchemy import select

from core.auth.models import RoleGrant
from core.extensions import db
from core.tenancy import tenant_scope
from sites.models import Branding
from tests.support import PASSWORD

LOOK = {
    "theme": "default",
    "primary": "#1f4e79",
    "on_primary": "#ffffff",
    "background": "#ffffff",
    "text": "#222222",
    "font": "system",
}


def test_admin_invites_an_editor_who_accepts(app, make_tenant, make_account, visitor, smtp):
    town = make_tenant(name="Murat")
    admin_email = make_account(roles=[("admin", town)], name="Maire")
    editor_email = make_account(name="Élu")
    admin = visitor(town)
    admin.login(admin_email)
    sent = admin.post("/console/equipe", {"email": editor_email, "role": "editor"})
    assert sent.status_code == 302
    link = smtp.deliver().link_to(editor_email, "/compte/invitation/")
    path = urlsplit(link).path
    editor = visitor(town)
    assert "Se connecter" in editor.get(path).get_data(as_text=True)
    editor.login(editor_email)
    accepted = editor.post(path)
    assert accepted.status_code == 302 and accepted.location.endswith("/console/")
    assert editor.get("/console/textes").status_code == 200
    assert editor.get("/console/equipe").status_code == 403
    assert editor.post(path).status_code == 400  # used once
    with app.app_context():
        roles = (
            db.session.execute(select(RoleGrant.role).where(RoleGrant.tenant_id == town.id))
            .scalars()
            .all()
        )
        assert sorted(r.value for r in roles) == ["admin", "editor"]
        db.session.rollback()


def test_low_contrast_is_refused_with_the_measured_ratio(make_tenant, make_account, visitor):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    refused = admin.post("/console/apparence", {**LOOK, "text": "#aaaaaa"})
    assert refused.status_code == 200
    body = refused.get_data(as_text=True)
    assert "2,32:1" in body and "4,5:1" in body
    assert "#aaaaaa" not in admin.get("/").get_data(as_text=True)  # nothing saved
    saved = admin.post("/console/apparence", LOOK)
    assert saved.status_code == 302
    assert "--primary:#1f4e79" in admin.get("/").get_data(as_text=True)


def test_two_themes_and_colours_never_mix_in_one_process(app, make_tenant, make_account, visitor):
    a, b = make_tenant(name="Alpha"), make_tenant(name="Bravo")
    for ref, look in (
        (a, {**LOOK, "theme": "bocage", "primary": "#2f5d34"}),
        (b, {**LOOK, "theme": "default", "primary": "#7a1f1f"}),
    ):
        admin = visitor(ref)
        admin.login(make_account(roles=[("admin", ref)]))
        assert admin.post("/console/apparence", look).status_code == 302
    sites = {"Alpha": visitor(a), "Bravo": visitor(b)}

    def fetch(i):
        name = ("Alpha", "Bravo")[i % 2]
        return name, sites[name].get("/").get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, body in pool.map(fetch, range(40)):
            if name == "Alpha":  # the bocage theme puts the kind above the title
                assert "#2f5d34" in body and "#7a1f1f" not in body
                assert body.index('class="kind"') < body.index("<h1")
                # Its look over the default theme's components (cards, menu, forms).
                assert body.index("/theme-base/site.css") < body.index("/theme/site.css")
            else:
                assert "#7a1f1f" in body and "#2f5d34" not in body
                assert body.index("<h1") < body.index('class="kind"')
                assert "/theme-base/" not in body
    base = sites["Alpha"].get("/theme-base/site.css")
    own = sites["Alpha"].get("/theme/site.css")
    assert base.status_code == own.status_code == 200
    assert b".listing-card" in base.data and base.data != own.data


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (64, 32), (31, 78, 121, 255)).save(out, "PNG")
    return out.getvalue()


def test_logo_upload_is_sanitised_stored_and_served(make_tenant, make_account, visitor):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    token = admin.csrf("/console/apparence")
    evil = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
    evil += b'<rect width="10" height="10" fill="#000"/></svg>'
    admin.client.post(
        "/console/apparence/logo",
        base_url=admin.base,
        content_type="multipart/form-data",
        data={"csrf_token": token, "logo": (io.BytesIO(evil), "logo.svg")},
    )
    home = admin.get("/").get_data(as_text=True)
    src = re.search(r'<img class="logo" src="([^"]+)"', home).group(1)
    served = admin.get(src)
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"
    assert b"script" not in served.data and b"onload" not in served.data and b"<rect" in served.data
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    gif = b"GIF89a" + b"\x00" * 20
    response = admin.client.post(
        "/console/apparence/logo",
        base_url=admin.base,
        content_type="multipart/form-data",
        data={"csrf_token": token, "logo": (io.BytesIO(gif), "logo.png")},
        follow_redirects=True,
    )
    assert "PNG, JPEG ou SVG" in response.get_data(as_text=True)
    admin.client.post(
        "/console/apparence/logo",
        base_url=admin.base,
        content_type="multipart/form-data",
        data={"csrf_token": token, "logo": (io.BytesIO(png_bytes()), "l.png")},
    )
    src = re.search(r'<img class="logo" src="([^"]+)"', admin.get("/").get_data(True)).group(1)
    assert src.endswith(".png") and admin.get(src).mimetype == "image/png"


def test_home_texts_in_french_and_english(make_tenant, make_account, visitor):
    town = make_tenant(name="Murat")
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    texts = {
        "fr-title": "Vivre à Murat",
        "fr-introduction": "Au pied du rocher de Bonnevie.",
        "fr-axis_productive": "Fromageries",
        "fr-axis_tourism": "Volcans",
        "fr-axis_residential": "Écoles",
        "en-title": "Living in Murat",
        "en-introduction": "Below the Bonnevie rock.",
        "en-axis_productive": "Cheese dairies",
        "en-axis_tourism": "Volcanoes",
        "en-axis_residential": "Schools",
    }
    assert editor.post("/console/textes", texts).status_code == 302
    reader = visitor(town)
    french = reader.get("/").get_data(as_text=True)
    assert "Vivre à Murat" in french and "Économie touristique" in french
    assert reader.post("/langue", {"lang": "en", "next": "/"}, csrf_from="/").status_code == 303
    english = reader.get("/").get_data(as_text=True)
    assert "Living in Murat" in english and "Tourism economy" in english
    assert '<html lang="en">' in english
    assert PASSWORD not in english


def test_chosen_font_reaches_the_css_as_css_and_its_files_are_served(
    app, make_tenant, make_account, visitor
):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    assert admin.post("/console/apparence", {**LOOK, "font": "humanist"}).status_code == 302
    home = admin.get("/").get_data(as_text=True)
    assert "--font:'Fira Sans', 'Segoe UI', 'DejaVu Sans', sans-serif" in home
    assert "&#39;" not in re.search(r"<style[^>]*>(.*?)</style>", home, re.S).group(1)
    face = re.search(r'href="([^"]*fonts/fira-sans\.css)"', home).group(1)
    with admin.get(face) as served:  # a file response: closed, or its file stays open
        css = served.get_data(as_text=True)
    woff2 = re.findall(r"url\(([^)]+\.woff2)\)", css)
    assert len(woff2) == 2
    for name in woff2:
        with admin.get(face.rsplit("/", 1)[0] + "/" + name) as served:
            assert served.status_code == 200 and served.data[:4] == b"wOF2"
    with admin.get(face.rsplit("/", 1)[0] + "/fira-sans/LICENSE") as served:
        assert b"SIL Open Font License" in served.data
    assert admin.post("/console/apparence", {**LOOK, "font": "system"}).status_code == 302
    assert "fonts/" not in admin.get("/").get_data(as_text=True)  # a system stack loads nothing


def test_a_font_or_colour_not_declared_never_reaches_the_css(app, make_tenant, visitor):
    """Whatever a row holds (written around the form), only declared stacks and #rrggbb get in."""
    town = make_tenant()
    hostile = "x}</style><script>alert(1)"  # the column holds 40 characters
    with app.app_context(), tenant_scope(town):
        db.session.add(Branding(id=1, font=hostile, primary="#12345\n", text="#222222"))
        db.session.commit()
    home = visitor(town).get("/").get_data(as_text=True)
    style = re.search(r"<style[^>]*>(.*?)</style>", home, re.S).group(1)
    assert "alert" not in home and "#12345" not in home
    assert "--text:#222222" in style and "--font:system-ui" in style and "--primary" not in style


def test_the_console_refuses_a_font_not_offered(make_tenant, make_account, visitor):
    town = make_tenant()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    refused = admin.post("/console/apparence", {**LOOK, "font": "Comic Sans MS"})
    assert refused.status_code == 200 and "Comic Sans" not in admin.get("/").get_data(True)
