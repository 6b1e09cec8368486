"""Idempotent writes racing each other (two tabs, a double click): a second transaction holds
the same row, uncommitted, while the request or service writes it; both must end well."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from core.auth import service
from core.auth.models import Account, Role, RoleGrant
from core.config import database_url
from core.extensions import db
from core.tenancy import tenant_scope
from sites import content
from sites.branding import save_look
from sites.leads import consent
from sites.leads.models import LeadConsent
from sites.listings.models import Favourite
from sites.models import Branding, HomeText
from sites.search.models import SavedSearch
from sites.search.saved import delete_search, save_search
from tests.listing_page_helpers import published_home
from tests.support import PASSWORD, TEST_DATABASE_URL

#: Seconds a racing write may take to reach its lock, then to finish.
BOUND = 10


@contextmanager
def held(statements: str | list[str], params: dict):
    """Run `statements` in a second transaction left open; yield a function that commits it
    once the racing work waits for its lock."""
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.connect() as conn:
        transaction = conn.begin()
        for statement in [statements] if isinstance(statements, str) else statements:
            conn.execute(text(statement), params)
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()

        def release():
            deadline = time.monotonic() + BOUND
            with engine.connect() as watch:
                while time.monotonic() < deadline:
                    blocked = watch.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE :pid = ANY(pg_blocking_pids(pid))"
                        ),
                        {"pid": pid},
                    ).scalar()
                    if blocked:
                        break
                    time.sleep(0.01)  # polls a condition, bounded by the deadline
                else:
                    raise AssertionError("the racing write never waited for the held row")
            transaction.commit()

        try:
            yield release
        finally:
            if transaction.is_active:
                transaction.rollback()
    engine.dispose()


def race(work, release):
    """Run `work` in a thread, let the held transaction commit while it waits, return its
    result (or raise its exception)."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    release()
    thread.join(BOUND)
    assert not thread.is_alive(), "the racing write did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def person(app, make_tenant, make_account, visitor):
    """A territory with a published property, and a signed-in person on its site."""
    ref = make_tenant()
    email = make_account()
    with app.app_context(), tenant_scope(ref):
        listing_id = published_home().id
        db.session.commit()
    with app.app_context():
        account_id = db.session.execute(
            select(Account.id).where(Account.email == email)
        ).scalar_one()
    site = visitor(ref)
    site.login(email)
    return ref, site, account_id, listing_id


def _favourites(app, ref, account_id) -> int:
    with app.app_context(), tenant_scope(ref):
        return db.session.execute(
            select(func.count()).where(Favourite.account_id == account_id)
        ).scalar()


def _toggle_while_held(site, form: dict, statement: str, params: dict):
    """The favourite toggle posted while another transaction holds `statement`'s rows, released
    while the request waits on them."""
    with held(statement, params) as release:
        return race(
            lambda: site.client.post("/compte/favoris/basculer", base_url=site.base, data=form),
            release,
        )


def test_adding_a_favourite_twice_at_once_keeps_one(app, person):
    ref, site, account_id, listing_id = person
    token = site.csrf("/annonces/real_estate/HOME")
    form = {"listing": listing_id, "action": "add", "csrf_token": token}
    response = _toggle_while_held(
        site,
        form,
        f'INSERT INTO "t_{ref.slug}".favourites (account_id, listing_id) VALUES (:a, :l)',
        {"a": account_id, "l": listing_id},
    )
    assert response.status_code == 302
    assert _favourites(app, ref, account_id) == 1


def test_removing_a_favourite_twice_at_once(app, person):
    ref, site, account_id, listing_id = person
    token = site.csrf("/annonces/real_estate/HOME")
    add = {"listing": listing_id, "action": "add", "csrf_token": token}
    assert site.client.post("/compte/favoris/basculer", base_url=site.base, data=add).status_code
    remove = add | {"action": "remove"}
    delete = f'DELETE FROM "t_{ref.slug}".favourites WHERE account_id = :a'
    response = _toggle_while_held(site, remove, delete, {"a": account_id})
    assert response.status_code == 302
    assert _favourites(app, ref, account_id) == 0


def _in_territory(app, ref, work):
    def run():
        with app.app_context(), tenant_scope(ref):
            result = work()
            db.session.commit()
            return result

    return run


def test_saving_a_search_of_one_name_twice_at_once_keeps_the_last(app, person):
    ref, _site, account_id, _listing_id = person
    newer = {"criteria": [{"id": "gp_km", "threshold": 5, "importance": "must"}]}
    with held(
        f'INSERT INTO "t_{ref.slug}".saved_searches (account_id, name, query) '
        "VALUES (:a, 'Maison', '{}'::jsonb)",
        {"a": account_id},
    ) as release:
        saved = race(
            _in_territory(app, ref, lambda: save_search(account_id, "Maison", newer).query),
            release,
        )
    assert saved == newer
    with app.app_context(), tenant_scope(ref):
        rows = (
            db.session.execute(
                select(SavedSearch.query).where(SavedSearch.account_id == account_id)
            )
            .scalars()
            .all()
        )
    assert rows == [newer]


