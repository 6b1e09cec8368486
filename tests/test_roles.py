"""Role matrix: every role × console route × own/other territory → 200 / 302 / 403 / 404."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core.auth.models import AuditEvent, RoleGrant
from core.extensions import db
from tenants.provisioning import add_member

CONSOLE_ROUTES = ["/console/", "/console/equipe", "/console/apparence", "/console/textes"]
#: Expected status on the person's own territory, per role, per route above.
OWN = {
    "resident": [403, 403, 403, 403],
    "editor": [200, 403, 403, 200],
    "admin": [200, 200, 200, 200],
}


@pytest.fixture
def world(app, make_tenant, make_account):
    a, b = make_tenant(name="Mauriac"), make_tenant(name="Murat")
    umbrella = make_tenant(kind="umbrella", name="PVD Cantal")
    outsider = make_tenant(name="Pleaux")

    with app.app_context():
        add_member(umbrella.slug, a.slug)
        add_member(umbrella.slug, b.slug)
    people = {
        "resident": make_account(),
        "editor": make_account(roles=[("editor", a)]),
        "admin": make_account(roles=[("admin", a)]),
        "admin_b": make_account(roles=[("admin", b)]),
        "coordinator": make_account(roles=[("coordinator", umbrella)]),
        "billing_admin": make_account(roles=[("billing_admin", None)]),
    }
    return {"a": a, "b": b, "umbrella": umbrella, "outsider": outsider, "people": people}


@pytest.mark.parametrize("role", ["resident", "editor", "admin"])
def test_territory_console_on_own_and_other_territory(world, visitor, role):
    email = world["people"][role]
    own, other = visitor(world["a"]), visitor(world["b"])
    own.login(email)
    other.login(email)
    assert [own.get(p).status_code for p in CONSOLE_ROUTES] == OWN[role]
    assert [other.get(p).status_code for p in CONSOLE_ROUTES] == [403] * len(CONSOLE_ROUTES)


def test_anonymous_is_sent_to_login_everywhere(world, visitor):
    site = visitor(world["a"])
    for path in CONSOLE_ROUTES + ["/console/membres"]:
        response = site.get(path)
        assert response.status_code == 302 and "/compte/connexion?next=" in response.location
    admin_host = visitor("admin.vivrau.localhost")
    assert admin_host.get("/plateforme/").status_code == 302


def test_coordinator_reads_members_from_the_umbrella_and_nothing_else(world, visitor):
    email = world["people"]["coordinator"]
    on_umbrella = visitor(world["umbrella"])
    on_umbrella.login(email)
    assert on_umbrella.get("/console/").status_code == 200
    listing = on_umbrella.get("/console/membres")
    assert listing.status_code == 200
    body = listing.get_data(as_text=True)
    assert "Mauriac" in body and "Murat" in body and "Pleaux" not in body
    assert on_umbrella.get(f"/console/membres/{world['a'].slug}").status_code == 200
    assert on_umbrella.get(f"/console/membres/{world['outsider'].slug}").status_code == 404
    assert on_umbrella.get("/console/equipe").status_code == 403
    on_member = visitor(world["a"])
    on_member.login(email)
    assert on_member.get("/console/").status_code == 403
    # the member list exists only on umbrellas
    admin = visitor(world["a"])
    admin.login(world["people"]["admin"])
    assert admin.get("/console/membres").status_code == 404


@pytest.mark.parametrize("role", ["resident", "editor", "admin", "coordinator", "billing_admin"])
def test_platform_console_is_for_billing_admins_only(world, visitor, role):
    site = visitor("admin.vivrau.localhost")
    site.login(world["people"][role])
    expected = 200 if role == "billing_admin" else 403
    assert site.get("/plateforme/").status_code == expected
    if role == "billing_admin":
        on_territory = visitor(world["a"])
        on_territory.login(world["people"][role])
        assert on_territory.get("/console/").status_code == 403


def test_another_territorys_grant_is_404_not_403(app, world, visitor):
    with app.app_context():
        foreign = db.session.execute(
            select(RoleGrant.id).where(RoleGrant.tenant_id == world["umbrella"].id)
        ).scalar()
        db.session.rollback()
    site = visitor(world["a"])
    site.login(world["people"]["admin"])
    response = site.post(f"/console/equipe/{foreign}/retirer", csrf_from="/console/equipe")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(RoleGrant, foreign) is not None
        db.session.rollback()


def test_a_waiting_invitation_reads_in_words_and_can_be_sent_again_or_cancelled(
    app, world, visitor, smtp
):
    site = visitor(world["a"])
    site.login(world["people"]["admin"])
    sent = site.post(
        "/console/equipe",
        {"email": "adjointe@example.org", "role": "editor"},
        csrf_from="/console/equipe",
    )
    assert sent.status_code == 302
    first = smtp.deliver().link_to("adjointe@example.org", "/compte/invitation/")
    page = site.get("/console/equipe").get_data(as_text=True)
    waiting = re.search(r'<tr id="invitation-(\d+)">(.*?)</tr>', page, re.S)
    assert waiting and "Éditeur" in waiting.group(2) and ">editor<" not in waiting.group(2)
    invitation_id = waiting.group(1)
    # Another territory's admin cannot touch it.
    other = visitor(world["b"])
    other.login(world["people"]["admin_b"])
    path = f"/console/equipe/invitations/{invitation_id}/annuler"
    assert other.post(path, csrf_from="/console/equipe").status_code == 404
    again = site.post(
        f"/console/equipe/invitations/{invitation_id}/renvoyer", csrf_from="/console/equipe"
    )
    assert again.status_code == 302
    second = smtp.deliver().link_to("adjointe@example.org", "/compte/invitation/")
    assert second != first
    assert visitor(world["a"]).get(urlsplit(first).path).status_code == 400  # the old link
    page = site.get("/console/equipe").get_data(as_text=True)
    newest = re.search(r'<tr id="invitation-(\d+)">', page).group(1)
    cancelled = site.post(
        f"/console/equipe/invitations/{newest}/annuler", csrf_from="/console/equipe"
    )
    assert cancelled.status_code == 302
    assert 'id="invitation-' not in site.get("/console/equipe").get_data(as_text=True)
    with app.app_context():
        actions = db.session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.tenant_id == world["a"].id, AuditEvent.action.like("invitation%"))
            .order_by(AuditEvent.id)
        ).scalars()
        assert list(actions) == [
            "invitation.sent",
            "invitation.cancelled",
            "invitation.sent",
            "invitation.cancelled",
        ]
        db.session.rollback()
