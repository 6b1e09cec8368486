"""The platform console creates territories with the same service as the CLI."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from core.extensions import db
from tests.support import drop_tenants, host, unique_slug


def test_billing_admin_creates_a_territory_from_the_console(app, make_account, visitor):
    console = visitor("admin.vivrau.localhost")
    console.login(make_account(roles=[("billing_admin", None)]))
    slug = unique_slug("web")
    slugs = [slug]
    try:
        created = console.post(
            "/plateforme/",
            {
                "slug": slug,
                "name": "Allanche",
                "kind": "commune",
                "code": "15001",
                "setup_until": (date.today() + timedelta(days=60)).isoformat(),
            },
        )
        assert created.status_code == 302
        listing = console.get("/plateforme/").get_data(as_text=True)
        assert "Allanche" in listing and host(type("R", (), {"slug": slug})) in listing
        with app.app_context():
            assert (
                db.session.execute(
                    text("SELECT count(*) FROM pg_namespace WHERE nspname = :n"), {"n": f"t_{slug}"}
                ).scalar()
                == 1
            )
            db.session.rollback()
        assert visitor(host(type("R", (), {"slug": slug}))).get("/").status_code == 200
        closed = unique_slug("web")
        slugs.append(closed)
        console.post(
            "/plateforme/", {"slug": closed, "name": "Ségur", "kind": "commune", "code": "15226"}
        )
        # Created without a set-up period: nothing is open until a contract or a grant.
        assert visitor(host(type("R", (), {"slug": closed}))).get("/").status_code == 403
        again = console.post(
            "/plateforme/", {"slug": slug, "name": "Allanche", "kind": "commune", "code": "15001"}
        )
        assert again.status_code == 400 and (
            "Un territoire utilise déjà cet identifiant." in again.get_data(as_text=True)
        )
        bad = console.post(
            "/plateforme/", {"slug": unique_slug(), "name": "X", "kind": "commune", "code": "123"}
        )
        assert bad.status_code == 400 and "(INSEE)" in bad.get_data(as_text=True)
        sql = console.post(
            "/plateforme/", {"slug": 'x"; drop', "name": "X", "kind": "commune", "code": "15001"}
        )
        assert sql.status_code == 400
    finally:
        drop_tenants(slugs)


def test_done_when_new_admin_invited_brands_writes_and_invites(app, make_account, visitor, smtp):
    """A billing admin creates a territory and invites its admin, who logs in, brands the
    site, writes the home page in two languages and invites an editor."""
    console = visitor("admin.vivrau.localhost:8000")
    console.login(make_account(roles=[("billing_admin", None)]))
    slug = unique_slug("new")
    admin_email = make_account(name="Nouvelle maire")
    editor_email = "adjoint@example.org"
    try:
        created = console.post(
            "/plateforme/",
            {
                "slug": slug,
                "name": "Ydes",
                "kind": "commune",
                "code": "15265",
                "admin_email": admin_email,
                "setup_until": (date.today() + timedelta(days=60)).isoformat(),
            },
        )
        assert created.status_code == 302
        link = smtp.deliver().link_to(admin_email, "/compte/invitation/")
        site_host = slug.replace("_", "-") + ".vivrau.localhost"
        assert link.startswith(f"http://{site_host}:8000/compte/invitation/")
        site = visitor(site_host)
        invitation_path = link.split(":8000", 1)[1]
        site.login(admin_email)
        assert site.post(invitation_path).status_code == 302
        look = {
            "theme": "bocage",
            "primary": "#5a2d0c",
            "on_primary": "#ffffff",
            "background": "#fffdf8",
            "text": "#1d1d1d",
            "font": "serif",
        }
        assert site.post("/console/apparence", look).status_code == 302
        texts = {
            f"{c}-{f}": f"{f} {c}"
            for c in ("fr", "en")
            for f in (
                "title",
                "introduction",
                "axis_productive",
                "axis_tourism",
                "axis_residential",
            )
        }
        assert site.post("/console/textes", texts).status_code == 302
        assert (
            site.post("/console/equipe", {"email": editor_email, "role": "editor"}).status_code
            == 302
        )
        assert (
            smtp.deliver()
            .link_to(editor_email, "/compte/invitation/")
            .startswith(f"http://{site_host}")
        )
        home = visitor(site_host).get("/").get_data(as_text=True)
        assert "title fr" in home and "--primary:#5a2d0c" in home
    finally:
        drop_tenants([slug])
