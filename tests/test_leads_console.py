"""Leads in the console: the funnel, the list and its CSV, roles, a coordinator's member towns."""

from __future__ import annotations

from sqlalchemy import select

from core.auth.models import AuditEvent
from core.csvexport import neutralise
from core.extensions import db
from core.tenancy import tenant_scope
from sites.leads import report
from sites.leads.consent import CONSENT_VERSION
from sites.leads.models import LeadConsent
from tenants.provisioning import add_member
from tests.lead_helpers import PSEUDONYM, account_id, add_lead, add_message, read_csv

# --- console ------------------------------------------------------------------------------------


def test_funnel_communes_periods_and_filters(app, make_tenant, make_account, visitor):
    town = make_tenant()
    people = [account_id(app, make_account()) for _ in range(3)]
    add_lead(app, town, people[0], "99001", stage="prospect")
    add_lead(app, town, people[0], "99002")
    add_lead(app, town, people[1], "99001")
    add_lead(app, town, people[2], "99002", stage="prospect")
    admin = visitor(town)
    admin.login(make_account(roles=[("editor", town)]))
    with app.test_request_context(), tenant_scope(town):
        funnel = report.funnel(report.Filters())
        assert (funnel.contacts, funnel.prospects, funnel.people, funnel.rate) == (4, 2, 3, 50)
        communes = {
            c["insee"]: (c["contacts"], c["prospects"])
            for c in report.per_commune(report.Filters())
        }
        assert communes == {"99001": (2, 1), "99002": (2, 1)}
        periods = report.over_time(report.Filters())
        assert sum(p["contacts"] for p in periods) == 4 and sum(p["search"] for p in periods) == 4
        page = report.lead_page(report.Filters(stage="prospect"))
        assert page.total == 2
        page = report.lead_page(report.Filters(commune="99002"))
        assert page.total == 2 and {r.commune for r in page.rows} == {"99002"}
        numbers = {r.account_id: r.number for r in report.lead_page(report.Filters()).rows}
        assert len(set(numbers.values())) == 3  # one number per person
        old = report.Filters.from_args({"since": "2001-01-01", "until": "2001-12-31"})
        assert report.lead_page(old).total == 0
        db.session.rollback()
    assert admin.get("/console/prospects/?stage=prospect&grain=week").status_code == 200
    rows = read_csv(admin.get("/console/prospects/export.csv?commune=99001"))
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"99001"}


