"""One membership: an umbrella's member towns, with their dates, drive its hosting, its billing
and its members' features alike; the reconciliation of the former second list."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from billing import contracts
from billing.contracts import BillingInputError
from billing.members import members as member_stays
from billing.models import Contract
from billing.schedule import monthly_ht_cents
from core.config import database_url
from core.databases import ensure_database, remove_database
from core.extensions import bind_migrations, db
from core.registry import Membership, Tenant, members_of
from tenants import entitlements
from tests import billing_helpers
from tests.billing_helpers import UMBRELLA_SIRET, make_customer
from tests.private_redis import other_app
from tests.support import TEST_DATABASE_URL, drop_tenants

billing_rows = billing_helpers.billing_rows
billing_admin = billing_helpers.billing_admin

TODAY = entitlements.today()
START = max(date(2026, 1, 1), date(TODAY.year - 1, TODAY.month, 1))


def umbrella_contract(app, umbrella, towns, siret=UMBRELLA_SIRET):
    """The umbrella's contract, option 2, its `towns` joining at its start; its id."""
    customer_id = make_customer(app, umbrella.id, siret, f"Groupement {umbrella.slug}")
    with app.app_context():
        made = contracts.create_contract(
            customer_id=customer_id,
            kind="umbrella",
            start_on=START,
            end_on=date(START.year + 3, START.month, 1),
            options={"option2": None},
            members=[{"tenant_id": t.id} for t in towns],
        )
        db.session.commit()
        return made.id


def test_join_and_leave_dates_drive_billing_hosting_and_features_on_the_same_day(
    app, make_tenant, billing_rows
):
    umbrella = make_tenant(kind="umbrella", entitled=False)
    # Three towns at the start, so that option 2 is above its floor and a fourth counts.
    first, *others = (make_tenant(entitled=False) for _ in range(3))
    second = make_tenant(entitled=False)
    contract_id = umbrella_contract(app, umbrella, [first, *others])
    joins, leaves = START + timedelta(days=40), TODAY + timedelta(days=20)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        stay = contracts.member_joins(contract, second.id, joins)
        contracts.member_leaves(contract, stay.id, leaves)
        db.session.commit()
        # Billing: one member's share more from the day it joins, less from the day it leaves.
        before = monthly_ht_cents(contract, joins - timedelta(days=1))
        during = monthly_ht_cents(contract, joins)
        after = monthly_ht_cents(contract, leaves)
        assert during > before and after == before
        assert monthly_ht_cents(contract, leaves - timedelta(days=1)) == during
        # Hosting: the umbrella's towns on each day.
        on = {d: [t.id for t in members_of(db.session, umbrella.id, d)] for d in (joins, leaves)}
        staying = {first.id, *(t.id for t in others)}
        assert set(on[joins]) == staying | {second.id} and set(on[leaves]) == staying
        # Features: the site of the leaving town closes that very day.
        assert entitlements.entitled(second.id, "site", leaves - timedelta(days=1))
        assert not entitlements.entitled(second.id, "site", leaves)
        assert entitlements.entitled(first.id, "site", leaves)
        # The contract lists it with its dates; the membership is the only record of them.
        listed = {s.member_tenant_id: s for s in member_stays(contract)}
        assert (listed[second.id].joined_on, listed[second.id].left_on) == (joins, leaves)
        db.session.rollback()


def test_a_town_of_another_umbrella_over_the_same_dates_is_refused(app, make_tenant, billing_rows):
    ours, theirs = make_tenant(kind="umbrella", name="PVD Nord"), make_tenant(kind="umbrella")
    town = make_tenant(name="Riom")
    with app.app_context():
        contracts_before = db.session.scalar(select(func.count(Contract.id)))
        db.session.rollback()
    umbrella_contract(app, theirs, [town], siret="20006666000016")
    customer_id = make_customer(app, ours.id, "21150265300010", "Groupement Nord")
    with app.app_context():
        with pytest.raises(BillingInputError) as refused:
            contracts.create_contract(
                customer_id=customer_id,
                kind="umbrella",
                start_on=START,
                end_on=date(START.year + 2, START.month, 1),
                members=[{"tenant_id": town.id}],
            )
        db.session.rollback()
        assert refused.value.field == "members" and "Riom" in str(refused.value)
        assert db.session.scalar(select(func.count(Contract.id))) == contracts_before + 1
        stays = db.session.scalar(select(func.count()).where(Membership.member_id == town.id))
        db.session.rollback()
    assert stays == 1  # only its stay in the other umbrella


