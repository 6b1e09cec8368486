"""Billing pages, contracts: the schedule previewed before saving, the go-live date, options
cancelled with their true-up, changes for billing admins only."""

from __future__ import annotations

from datetime import date

from tests import billing_helpers
from tests.billing_helpers import (
    ADMIN_HOST,
    BASE,
    COMMUNE_SIRET,
    cell,
    contract_state,
    count,
    created_id,
    invoice_ids,
    make_customer,
    schedule_rows,
    set_today,
    text,
)

#: The shared fixtures this module's tests ask for.
billing_admin = billing_helpers.billing_admin
billing_rows = billing_helpers.billing_rows
commune_contract = billing_helpers.commune_contract


def test_contract_preview_shows_five_years_and_refuses_bad_dates(
    app, billing_admin, make_tenant, billing_rows
):
    town = make_tenant(kind="commune")
    customer_id = make_customer(app, town.id, COMMUNE_SIRET, "Commune d'Ydes")
    form = {
        "customer_id": customer_id,
        "kind": "commune",
        "start": "2027-01-01",
        "go_live": "2027-03-01",
        "end": "2032-01-01",
        "option_2": "2027-01-01",
        "action": "preview",
    }
    preview = billing_admin.post(f"{BASE}/contrats/nouveau", form)
    assert preview.status_code == 200, text(preview)[-3000:]
    page = text(preview)
    rows = schedule_rows(page)
    assert len(rows) == 3 + 16
    assert "5 760,00" in rows[0] and "9 600,00" in rows[1] and "3 840,00" in rows[2]
    assert "6 912,00" in rows[0] and "11 520,00" in rows[1] and "4 608,00" in rows[2]
    assert all("4 800,00" in r for r in rows[3:])
    assert cell(page, "schedule-ht") == "96 000,00 €"
    assert count(app, "billing_contracts") == 0  # a preview saves nothing
    too_long = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "end": "2032-01-02"})
    assert too_long.status_code == 400 and 'id="end-errors"' in text(too_long)
    early = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "option_2": "2026-12-31"})
    assert early.status_code == 400 and "2026-12-31" in text(early)
    assert count(app, "billing_contracts") == 0
    created = billing_admin.post(f"{BASE}/contrats/nouveau", {**form, "action": "create"})
    contract_id = created_id(created, "contrats")
    detail = text(billing_admin.get(f"{BASE}/contrats/{contract_id}"))
    assert len(schedule_rows(detail)) == 19 and cell(detail, "monthly").startswith("0,00")


def test_contract_page_sets_the_go_live_and_refuses_a_bad_date(
    app, billing_admin, commune_contract, monkeypatch
):
    contract_id, _options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    go_live = f"{page}/mise-en-service"
    assert 'name="go_live"' in text(billing_admin.get(page))
    before = contract_state(app, contract_id)
    for bad in ("2026-12-31", "2030-01-01", ""):
        refused = billing_admin.post(go_live, {"go_live": bad}, csrf_from=page)
        assert refused.status_code == 400, bad
        assert 'id="go_live-errors"' in text(refused)
        assert contract_state(app, contract_id) == before
    saved = billing_admin.post(go_live, {"go_live": "2027-03-01"}, csrf_from=page)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(page)
    assert contract_state(app, contract_id)[0] == date(2027, 3, 1)
    shown = text(billing_admin.get(page))
    assert "mise en service" in shown.lower() and 'value="2027-03-01"' in shown
    # The go-live row of the schedule is dated now (the undated one came last before).
    go_live_row = next(r for r in schedule_rows(shown) if "mise en service" in r)
    assert "2027" in go_live_row.split("</td>")[0]
    # Once its instalment is invoiced, the go-live date no longer moves.
    set_today(monkeypatch, "2027-03-01")
    billing_admin.post(f"{page}/emettre", csrf_from=page)
    assert len(invoice_ids(app, contract_id)) == 2
    moved = billing_admin.post(go_live, {"go_live": "2027-04-01"}, csrf_from=page)
    assert moved.status_code == 400 and "VV-2027-" in text(moved)
    assert contract_state(app, contract_id)[0] == date(2027, 3, 1)


def test_contract_page_cancels_an_option_with_its_true_up(app, billing_admin, commune_contract):
    contract_id, options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    cancel = f"{page}/option/annulation"
    assert 'name="option_id"' in text(billing_admin.get(page))
    rows_before = schedule_rows(text(billing_admin.get(page)))
    before = contract_state(app, contract_id)
    # Not after its start, past the contract's end, or no date at all: refused, nothing changes.
    for bad in ("2027-01-01", "2030-01-02", ""):
        refused = billing_admin.post(
            cancel, {"option_id": options["option1"], "on": bad}, csrf_from=page
        )
        assert refused.status_code == 400, bad
        assert 'id="on-errors"' in text(refused)
        assert contract_state(app, contract_id) == before
    assert schedule_rows(text(billing_admin.get(page))) == rows_before
    done = billing_admin.post(
        cancel, {"option_id": options["option1"], "on": "2027-07-01"}, csrf_from=page
    )
    assert done.status_code == 302
    shown = text(billing_admin.get(page))
    assert "Option résiliée" in shown  # the flash
    assert ("option1", date(2027, 7, 1)) in contract_state(app, contract_id)[1]
    # Six months of option 1 (200 € a month) were missing from its 12-month minimum.
    true_ups = [r for r in schedule_rows(shown) if "régularisation" in r.lower()]
    assert len(true_ups) == 1 and "1 200,00" in true_ups[0]
    assert '<tr class="trueup">' in shown
    # Option 1 is no longer offered; cancelling it again is refused with the reason.
    form = shown.split("option/annulation", 1)[1].split("</form>", 1)[0]
    assert f'value="{options["option1"]}"' not in form
    assert f'value="{options["option2"]}"' in form
    again = billing_admin.post(
        cancel, {"option_id": options["option1"], "on": "2027-08-01"}, csrf_from=page
    )
    assert again.status_code == 400 and 'id="on-errors"' in text(again)
    assert ("option1", date(2027, 7, 1)) in contract_state(app, contract_id)[1]


def test_contract_changes_are_for_billing_admins_only(
    app, commune_contract, make_account, make_tenant, visitor
):
    contract_id, options = commune_contract
    page = f"{BASE}/contrats/{contract_id}"
    posts = (
        (f"{page}/mise-en-service", {"go_live": "2027-03-01"}),
        (f"{page}/option/annulation", {"option_id": options["option1"], "on": "2027-07-01"}),
    )
    before = contract_state(app, contract_id)
    town = make_tenant()
    umbrella = make_tenant(kind="umbrella")
    for roles in ([("admin", town)], [("editor", town)], [("coordinator", umbrella)]):
        someone = visitor(ADMIN_HOST)
        someone.login(make_account(roles=roles))
        for path, data in posts:
            assert someone.post(path, data, csrf_from="/compte/").status_code == 403, roles
    anonymous = visitor(ADMIN_HOST)
    for path, data in posts:
        response = anonymous.post(path, data, csrf_from="/compte/connexion")
        assert response.status_code == 302 and "/compte/connexion" in response.headers["Location"]
    assert contract_state(app, contract_id) == before
