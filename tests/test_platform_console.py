"""The platform console creates territories with the same service as the CLI."""

from __future__ import annotations

from sqlalchemy import text

from core.extensions import db
from tests.conftest import drop_tenants, host, unique_slug


def test_billing_admin_creates_a_territory_from_the_console(app, make_account, visitor):
    console = visitor("admin.vivrau.localhost")
    console.login(make_account(roles=[("billing_admin", None)]))
    slug = unique_slug("web")
    try:
        created = console.post(
            "/plateforme/", {"slug": slug, "name": "Allanche", "kind": "commune", "code": "15001"}
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
        drop_tenants([slug])