def test_a_town_cannot_leave_before_it_joined(app, make_tenant, billing_rows):
    umbrella = make_tenant(kind="umbrella")
    first, second = make_tenant(), make_tenant()
    contract_id = umbrella_contract(app, umbrella, [first, second])
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        stay = next(s for s in member_stays(contract) if s.member_tenant_id == second.id)
        with pytest.raises(BillingInputError) as refused:
            contracts.member_leaves(contract, stay.id, START - timedelta(days=1))
        db.session.rollback()
        assert refused.value.field == "on"
        assert db.session.get(Membership, stay.id).left_on is None
        db.session.rollback()


# --- the reconciliation of the two lists -----------------------------------------------------

BEFORE = "3f7d2b9c4e10"


@pytest.fixture
def scratch(app, tmp_path_factory):
    """A database of its own at the revision before the reconciliation, and its application."""
    url = TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/vivrau_members_{uuid.uuid4().hex[:8]}"
    ensure_database(url)
    try:
        with other_app(app, tmp_path_factory, DATABASE_URL=url) as scratch_app:
            bind_migrations(scratch_app)
            with scratch_app.app_context():
                upgrade(revision=BEFORE)
            yield scratch_app, url
    finally:
        remove_database(url)


def _seed(url: str, billed_town_has_territory: bool = True) -> dict[str, int]:
    engine = create_engine(database_url(url), poolclass=NullPool)
    ids = {}
    with engine.begin() as conn:

        def tenant(slug, kind, code=None):
            return conn.execute(
                text(
                    "INSERT INTO tenants (slug, name, kind, official_code, schema_name) "
                    "VALUES (:s, :n, :k, :c, :schema) RETURNING id"
                ),
                {"s": slug, "n": slug, "k": kind, "c": code, "schema": f"t_{slug}"},
            ).scalar_one()

        ids["umbrella"] = tenant("pvd_nord", "umbrella")
        ids["billed_only"] = tenant("allanche", "commune", "15001")
        ids["other_dates"] = tenant("murat", "commune", "15138")
        ids["hosted_only"] = tenant("riom", "commune", "15162")
        customer = conn.execute(
            text(
                "INSERT INTO billing_customers (tenant_id, legal_name, siret, address_line1, "
                "postcode, city, billing_email) VALUES (:t, 'PVD Nord', '20006666000016', "
                "'1 place', '15100', 'Saint-Flour', 'pvd@example.org') RETURNING id"
            ),
            {"t": ids["umbrella"]},
        ).scalar_one()
        contract = conn.execute(
            text(
                "INSERT INTO billing_contracts (customer_id, kind, start_on, end_on, price_date) "
                "VALUES (:c, 'umbrella', '2027-01-01', '2030-01-01', '2027-01-01') RETURNING id"
            ),
            {"c": customer},
        ).scalar_one()
        ids["contract"] = contract
        for name, tenant_id, joined, left in (
            ("Allanche", ids["billed_only"] if billed_town_has_territory else None,
             "2027-01-01", None),
            ("Murat", ids["other_dates"], "2027-03-01", "2028-01-01"),
        ):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO billing_umbrella_members (contract_id, member_tenant_id, name, "
                    "tier, joined_on, left_on) VALUES (:c, :t, :n, 'commune', :j, :l)"
                ),
                {"c": contract, "t": tenant_id, "n": name, "j": joined, "l": left},
            )
        for member, joined in (
            (ids["other_dates"], "2027-02-01"),
            (ids["hosted_only"], "2027-01-01"),
        ):
            conn.execute(
                text(
                    "INSERT INTO memberships (umbrella_id, member_id, joined_on) "
                    "VALUES (:u, :m, :j)"
                ),
                {"u": ids["umbrella"], "m": member, "j": joined},
            )
    engine.dispose()
    return ids


