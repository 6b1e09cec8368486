"""A contract's dated changes (options, go-live, member towns, termination) and issuing what
is due, each through its service; a refusal shows the contract again beside the field."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from billing import queries
from billing.console import common
from billing.console.blueprints import bp
from billing.console.contracts import contract_page, join_choices
from billing.console.forms import (
    NEW_TOWN,
    AddOptionForm,
    CancelOptionForm,
    GoLiveForm,
    MemberJoinForm,
    MemberLeaveForm,
    TerminateForm,
)
from billing.contracts import (
    BillingInputError,
    add_option,
    cancel_option,
    member_joins,
    member_leaves,
    new_town_joins,
    set_go_live,
    terminate,
)
from billing.documents.store import store
from billing.invoicing.billing_run import run
from billing.members import members as member_stays
from billing.models import Contract
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.forms import ConfirmForm
from core.registry import Tenant


def contract_change(contract_id: int, form, key: str, change, field_name: str, message: str):
    """Apply one change through its service, or show the contract again with the refusal
    (the services refuse before they change anything; the 400 is rolled back anyway)."""
    contract = common.get_or_404(Contract, contract_id)
    if form.validate_on_submit():
        try:
            change(contract, form)
        except BillingInputError as exc:
            common.place_error(form, exc, field_name)
        else:
            audit(f"billing.contract_{key}", actor=current_user, contract=contract.id)
            flash(message, "success")
            return redirect(url_for(".contract", contract_id=contract.id))
    return contract_page(contract, **{f"{key}_form": form})


@bp.post("/contrats/<int:contract_id>/option")
@requires(Role.billing_admin)
def contract_option(contract_id: int):
    return contract_change(
        contract_id,
        AddOptionForm(),
        "option",
        lambda c, f: add_option(c, f"option{f.option.data}", f.start.data),
        "start",
        _("Option added; the schedule includes it."),
    )


@bp.post("/contrats/<int:contract_id>/option/annulation")
@requires(Role.billing_admin)
def contract_cancel_option(contract_id: int):
    form = CancelOptionForm()
    # Every option is a valid choice here: the service says why one cannot be cancelled.
    form.option_id.choices = [
        SelectChoice(o.id, o.item.value) for o in common.get_or_404(Contract, contract_id).options
    ]

    def cancel(contract, f):
        option = next((o for o in contract.options if o.id == f.option_id.data), None)
        if option is None:
            abort(404)
        cancel_option(option, f.on.data)

    return contract_change(
        contract_id,
        form,
        "cancel",
        cancel,
        "on",
        _("Option cancelled; the schedule bills what remains of its 12-month minimum."),
    )


@bp.post("/contrats/<int:contract_id>/mise-en-service")
@requires(Role.billing_admin)
def contract_go_live(contract_id: int):
    return contract_change(
        contract_id,
        GoLiveForm(),
        "go_live",
        lambda c, f: set_go_live(c, f.go_live.data),
        "go_live",
        _("Go-live date saved; the schedule follows it."),
    )


@bp.post("/contrats/<int:contract_id>/adhesion")
@requires(Role.billing_admin)
def contract_join(contract_id: int):
    form = MemberJoinForm()
    form.tenant_id.choices = join_choices(queries.town_tenants())

    def join(contract, f):
        if f.tenant_id.data == NEW_TOWN:
            new_town_joins(contract, f.new_name.data, f.new_kind.data, f.new_code.data, f.on.data)
            return
        tenant = common.get_or_404(Tenant, f.tenant_id.data)
        member_joins(contract, tenant.id, f.on.data)

    return contract_change(contract_id, form, "join", join, "on", _("The town joins the umbrella."))


@bp.post("/contrats/<int:contract_id>/depart")
@requires(Role.billing_admin)
def contract_leave(contract_id: int):
    form = MemberLeaveForm()
    contract = common.get_or_404(Contract, contract_id)
    form.member_id.choices = [SelectChoice(m.id, m.name) for m in member_stays(contract)]

    def leave(contract, f):
        member_leaves(contract, f.member_id.data, f.on.data)

    return contract_change(
        contract_id, form, "leave", leave, "on", _("The town's departure is recorded.")
    )


@bp.post("/contrats/<int:contract_id>/resiliation")
@requires(Role.billing_admin)
def contract_terminate(contract_id: int):
    return contract_change(
        contract_id,
        TerminateForm(),
        "terminate",
        lambda c, f: terminate(c, f.on.data),
        "on",
        _("Contract terminated; the true-up is in the schedule."),
    )


@bp.post("/contrats/<int:contract_id>/emettre")
@requires(Role.billing_admin)
def contract_issue(contract_id: int):
    """Issue what is due today for this contract: the billing run, limited to it, then finalise."""
    contract = common.get_or_404(Contract, contract_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    created = run(common.today(), contract_ids=[contract.id])
    # A handful of invoices: their Factur-X PDF and UBL are drawn now, in the same transaction.
    for invoice in created:
        store(invoice)
    audit("billing.invoices_issued", actor=current_user, contract=contract.id, count=len(created))
    flash(
        ngettext("%(num)d invoice issued.", "%(num)d invoices issued.", len(created))
        if created
        else _("Nothing is due today that is not invoiced already."),
        "success",
    )
    return redirect(url_for(".contract", contract_id=contract.id))
