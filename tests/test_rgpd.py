"""RGPD basics: technical cookies only, privacy page, download my data, erase me everywhere."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from core.auth.models import Account, AuditEvent
from core.extensions import db
from core.jobs import get_queue
from core.tenancy import tenant_scope
from sites.models import HomeText
from tests.support import PASSWORD, InProcessWorker

ALLOWED_COOKIES = {"session", "lang"}
TEXTS = {
    f"{code}-{field}": f"{field} {code}"
    for code in ("fr", "en")
    for field in ("title", "introduction", "axis_productive", "axis_tourism", "axis_residential")
}


def test_no_cookie_but_technical_ones_is_ever_set(make_tenant, make_account, visitor):
    town = make_tenant(kind="umbrella")
    site = visitor(town)
    seen = set()

    def note(response):
        seen.update(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))
        return response

    for path in [
        "/",
        "/confidentialite",
        "/compte/connexion",
        "/compte/inscription",
        "/compte/mot-de-passe-oublie",
        "/pages/nope",
        "/console/",
    ]:
        note(site.get(path))
    note(site.post("/langue", {"lang": "en", "next": "/"}, csrf_from="/"))
    note(site.post("/compte/connexion", {"email": "x@example.org", "password": "bad"}))
    note(site.login(make_account(roles=[("admin", town)])))
    for path in [
        "/compte/",
        "/console/",
        "/console/equipe",
        "/console/apparence",
        "/console/textes",
        "/console/membres",
        "/compte/mes-donnees.json",
    ]:
        note(site.get(path))
    note(site.post("/console/textes", TEXTS))
    note(site.post("/compte/deconnexion", csrf_from="/"))
    assert seen and seen <= ALLOWED_COOKIES


def test_privacy_page_names_the_territory(make_tenant, visitor):
    town = make_tenant(name="Riom-ès-Montagnes")
    page = visitor(town).get("/confidentialite")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Riom-ès-Montagnes" in body and "cookies techniques" in body.lower()


def test_download_then_erase_everywhere(app, make_tenant, make_account, visitor, redis_conn):
    a, b = make_tenant(name="Mauriac"), make_tenant(name="Murat")
    email = make_account(roles=[("editor", a), ("editor", b)], name="Dominique")
    for ref in (a, b):
        site = visitor(ref)
        site.login(email)
        assert site.post("/console/textes", TEXTS).status_code == 302
    data = json.loads(site.get("/compte/mes-donnees.json").get_data(as_text=True))
    assert data["account"]["email"] == email
    assert {r["role"] for r in data["roles"]} == {"editor"}
    assert set(data["territories"]) == {a.slug, b.slug}
    assert data["territories"][a.slug]["home_texts"][0]["title"] == "title fr"
    assert any(e["action"] == "login" for e in data["activity"])

    with app.app_context():
        account_id = db.session.execute(select(Account.id).where(Account.email == email)).scalar()
        db.session.rollback()
    refused = site.post("/compte/supprimer", {"password": "not it"}, csrf_from="/compte/")
    assert refused.status_code == 302
    gone = site.post("/compte/supprimer", {"password": PASSWORD}, csrf_from="/compte/")
    assert gone.status_code == 200
    assert site.get("/compte/").status_code == 302  # logged out at once
    with app.app_context():
        InProcessWorker([get_queue("low")], connection=redis_conn).work(burst=True)
        assert db.session.get(Account, account_id) is None
        db.session.rollback()
        for ref in (a, b):
            with tenant_scope(ref):
                editors = db.session.execute(select(HomeText.updated_by_id)).scalars().all()
                assert editors and all(e is None for e in editors)
                db.session.rollback()
        events = (
            db.session.execute(
                select(AuditEvent)
                .where(AuditEvent.actor_ref.is_not(None))
                .where(AuditEvent.action.in_(["login", "site.texts_changed"]))
                .where(AuditEvent.tenant_slug.in_([a.slug, b.slug]))
            )
            .scalars()
            .all()
        )
        assert events and all(e.actor_id is None and e.ip is None for e in events)
        erased = db.session.execute(
            text(
                "SELECT count(*) FROM audit_events WHERE action = 'account.erased' "
                "AND details->>'schemas' = '2'"
            )
        ).scalar()
        assert erased >= 1
        db.session.rollback()
    assert (
        visitor(a).post("/compte/connexion", {"email": email, "password": PASSWORD}).status_code
        == 200
    )  # no such account any more