def _stays(url: str) -> dict[int, tuple]:
    engine = create_engine(database_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT member_id, joined_on, left_on FROM memberships")).all()
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
    engine.dispose()
    return {r.member_id: (str(r.joined_on), r.left_on and str(r.left_on)) for r in rows}, tables


def test_the_reconciliation_merges_the_two_lists_and_reports_each_disagreement(scratch, capsys):
    scratch_app, url = scratch
    ids = _seed(url)
    with scratch_app.app_context():
        upgrade()
    said = capsys.readouterr().out
    stays, tables = _stays(url)
    assert "billing_umbrella_members" not in tables
    assert stays[ids["billed_only"]] == ("2027-01-01", None)  # billed: it joins
    assert stays[ids["other_dates"]] == ("2027-03-01", "2028-01-01")  # the billed dates win
    assert stays[ids["hosted_only"]] == ("2027-01-01", None)  # kept
    assert "Allanche joins pvd_nord from 2027-01-01" in said
    assert "Murat in pvd_nord: dates 2027-02-01" in said
    assert "riom is a member of pvd_nord" in said and "was not billed" in said


def test_the_reconciliation_stops_and_changes_nothing_when_a_town_has_no_territory(scratch, caplog):
    scratch_app, url = scratch
    _seed(url, billed_town_has_territory=False)
    before = _stays(url)
    # `flask db upgrade` says it in one line and exits 1, no traceback.
    with scratch_app.app_context(), pytest.raises(SystemExit):
        upgrade()
    assert "member town 'Allanche' has no territory" in caplog.text
    assert _stays(url) == before  # the memberships and the billed list as they were


def test_a_town_not_on_the_platform_is_created_as_it_joins(
    app, make_tenant, billing_rows, billing_admin
):
    umbrella = make_tenant(kind="umbrella")
    first, *others = (make_tenant() for _ in range(3))
    contract_id = umbrella_contract(app, umbrella, [first, *others])
    path = f"/plateforme/facturation/contrats/{contract_id}/adhesion"
    page = f"/plateforme/facturation/contrats/{contract_id}"
    joins = TODAY + timedelta(days=5)
    with app.app_context():
        before = db.session.scalar(select(func.count(Tenant.id)))
        db.session.rollback()
    created: list[str] = []
    try:
        # Nothing named, or a code that is no INSEE code: refused beside the field, nothing made.
        for fields in (
            {"new_name": "", "new_code": ""},
            {"new_name": "Marcenat", "new_code": "123"},
        ):
            data = {"tenant_id": "0", "new_kind": "commune", "on": joins.isoformat(), **fields}
            refused = billing_admin.post(path, data, csrf_from=page)
            assert refused.status_code == 400
            with app.app_context():
                assert db.session.scalar(select(func.count(Tenant.id))) == before
                db.session.rollback()
        data = {
            "tenant_id": "0",
            "new_name": "Marcenat",
            "new_kind": "commune",
            "new_code": "15114",
            "on": joins.isoformat(),
        }
        assert billing_admin.post(path, data, csrf_from=page).status_code == 302
        with app.app_context():
            town = db.session.execute(select(Tenant).where(Tenant.name == "Marcenat")).scalar_one()
            created.append(town.slug)
            assert town.slug.startswith("marcenat") and town.official_code == "15114"
            stays = member_stays(db.session.get(Contract, contract_id))
            assert [(s.name, s.joined_on) for s in stays if s.member_tenant_id == town.id] == [
                ("Marcenat", joins)
            ]
            assert [t.id for t in members_of(db.session, umbrella.id, joins)].count(town.id) == 1
            db.session.rollback()
    finally:
        drop_tenants(created)
