"""Entitlements: what a contract (or an umbrella's, or a manual grant) switches on, day by day,
and each feature's pages, API and jobs on or off accordingly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing import contracts
from billing.contracts import BillingInputError
from billing.members import members as member_stays
from billing.models import Contract
from core.auth.models import AuditEvent
from core.extensions import db
from core.registry import Tenant
from core.tenancy import tenant_scope
from ingest.listings.imports import NOT_SUBSCRIBED, import_job
from ingest.listings.models import ListingImport
from tenants import entitlements, grants
from tenants.entitlements import Grant
from tests import billing_helpers
from tests.billing_helpers import COMMUNE_SIRET, UMBRELLA_SIRET, make_customer, text
from tests.listing_api_helpers import Client, new_key

billing_admin = billing_helpers.billing_admin
billing_rows = billing_helpers.billing_rows

TODAY = entitlements.today()
#: A start in the past within the catalogue's prices (from 2026-01-01), under a year ago.
PAST_START = max(date(2026, 1, 1), date(TODAY.year - 1, TODAY.month, 1))


def features(app, ref, on=None) -> set[str]:
    with app.app_context():
        found = {f.value for f in entitlements.features_of(ref.id, on)}
        db.session.rollback()
    return found


def contract(app, ref, options=(), start=PAST_START, years=3, siret=COMMUNE_SIRET, **extra):
    customer_id = make_customer(app, ref.id, siret, f"Client {ref.slug}")
    with app.app_context():
        made = contracts.create_contract(
            customer_id=customer_id,
            kind=extra.pop("kind", "commune"),
            start_on=start,
            end_on=extra.pop("end_on", date(start.year + years, start.month, 1)),
            options=dict(options),
            **extra,
        )
        db.session.commit()
        return made.id


def give(app, ref, feats, days=30, reason="contrat en cours de signature"):
    with app.app_context():
        tenant = db.session.get(Tenant, ref.id)
        made = grants.grant(tenant, feats, TODAY, TODAY + timedelta(days=days), reason)
        db.session.commit()
        return [g.id for g in made]


# --- the service, day by day --------------------------------------------------------------------


def test_a_contract_switches_on_its_base_and_options_from_their_own_dates(
    app, make_tenant, billing_rows
):
    town = make_tenant(entitled=False)
    assert features(app, town) == set()
    option3_start = PAST_START + timedelta(days=150)
    contract_id = contract(app, town, {"option2": None, "option3": option3_start})
    assert features(app, town, PAST_START - timedelta(days=1)) == set()
    assert features(app, town, PAST_START) == {"base", "site"}
    assert features(app, town, option3_start) == {"base", "site", "jobs"}
    # An option cancelled ends that day; a termination ends everything that day.
    with app.app_context():
        found = db.session.get(Contract, contract_id)
        site = next(o for o in found.options if o.item.value == "option2")
        contracts.cancel_option(site, TODAY)
        db.session.commit()
    assert features(app, town, TODAY - timedelta(days=1)) == {"base", "site", "jobs"}
    assert features(app, town, TODAY) == {"base", "jobs"}
    end = TODAY + timedelta(days=10)
    with app.app_context():
        contracts.terminate(db.session.get(Contract, contract_id), end)
        db.session.commit()
    assert features(app, town, end - timedelta(days=1)) == {"base", "jobs"}
    assert features(app, town, end) == set()


def test_an_umbrella_contract_covers_its_members_while_they_are_members(
    app, make_tenant, billing_rows
):
    umbrella = make_tenant(kind="umbrella", entitled=False)
    stays, goes, other = (make_tenant(entitled=False) for _ in range(3))
    contract_id = contract(
        app,
        umbrella,
        {"option1": None, "option2": None},
        siret=UMBRELLA_SIRET,
        kind="umbrella",
        members=[{"tenant_id": t.id, "name": t.name, "tier": "commune"} for t in (stays, goes)],
    )
    leaves = TODAY + timedelta(days=3)
    with app.app_context():
        found = db.session.get(Contract, contract_id)
        stay = next(m for m in member_stays(found) if m.member_tenant_id == goes.id)
        contracts.member_leaves(found, stay.id, leaves)
        db.session.commit()
    assert features(app, umbrella) == {"base", "barometer", "site"}
    assert features(app, stays) == {"base", "barometer", "site"}
    assert features(app, goes, leaves - timedelta(days=1)) == {"base", "barometer", "site"}
    assert features(app, goes, leaves) == set()  # its billing and its features stop together
    assert features(app, other) == set()


def test_a_grant_is_dated_audited_and_revocable(app, make_tenant):
    town = make_tenant(entitled=False)
    (grant_id,) = give(app, town, ["site"], days=10)
    assert features(app, town) == {"site"}
    assert features(app, town, TODAY + timedelta(days=10)) == set()
    with app.app_context():
        grants.revoke(grant_id)
        db.session.commit()
        actions = db.session.execute(
            select(AuditEvent.action).where(AuditEvent.tenant_id == town.id).order_by(AuditEvent.id)
        ).scalars()
        assert list(actions) == ["entitlement.granted", "entitlement.revoked"]
        db.session.rollback()
    assert features(app, town) == set()  # a revoked grant ends the day it is revoked


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_on": None}, "ends_on", "date de fin"),
        ({"reason": "  "}, "reason", "Dites pourquoi"),
        ({"features": []}, "feature", "au moins une"),
        ({"features": ["option9"]}, "feature", "Fonction inconnue"),
        ({"ends_on": TODAY}, "ends_on", "finir après"),
        ({"ends_on": TODAY + timedelta(days=400)}, "ends_on", "un an au plus"),
    ],
)
def test_a_bad_grant_is_refused_and_changes_nothing(app, make_tenant, change, field, message):
    town = make_tenant(entitled=False)
    spec = {
        "features": ["site"],
        "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=5),
        "reason": "mise en place",
    } | change
    with app.app_context():
        tenant = db.session.get(Tenant, town.id)
        with pytest.raises(grants.GrantError) as refused:
            grants.grant(tenant, **spec)
        db.session.rollback()
        assert refused.value.field == field and message in str(refused.value)
        count = db.session.scalar(select(func.count()).where(Grant.tenant_id == town.id))
        db.session.rollback()
    assert count == 0


def test_an_option_cancelled_before_its_start_is_refused(app, make_tenant, billing_rows):
    town = make_tenant(entitled=False)
    later = TODAY + timedelta(days=60)
    contract_id = contract(app, town, {"option2": later})
    with app.app_context():
        option = db.session.get(Contract, contract_id).options[0]
        with pytest.raises(BillingInputError, match="après son début"):
            contracts.cancel_option(option, later - timedelta(days=1))
        db.session.rollback()
    assert features(app, town, later) == {"base", "site"}


def test_the_check_is_cached_and_a_change_drops_the_cache(app, make_tenant, billing_rows):
    town = make_tenant(entitled=False)
    with app.app_context():
        cache = app.extensions["entitlements"]
        assert cache.periods(town.id) == ()
        assert cache.periods(town.id) is cache.periods(town.id)  # read once
        db.session.rollback()
    give(app, town, ["base"])  # committed: announced, every cached answer dropped
    assert features(app, town) == {"base"}


# --- the matrix: each state x each feature's pages, API and jobs -----------------------------

STATES = ("subscribed", "not subscribed", "ended", "granted")


def territory_in(app, make_tenant, state: str, option: str):
    """A territory whose `option` (and base) is in `state` today."""
    town = make_tenant(entitled=False)
    if state == "subscribed":
        contract(app, town, {option: None})
    elif state == "not subscribed":
        # Another option only: the base runs, `option` does not.
        contract(app, town, {"option1" if option != "option1" else "option3": None})
    elif state == "ended":
        contract(app, town, {option: None}, start=PAST_START, end_on=TODAY - timedelta(days=1))
    else:
        feature = {"option2": "site", "option1": "barometer", "option3": "jobs"}[option]
        give(app, town, ["base", feature])
    return town


@pytest.mark.parametrize("state", STATES)
def test_the_dedicated_site_follows_option_2(app, make_tenant, visitor, billing_rows, state):
    town = territory_in(app, make_tenant, state, "option2")
    on = state in ("subscribed", "granted")
    site = visitor(town)
    for path in ("/", "/recherche", "/annonces/", "/compte/favoris/"):
        response = site.get(path)
        if on:
            assert response.status_code in (200, 302), (path, response.status_code)
        else:
            assert response.status_code == 403, path
            page = text(response)
            assert "n’est pas ouvert" in page or "n'est pas ouvert" in page
            assert "facturation@" in page  # whom to write to
            assert 'href="/recherche"' not in page  # no menu into closed pages
    api = site.get("/api/v1/search/presets")
    assert api.status_code == (200 if on else 403)
    if not on:
        assert api.mimetype == "application/problem+json"
        assert "option 2" in api.get_json()["detail"]
    # What stays open: signing in, the privacy page, the logo the console shows.
    assert site.get("/compte/connexion").status_code == 200
    assert site.get("/confidentialite").status_code == 200


@pytest.mark.parametrize("state", STATES)
def test_listings_management_follows_the_base_subscription(
    app, make_tenant, make_account, visitor, billing_rows, state
):
    town = territory_in(app, make_tenant, state, "option2")
    on = state != "ended"  # "not subscribed" to option 2 still has its base
    editor = visitor(town)
    editor.login(make_account(roles=[("admin", town)]))
    console = editor.get("/console/annonces/imports")
    assert console.status_code == (200 if on else 403)
    if not on:
        assert "abonnement de base" in text(console)
    api = Client(app, town, new_key(app, town))
    listed = api.get("/api/v1/listings")
    assert listed.status_code == (200 if on else 403)


def test_an_import_job_does_nothing_for_a_territory_without_base(app, make_tenant, billing_rows):
    town = territory_in(app, make_tenant, "ended", "option2")
    with app.app_context(), tenant_scope(town):
        record = ListingImport(
            kind="housing",
            filename="annonces.csv",
            status="queued",
            file_key="imports/none.csv",
        )
        db.session.add(record)
        db.session.commit()
        import_id = record.id
        assert import_job.func(import_id) == "failed"
        db.session.rollback()
        found = db.session.get(ListingImport, import_id)
        assert (found.status, found.message) == ("failed", NOT_SUBSCRIBED)
        assert found.rows_read == 0 and found.started_at is None
        db.session.rollback()


@pytest.mark.parametrize("option", ["option1", "option3"])
@pytest.mark.parametrize("state", STATES)
def test_options_1_and_3_are_answered_by_the_service(app, make_tenant, billing_rows, state, option):
    town = territory_in(app, make_tenant, state, option)
    feature = {"option1": "barometer", "option3": "jobs"}[option]
    assert (feature in features(app, town)) == (state in ("subscribed", "granted"))


# --- the platform console ----------------------------------------------------------------------


def test_the_platform_console_shows_who_has_what_and_grants(
    app, make_tenant, billing_admin, billing_rows
):
    town = make_tenant(entitled=False, name="Ydes")
    contract(app, town, {"option2": None})
    page = billing_admin.get("/plateforme/droits")
    assert page.status_code == 200
    body = text(page)
    assert "Ydes" in body and "contrat n°" in body
    # A grant with no reason: refused in words, nothing written.
    form = {
        "tenant": str(town.id),
        "features": ["jobs"],
        "ends_on": (TODAY + timedelta(days=20)).isoformat(),
        "reason": "",
    }
    refused = billing_admin.post("/plateforme/droits", data=form, csrf_from="/plateforme/droits")
    assert refused.status_code == 400 and "Dites pourquoi" in text(refused)
    assert features(app, town) == {"base", "site"}
    form["reason"] = "Option 3 signée, bon de commande en cours"
    done = billing_admin.post("/plateforme/droits", data=form, csrf_from="/plateforme/droits")
    assert done.status_code == 302
    assert features(app, town) == {"base", "site", "jobs"}
    detail = text(billing_admin.get(f"/plateforme/droits/{town.slug}"))
    assert "bon de commande en cours" in detail and "Révoquer" in detail
    with app.app_context():
        grant_id = db.session.scalar(select(Grant.id).where(Grant.tenant_id == town.id))
        db.session.rollback()
    path = f"/plateforme/droits/{town.slug}/retirer/{grant_id}"
    assert billing_admin.post(path, csrf_from=f"/plateforme/droits/{town.slug}").status_code == 302
    assert features(app, town) == {"base", "site"}