def test_deleting_a_search_twice_at_once(app, person):
    ref, _site, account_id, _listing_id = person
    with app.app_context(), tenant_scope(ref):
        search_id = save_search(account_id, "Maison", {}).id
        db.session.commit()
    with held(
        f'DELETE FROM "t_{ref.slug}".saved_searches WHERE id = :i',
        {"i": search_id},
    ) as release:
        found = race(_in_territory(app, ref, lambda: delete_search(account_id, search_id)), release)
    assert found is None


def test_consenting_twice_at_once_keeps_one_consent_in_force(app, person):
    ref, _site, account_id, _listing_id = person
    with held(
        [
            "SELECT pg_advisory_xact_lock(hashtext(:key), :a)",
            f'INSERT INTO "t_{ref.slug}".lead_consents (account_id, text_version, wording) '
            "VALUES (:a, '2026-11', 'Partager')",
        ],
        {"a": account_id, "key": f"lead-consent:{ref.slug}"},
    ) as release:
        race(_in_territory(app, ref, lambda: consent.grant(account_id, ref.name).id), release)
    with app.app_context(), tenant_scope(ref):
        in_force = db.session.execute(
            select(func.count()).where(
                LeadConsent.account_id == account_id, LeadConsent.withdrawn_at.is_(None)
            )
        ).scalar()
    assert in_force == 1


def test_granting_a_role_twice_at_once_keeps_one_grant(app, person):
    """An invitation accepted from two tabs at once: one grant, no unique violation."""
    ref, _site, account_id, _listing_id = person
    with held(
        "INSERT INTO role_grants (account_id, tenant_id, role) VALUES (:a, :t, 'editor')",
        {"a": account_id, "t": ref.id},
    ) as release:

        def grant_editor():
            with app.app_context():
                account = db.session.get(Account, account_id)
                granted = service.grant(account, Role.editor, ref, None).id
                db.session.commit()
                return granted

        granted = race(grant_editor, release)
    with app.app_context():
        grants = (
            db.session.execute(
                select(RoleGrant.id).where(
                    RoleGrant.account_id == account_id, RoleGrant.role == Role.editor
                )
            )
            .scalars()
            .all()
        )
    assert grants == [granted]


def test_registering_one_address_twice_at_once(app, make_tenant, visitor):
    """The second registration finds the address taken: the same answer as any taken address."""
    site = visitor(make_tenant())
    email = f"course-{uuid.uuid4().hex[:8]}@example.org"
    token = site.csrf("/compte/inscription")
    form = {
        "email": email,
        "display_name": "Camille",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": token,
    }
    try:
        with held(
            "INSERT INTO accounts (email, password_hash, display_name, locale, session_version) "
            "VALUES (:e, 'x', 'Premier', 'fr', 1)",
            {"e": email},
        ) as release:
            response = race(
                lambda: site.client.post("/compte/inscription", base_url=site.base, data=form),
                release,
            )
        assert response.status_code == 200
        assert "Consultez votre messagerie" in response.get_data(as_text=True)
        with app.app_context():
            names = (
                db.session.execute(select(Account.display_name).where(Account.email == email))
                .scalars()
                .all()
            )
        assert names == ["Premier"]
    finally:
        engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM accounts WHERE email = :e"), {"e": email})
        engine.dispose()


LOOK = {"primary": "#123456", "on_primary": "#ffffff", "background": "#ffffff", "text": "#111111"}


def test_first_save_of_the_look_twice_at_once(app, person):
    ref = person[0]
    with held(
        f"INSERT INTO \"t_{ref.slug}\".branding (id, font) VALUES (1, 'serif')", {}
    ) as release:
        race(_in_territory(app, ref, lambda: save_look(LOOK, "system", None).id), release)
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(select(Branding)).scalars().all()
        assert [(b.primary, b.font) for b in rows] == [("#123456", "system")]


def test_first_save_of_the_home_texts_twice_at_once(app, person):
    ref = person[0]

    def save():
        row = content.home_text_for_update("fr")
        row.title = "Bienvenue à la campagne"
        return row.locale

    with held(
        f"INSERT INTO \"t_{ref.slug}\".home_texts (locale, title) VALUES ('fr', 'Avant')", {}
    ) as release:
        race(_in_territory(app, ref, save), release)
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(select(HomeText)).scalars().all()
        assert [(t.locale, t.title) for t in rows] == [("fr", "Bienvenue à la campagne")]