def test_messages_to_advertisers_are_counted_and_shown(app, make_tenant, make_account, visitor):
    town = make_tenant()
    shared, hidden = (account_id(app, make_account(name=n)) for n in ("Léa Partage", "Tom Discret"))
    add_lead(app, town, shared, "99001", stage="prospect")
    add_lead(app, town, hidden, "99002", stage="prospect")
    add_message(app, town, shared, "99001", title="Maison de bourg")
    add_message(app, town, shared, "99001", title="Longère à Anglards")
    add_message(app, town, hidden, "99002", title="Grange secrète")
    with app.app_context(), tenant_scope(town):
        db.session.add(LeadConsent(account_id=shared, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    with app.test_request_context(), tenant_scope(town):
        assert report.funnel(report.Filters()).messages == 3
        assert report.funnel(report.Filters(commune="99002")).messages == 1
        old = report.Filters.from_args({"since": "2001-01-01", "until": "2001-12-31"})
        assert report.funnel(old).messages == 0
        per = {c["insee"]: c["messages"] for c in report.per_commune(report.Filters())}
        assert per == {"99001": 2, "99002": 1}
        assert sum(p["contact"] for p in report.over_time(report.Filters())) == 3
        rows = {r.account_id: r for r in report.lead_page(report.Filters()).rows}
        assert (rows[shared].messages, rows[shared].last_listing) == (2, "Longère à Anglards")
        # A count names no one; the listing a person wrote about is theirs, shown with consent.
        assert (rows[hidden].messages, rows[hidden].last_listing) == (1, None)
        db.session.rollback()
    admin = visitor(town)
    admin.login(make_account(roles=[("editor", town)]))
    page = admin.get("/console/prospects/").get_data(as_text=True)
    assert "Messages aux annonceurs" in page
    assert "2 messages aux annonceurs" in page and "1 message à un annonceur" in page
    assert "Dernier message au sujet de : Longère à Anglards" in page
    assert "Grange secrète" not in page
    rows = read_csv(admin.get("/console/prospects/export.csv"))
    column, about = (
        rows[0].index("Messages aux annonceurs"),
        rows[0].index("Dernier message au sujet de"),
    )
    by_commune = {r[3]: (r[column], r[about]) for r in rows[1:]}
    assert by_commune == {"99001": ("2", "Longère à Anglards"), "99002": ("1", "")}


def test_another_territory_never_sees_these_leads(app, make_tenant, make_account, visitor):
    a, b = make_tenant(), make_tenant()
    person = make_account(name="Paul Secret")
    pid = account_id(app, person)
    add_lead(app, a, pid, "99001", stage="prospect")
    with app.app_context(), tenant_scope(a):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    admin_b = make_account(roles=[("admin", b)])
    on_b = visitor(b)
    on_b.login(admin_b)
    page = on_b.get("/console/prospects/").get_data(as_text=True)
    assert "Paul Secret" not in page and person not in page and "99001" not in page
    assert len(read_csv(on_b.get("/console/prospects/export.csv"))) == 1  # the header only
    on_a = visitor(a)
    on_a.login(admin_b)
    assert on_a.get("/console/prospects/").status_code == 403
    assert on_a.get("/console/prospects/export.csv").status_code == 403
    admin_a = visitor(a)
    admin_a.login(make_account(roles=[("admin", a)]))
    assert "Paul Secret" in admin_a.get("/console/prospects/").get_data(as_text=True)


def test_csv_is_formula_safe_with_a_bom(app, make_tenant, make_account, visitor):
    town = make_tenant()
    person = make_account(name='=HYPERLINK("http://evil")')
    pid = account_id(app, person)
    add_lead(app, town, pid, "99001")
    with app.app_context(), tenant_scope(town):
        db.session.add(LeadConsent(account_id=pid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    response = admin.get("/console/prospects/export.csv")
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    assert [neutralise(v) for v in ("+1", "-1", "@x", "\tx", "\rx", "ok", None)] == [
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "leads.exported", AuditEvent.tenant_id == town.id
            )
        ).scalar_one()
        assert event.details == {"rows": 1, "identified": 1}
        db.session.rollback()


def test_roles(app, make_tenant, make_account, visitor):
    town = make_tenant()
    anonymous = visitor(town)
    assert anonymous.get("/console/prospects/").status_code == 302
    resident = visitor(town)
    resident.login(make_account())
    for path in (
        "/console/prospects/",
        "/console/prospects/export.csv",
        "/console/prospects/membres",
    ):
        assert resident.get(path).status_code == 403, path
    editor = visitor(town)
    editor.login(make_account(roles=[("editor", town)]))
    assert editor.get("/console/prospects/").status_code == 200
    assert editor.get("/console/prospects/membres").status_code == 403
    assert 'href="/console/prospects/"' in editor.get("/console/").get_data(as_text=True)
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    assert admin.get("/console/prospects/membres").status_code == 404  # not an umbrella
    assert admin.get("/console/prospects/?member=whatever").status_code == 404


# --- umbrellas -----------------------------------------------------------------------------------


def test_coordinator_sees_figures_per_member_town(app, make_tenant, make_account, visitor):
    umbrella = make_tenant(kind="umbrella", name="PVD Cantal")
    first = make_tenant(code="15187", name="Murat")
    second = make_tenant(code="15120", name="Mauriac")
    outsider = make_tenant(code="15014", name="Allanche")
    with app.app_context():
        add_member(umbrella.slug, first.slug)
        add_member(umbrella.slug, second.slug)
    consenting = make_account(name="Alice Consent")
    silent = make_account(name="Bob Silence")
    cid, sid = account_id(app, consenting), account_id(app, silent)
    # Searches on the umbrella's site: leads in its schema, by member commune.
    add_lead(app, umbrella, cid, "15187", stage="prospect")
    add_lead(app, umbrella, sid, "15187")
    add_lead(app, umbrella, sid, "15120")
    add_message(app, umbrella, sid, "15187")  # a message about a house in Murat
    with app.app_context(), tenant_scope(umbrella):
        db.session.add(LeadConsent(account_id=cid, text_version=CONSENT_VERSION, wording="x"))
        db.session.commit()
    # A search on Murat's own site: counted for the coordinator, details stay with Murat.
    own = make_account(name="Chloé Murat")
    add_lead(app, first, account_id(app, own), "15187")
    add_message(app, first, account_id(app, own), "15187")
    add_message(app, first, account_id(app, own), "15187")
    with app.app_context(), tenant_scope(first):
        db.session.add(
            LeadConsent(account_id=account_id(app, own), text_version=CONSENT_VERSION, wording="x")
        )
        db.session.commit()

    coordinator = visitor(umbrella)
    coordinator.login(make_account(roles=[("coordinator", umbrella)]))
    with app.test_request_context(), tenant_scope(umbrella):
        murat = report.funnel(report.Filters(communes=("15187",)))
        assert (murat.contacts, murat.prospects, murat.people) == (2, 1, 2)
        db.session.rollback()
    page = coordinator.get("/console/prospects/membres").get_data(as_text=True)
    assert "Murat" in page and "Mauriac" in page and "Allanche" not in page
    assert "Chloé Murat" not in page
    lines = {
        name: page.split(f">{name}</a></th>")[1].split("</tr>")[0] for name in ("Murat", "Mauriac")
    }
    cells = {
        name: [c.split("<")[0] for c in line.split("<td>")[1:]] for name, line in lines.items()
    }
    # Contacts, prospects, rate, people, messages here; contacts, prospects, messages there.
    assert cells["Murat"] == ["2", "1", "50 %", "2", "1", "1", "0", "2"]
    assert cells["Mauriac"] == ["1", "0", "0 %", "1", "0", "0", "0", "0"]

    detail = coordinator.get(f"/console/prospects/?member={first.slug}").get_data(as_text=True)
    assert "Alice Consent" in detail and "Bob Silence" not in detail and PSEUDONYM.search(detail)
    assert "Chloé Murat" not in detail
    rows = read_csv(coordinator.get(f"/console/prospects/export.csv?member={first.slug}"))
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"15187"}
    assert coordinator.get(f"/console/prospects/?member={outsider.slug}").status_code == 404

    # Murat's own console: the leads of its own site only.
    mayor = visitor(first)
    mayor.login(make_account(roles=[("admin", first)]))
    own_page = mayor.get("/console/prospects/").get_data(as_text=True)
    assert "Chloé Murat" in own_page and "Alice Consent" not in own_page
    assert mayor.get("/console/prospects/membres").status_code == 404
