"""The contracts' pages: the list, a new contract (its schedule previewed first), a contract
with its whole schedule and the forms that change it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from billing import queries
from billing.catalogue import item_label
from billing.console import common
from billing.console.blueprints import bp
from billing.console.forms import (
    NEW_TOWN,
    AddOptionForm,
    CancelOptionForm,
    ContractForm,
    GoLiveForm,
    MemberJoinForm,
    MemberLeaveForm,
    TerminateForm,
)
from billing.console.viewmodels import Preview, schedule_years
from billing.contracts import BillingInputError, build_contract, save_contract
from billing.members import members as member_stays
from billing.models import Contract, Customer
from billing.schedule import add_months, monthly_ht_cents
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.extensions import db
from core.forms import ConfirmForm
from core.inputs import bounded_int
from core.registry import Tenant, kind_label, stays_in


def town_choices(towns) -> list[SelectChoice]:
    return [SelectChoice(t.id, f"{t.name} ({kind_label(t.kind)})") for t in towns]


def join_choices(towns) -> list[SelectChoice]:
    """The towns that may join, then "a town not on the platform yet" (created on joining)."""
    return [*town_choices(towns), SelectChoice(NEW_TOWN, _("— a town not on the platform yet —"))]


@bp.get("/contrats")
@requires(Role.billing_admin)
def contracts():
    return render_template(
        "billing/console/contracts.html", contracts=queries.contracts_with_customers()
    )


def contract_form() -> ContractForm:
    """The new-contract form; `?customer=` chooses the customer and, for an umbrella, ticks
    its current member towns."""
    form = ContractForm()
    form.customer_id.choices = [
        SelectChoice(c.id, f"{c.legal_name} — {c.siret}")
        for c, _t in queries.customers_with_tenants()
    ]
    form.member_ids.choices = town_choices(queries.town_tenants())
    if request.method == "GET" and request.args.get("devis"):
        from_quote(form)
    if request.method == "GET":
        chosen = request.args.get("customer", type=bounded_int)
        customer = db.session.get(Customer, chosen) if chosen else None
        if customer is not None:
            form.customer_id.data = customer.id
            tenant = db.session.get(Tenant, customer.tenant_id) if customer.tenant_id else None
            if tenant is not None:
                form.kind.data = tenant.kind.value
                if tenant.kind.value == "umbrella":  # its towns staying on, today's and to come
                    stays = stays_in(db.session, tenant.id)
                    form.member_ids.data = [t.id for s, t in stays if s.left_on is None]
    return form


def from_quote(form: ContractForm) -> None:
    """Prefill from a quote's answers (`?devis=1&kind=…&options=…`): its kind, its options, and
    the usual dates — the first of next month, live two months later, three years' term."""
    kind = request.args.get("kind")
    if kind in {c.value for c in form.kind.choices}:
        form.kind.data = kind
    start = add_months(common.today().replace(day=1), 1)
    form.start.data, form.go_live.data, form.end.data = (
        start,
        add_months(start, 2),
        add_months(start, 36),
    )
    for number in request.args.getlist("options"):
        if number in ("1", "2", "3"):
            getattr(form, f"option_{number}").data = start


def contract_spec(form: ContractForm) -> dict:
    """The form's answers as the contract service takes them."""
    options = {
        f"option{n}": getattr(form, f"option_{n}").data
        for n in (1, 2, 3)
        if getattr(form, f"option_{n}").data
    }
    members = []
    if form.kind.data == "umbrella":
        for tenant in queries.tenants_by_ids(form.member_ids.data or []):
            members.append({"tenant_id": tenant.id, "name": tenant.name, "tier": tenant.kind.value})
    return {
        "customer_id": form.customer_id.data,
        "kind": form.kind.data,
        "start_on": form.start.data,
        "go_live_on": form.go_live.data,
        "end_on": form.end.data,
        "options": options,
        "members": members,
        "manages_members": bool(form.manages_members.data),
    }


@bp.route("/contrats/nouveau", methods=["GET", "POST"])
@requires(Role.billing_admin)
def contract_new():
    form = contract_form()
    preview = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            # Built, not saved: a preview shows its schedule and leaves nothing behind.
            contract = build_contract(**contract_spec(form))
        except BillingInputError as exc:
            common.place_error(form, exc, "start")
        else:
            if request.form.get("action") == "create":
                save_contract(contract)
                audit("billing.contract_created", actor=current_user, contract=contract.id)
                flash(_("Contract created."), "success")
                return redirect(url_for(".contract", contract_id=contract.id))
            preview = Preview(
                monthly_ht_cents(contract, contract.start_on), schedule_years(contract)
            )
    page = render_template("billing/console/contract_form.html", form=form, preview=preview)
    return page, 400 if form.errors else 200


def cancellable_options(contract: Contract) -> list[SelectChoice]:
    """The options still running, labelled with their start."""
    return [
        SelectChoice(
            o.id,
            _("%(option)s (from %(day)s)", option=item_label(o.item), day=format_date(o.start_on)),
        )
        for o in contract.options
        if o.cancelled_on is None
    ]


def contract_page(contract: Contract, **forms):
    """The contract, its schedule and its forms; `forms` are those sent back with a refusal."""
    invoices = queries.invoices_by_schedule_key(contract.id)
    option_form = forms.get("option_form") or AddOptionForm()
    join_form = forms.get("join_form") or MemberJoinForm()
    leave_form = forms.get("leave_form") or MemberLeaveForm()
    cancel_form = forms.get("cancel_form") or CancelOptionForm()
    cancel_form.option_id.choices = cancellable_options(contract)
    go_live_form = forms.get("go_live_form") or GoLiveForm(data={"go_live": contract.go_live_on})
    staying = [m for m in member_stays(contract) if m.left_on is None]
    taken = {m.member_tenant_id for m in staying}
    join_form.tenant_id.choices = join_choices(
        t for t in queries.town_tenants() if t.id not in taken
    )
    leave_form.member_id.choices = [SelectChoice(m.id, m.name) for m in staying]
    page = render_template(
        "billing/console/contract.html",
        contract=contract,
        years=schedule_years(contract, invoices),
        monthly_cents=monthly_ht_cents(contract, common.today()),
        confirm=ConfirmForm(),
        option_form=option_form,
        cancel_form=cancel_form,
        go_live_form=go_live_form,
        join_form=join_form,
        leave_form=leave_form,
        terminate_form=forms.get("terminate_form") or TerminateForm(),
    )
    failed = any(f.errors for f in forms.values())
    return page, 400 if failed else 200


@bp.get("/contrats/<int:contract_id>")
@requires(Role.billing_admin)
def contract(contract_id: int):
    return contract_page(common.get_or_404(Contract, contract_id))
