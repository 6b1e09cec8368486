"""Billing pages: the platform console's (billing admins) and the coordinators' read-only page.

Views parse, authorise, call a billing service and render; every rule lives in the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from billing import queries
from billing.console_chart import grouped_bars
from billing.console_forms import (
    AddOptionForm,
    CancelOptionForm,
    ConfirmForm,
    ContractForm,
    CustomerForm,
    GoLiveForm,
    InterestForm,
    InvoiceFilterForm,
    MemberJoinForm,
    MemberLeaveForm,
    PaymentForm,
    QuoteForm,
    TerminateForm,
)
from billing.models import Contract, Customer, Invoice, InvoiceKind, InvoiceStatus
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.csvexport import csv_bytes
from core.extensions import db
from core.mail import nudge_outbox
from core.registry import Tenant, members_of
from core.tenancy import require_tenant

bp = Blueprint(
    "billing_console", __name__, url_prefix="/plateforme/facturation", template_folder="templates"
)
coordinator_bp = Blueprint(
    "billing_coordinator", __name__, url_prefix="/console/facturation", template_folder="templates"
)

TIER_LABELS = {
    "commune": _l("Commune"),
    "epci": _l("Community of communes"),
    "departement": _l("Département"),
    "umbrella": _l("Petites villes de demain umbrella"),
}
ITEM_LABELS = {
    "base": _l("Base subscription"),
    "option1": _l("Option 1 — attractiveness barometer"),
    "option2": _l("Option 2 — dedicated territory platform"),
    "option3": _l("Option 3 — job-profile detection"),
}
INVOICE_STATUS_LABELS = {
    "draft": _l("draft"),
    "finalised": _l("finalised"),
    "paid": _l("paid"),
    "void": _l("void"),
}
PARTY_LABELS = {
    "name": _l("Name"),
    "legal_name": _l("Legal name"),
    "siren": _l("SIREN"),
    "siret": _l("SIRET"),
    "vat_number": _l("VAT number"),
    "address": _l("Address"),
    "address_line1": _l("Address"),
    "address_line2": _l("Address (continued)"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "country_code": _l("Country"),
    "email": _l("E-mail"),
    "billing_email": _l("E-mail"),
    "legal_form": _l("Legal form"),
    "capital": _l("Share capital"),
    "rcs": _l("Trade register"),
    "iban": _l("IBAN"),
    "bic": _l("BIC"),
    "service_code": _l("Chorus Pro service code"),
    "engagement_number": _l("Engagement number"),
}
CSV_HEADER = (
    "Numéro",
    "Type",
    "Statut",
    "Client",
    "SIRET",
    "Date d'émission",
    "Échéance",
    "Période du",
    "Période au",
    "Total HT",
    "TVA",
    "Total TTC",
    "Payé",
    "Reste dû",
    "N° d'engagement",
    "Code service",
)


def today() -> date:
    return date.today()


def invoice_link(invoice: Invoice) -> Markup:
    label = invoice.number or _("draft #%(id)d", id=invoice.id)
    if current_app.blueprints.get("billing_console") and request.blueprint == "billing_console":
        href = url_for("billing_console.invoice", invoice_id=invoice.id)
        return Markup('<a href="{}">{}</a>').format(href, label)
    return Markup("{}").format(label)


@bp.context_processor
@coordinator_bp.context_processor
def helpers():
    on = today()
    return {
        "tier_labels": TIER_LABELS,
        "item_labels": ITEM_LABELS,
        "invoice_status_labels": INVOICE_STATUS_LABELS,
        "party_labels": PARTY_LABELS,
        "invoice_link": invoice_link,
        "is_overdue": lambda invoice: queries.is_overdue(invoice, on),
        "today": on,
    }


def cents(amount: Decimal) -> int:
    """Euros typed in a form → integer cents (the form already kept two decimals)."""
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


#: Service field names that a form calls otherwise.
FIELD_ALIASES = {"members": "member_ids"}


def place_error(form, exc, default_field: str) -> None:
    """A service's refusal, said beside the field it names (or the first one)."""
    name = getattr(exc, "field", None) or default_field
    name = FIELD_ALIASES.get(name, name)
    target = getattr(form, name, None) or getattr(form, default_field)
    target.errors = [*target.errors, refusal(exc)]


def refusal(exc) -> str:
    return str(exc)


def _get_or_404(model, ident: int):
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


# --- schedule, shown year by year -------------------------------------------------------------


@dataclass
class Row:
    due_on: date
    label: str
    period_start: date | None
    period_end: date | None
    ht_cents: int
    vat_cents: int
    ttc_cents: int
    is_trueup: bool = False
    invoice: Invoice | None = None


@dataclass
class Year:
    number: int
    rows: list[Row] = field(default_factory=list)

    @property
    def ht_cents(self) -> int:
        return sum(r.ht_cents for r in self.rows)

    @property
    def vat_cents(self) -> int:
        return sum(r.vat_cents for r in self.rows)

    @property
    def ttc_cents(self) -> int:
        return sum(r.ttc_cents for r in self.rows)


@dataclass
class Preview:
    monthly_cents: int
    years: list[Year]


def schedule_years(contract: Contract, invoices: dict[str, Invoice] | None = None) -> list[Year]:
    """The contract's whole schedule (the schedule service's), grouped by contract year."""
    from billing import schedule

    invoices = invoices or {}
    years: dict[int, Year] = {}
    for entry in schedule.schedule(contract, issued_amounts(invoices)):
        years.setdefault(entry.contract_year, Year(entry.contract_year)).rows.append(
            Row(
                due_on=entry.due_on,
                label=entry.label,
                period_start=entry.period_start,
                period_end=entry.period_end,
                ht_cents=entry.total_ht_cents,
                vat_cents=entry.vat_cents,
                ttc_cents=entry.total_ttc_cents,
                is_trueup=entry.is_trueup,
                invoice=invoices.get(entry.key),
            )
        )
    return [years[n] for n in sorted(years)]


def issued_amounts(invoices: dict[str, Invoice]) -> dict[str, dict[str, int]]:
    """What was really invoiced per instalment and item, so the year-one balance is the rest."""
    out: dict[str, dict[str, int]] = {}
    for key, invoice in invoices.items():
        per_item: dict[str, int] = {}
        for line in invoice.lines:
            code = line.item_code or ""
            per_item[code] = per_item.get(code, 0) + line.amount_cents
        out[key] = per_item
    return out


def monthly_cents(contract: Contract, on: date) -> int:
    from billing import schedule

    return schedule.monthly_ht_cents(contract, on)


# --- revenue ---------------------------------------------------------------------------------


@bp.get("/")
@requires(Role.billing_admin)
def index():
    on = today()
    figures = queries.RevenueFigures(on=on)
    figures.months, figures.invoiced_cents, figures.paid_cents = queries.money_by_month(on)
    for month in figures.months:
        month.label = format_date(month.first_day, "MMM yyyy")
    figures.mrr_cents = sum(monthly_cents(c, on) for c, _c in queries.contracts_with_customers())
    figures.arr_cents = figures.mrr_cents * 12
    figures.overdue_cents = queries.overdue_cents(on)
    chart = grouped_bars(
        [format_date(m.first_day, "MMM") for m in figures.months],
        [[m.invoiced_cents for m in figures.months], [m.paid_cents for m in figures.months]],
    )
    return render_template("billing/console/revenue.html", figures=figures, chart=chart)


# --- quote -----------------------------------------------------------------------------------


@bp.get("/devis")
@requires(Role.billing_admin)
def quote():
    """The same pricing as `flask billing quote`, with today's catalogue."""
    from billing import pricing
    from billing.catalogue import CatalogueError, price_list

    form = QuoteForm(request.args)
    result = None
    if request.args and form.validate():
        umbrella = form.kind.data == "umbrella"
        members = [form.member_kind.data] * form.members.data if umbrella else []
        try:
            result = pricing.quote(
                price_list(db.session, today()), form.kind.data, form.options.data or [], members
            )
        except (pricing.PricingError, CatalogueError) as exc:
            form.kind.errors = [*form.kind.errors, str(exc)]
    page = render_template("billing/console/quote.html", form=form, quote=result, vat_rate="20")
    return page, 400 if form.errors else 200


# --- customers -------------------------------------------------------------------------------


def customer_form(customer: Customer | None) -> CustomerForm:
    form = CustomerForm(obj=customer)
    if customer is not None and request.method == "GET":
        form.vat_rate.data = Decimal(customer.vat_rate_bp) / 100
    form.tenant_id.choices = [
        SelectChoice(t.id, f"{t.name} ({TIER_LABELS[t.kind.value]})")
        for t in queries.billable_tenants()
    ]
    return form


def customer_values(form: CustomerForm) -> dict:
    return {
        "tenant_id": form.tenant_id.data,
        "legal_name": form.legal_name.data.strip(),
        "siret": "".join(form.siret.data.split()),
        "address_line1": form.address_line1.data.strip(),
        "address_line2": (form.address_line2.data or "").strip() or None,
        "postcode": form.postcode.data,
        "city": form.city.data.strip(),
        "billing_email": form.billing_email.data.strip(),
        "service_code": (form.service_code.data or "").strip() or None,
        "engagement_number": (form.engagement_number.data or "").strip() or None,
        "vat_rate_bp": int((form.vat_rate.data * 100).to_integral_value(ROUND_HALF_UP)),
    }


@bp.get("/clients")
@requires(Role.billing_admin)
def customers():
    def vat_label(c):
        return f"{Decimal(c.vat_rate_bp) / 100:.2f} %".replace(".", ",")

    return render_template(
        "billing/console/customers.html",
        customers=queries.customers_with_tenants(),
        vat_label=vat_label,
    )


@bp.route("/clients/nouveau", methods=["GET", "POST"])
@requires(Role.billing_admin)
def customer_new():
    from billing import contracts as service

    form = customer_form(None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            created = service.create_customer(**customer_values(form))
        except service.BillingInputError as exc:
            db.session.rollback()
            place_error(form, exc, "legal_name")
        else:
            audit("billing.customer_created", actor=current_user, customer=created.id)
            db.session.commit()
            flash(_("Customer %(name)s created.", name=created.legal_name), "success")
            return redirect(url_for(".customer_edit", customer_id=created.id))
    page = render_template("billing/console/customer_form.html", form=form, customer=None)
    return page, 400 if form.errors else 200


@bp.route("/clients/<int:customer_id>", methods=["GET", "POST"])
@requires(Role.billing_admin)
def customer_edit(customer_id: int):
    from billing import contracts as service

    customer = _get_or_404(Customer, customer_id)
    form = customer_form(customer)
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.update_customer(customer, **customer_values(form))
        except service.BillingInputError as exc:
            db.session.rollback()
            customer = _get_or_404(Customer, customer_id)
            place_error(form, exc, "legal_name")
        else:
            audit("billing.customer_updated", actor=current_user, customer=customer.id)
            db.session.commit()
            flash(_("Customer %(name)s saved.", name=customer.legal_name), "success")
            return redirect(url_for(".customer_edit", customer_id=customer.id))
    page = render_template(
        "billing/console/customer_form.html",
        form=form,
        customer=customer,
        contracts=customer.contracts,
        contract_label=lambda c: _(
            "%(start)s – %(end)s", start=format_date(c.start_on), end=format_date(c.end_on)
        ),
    )
    return page, 400 if form.errors else 200


# --- contracts -------------------------------------------------------------------------------


@bp.get("/contrats")
@requires(Role.billing_admin)
def contracts():
    return render_template(
        "billing/console/contracts.html", contracts=queries.contracts_with_customers()
    )


def contract_form() -> ContractForm:
    form = ContractForm()
    form.customer_id.choices = [
        SelectChoice(c.id, f"{c.legal_name} — {c.siret}")
        for c, _t in queries.customers_with_tenants()
    ]
    towns = queries.town_tenants()
    form.member_ids.choices = [
        SelectChoice(t.id, f"{t.name} ({TIER_LABELS[t.kind.value]})") for t in towns
    ]
    if request.method == "GET":
        chosen = request.args.get("customer", type=int)
        customer = db.session.get(Customer, chosen) if chosen else None
        if customer is not None:
            form.customer_id.data = customer.id
            tenant = db.session.get(Tenant, customer.tenant_id) if customer.tenant_id else None
            if tenant is not None:
                form.kind.data = tenant.kind.value
                if tenant.kind.value == "umbrella":
                    form.member_ids.data = [m.id for m in members_of(db.session, tenant.id)]
    return form


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
    }


@bp.route("/contrats/nouveau", methods=["GET", "POST"])
@requires(Role.billing_admin)
def contract_new():
    from billing import contracts as service

    form = contract_form()
    preview = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            contract = service.build_contract(**contract_spec(form))
            if request.form.get("action") == "create":
                service.save_contract(contract)
                audit("billing.contract_created", actor=current_user, contract=contract.id)
                db.session.commit()
                flash(_("Contract created."), "success")
                return redirect(url_for(".contract", contract_id=contract.id))
            # The unsaved contract hangs off its customer: no flush may try to insert it.
            with db.session.no_autoflush:
                preview = Preview(
                    monthly_cents(contract, contract.start_on), schedule_years(contract)
                )
        except service.BillingInputError as exc:
            place_error(form, exc, "start")
        finally:
            db.session.rollback()  # a preview saves nothing
    page = render_template("billing/console/contract_form.html", form=form, preview=preview)
    return page, 400 if form.errors else 200


def contract_page(contract: Contract, **forms):
    invoices = queries.invoices_by_schedule_key(contract.id)
    option_form = forms.get("option_form") or AddOptionForm()
    join_form = forms.get("join_form") or MemberJoinForm()
    leave_form = forms.get("leave_form") or MemberLeaveForm()
    cancel_form = forms.get("cancel_form") or CancelOptionForm()
    cancel_form.option_id.choices = cancellable_options(contract)
    go_live_form = forms.get("go_live_form") or GoLiveForm(data={"go_live": contract.go_live_on})
    taken = {m.member_tenant_id for m in contract.members if m.left_on is None}
    join_form.tenant_id.choices = [
        SelectChoice(t.id, f"{t.name} ({TIER_LABELS[t.kind.value]})")
        for t in queries.town_tenants()
        if t.id not in taken
    ]
    leave_form.member_id.choices = [
        SelectChoice(m.id, m.name) for m in contract.members if m.left_on is None
    ]
    page = render_template(
        "billing/console/contract.html",
        contract=contract,
        years=schedule_years(contract, invoices),
        monthly_cents=monthly_cents(contract, today()),
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
    return contract_page(_get_or_404(Contract, contract_id))


def contract_change(contract_id: int, form, key: str, change, field_name: str, message: str):
    """Apply one change through its service, or show the contract again with the refusal."""
    from billing import contracts as service

    contract = _get_or_404(Contract, contract_id)
    if form.validate_on_submit():
        try:
            change(contract, form)
        except service.BillingInputError as exc:
            db.session.rollback()
            contract = _get_or_404(Contract, contract_id)
            place_error(form, exc, field_name)
        else:
            audit(f"billing.contract_{key}", actor=current_user, contract=contract.id)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".contract", contract_id=contract.id))
    return contract_page(contract, **{f"{key}_form": form})


@bp.post("/contrats/<int:contract_id>/option")
@requires(Role.billing_admin)
def contract_option(contract_id: int):
    from billing import contracts as service

    form = AddOptionForm()
    return contract_change(
        contract_id,
        form,
        "option",
        lambda c, f: service.add_option(c, f"option{f.option.data}", f.start.data),
        "start",
        _("Option added; the schedule includes it."),
    )


def cancellable_options(contract: Contract) -> list[SelectChoice]:
    """The options still running, labelled with their start."""
    return [
        SelectChoice(
            o.id,
            _(
                "%(option)s (from %(day)s)",
                option=ITEM_LABELS[o.item.value],
                day=format_date(o.start_on),
            ),
        )
        for o in contract.options
        if o.cancelled_on is None
    ]


@bp.post("/contrats/<int:contract_id>/option/annulation")
@requires(Role.billing_admin)
def contract_cancel_option(contract_id: int):
    from billing import contracts as service

    form = CancelOptionForm()
    # Every option is a valid choice here: the service says why one cannot be cancelled.
    form.option_id.choices = [
        SelectChoice(o.id, o.item.value) for o in _get_or_404(Contract, contract_id).options
    ]

    def cancel(contract, f):
        option = next((o for o in contract.options if o.id == f.option_id.data), None)
        if option is None:
            abort(404)
        service.cancel_option(option, f.on.data)

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
    from billing import contracts as service

    return contract_change(
        contract_id,
        GoLiveForm(),
        "go_live",
        lambda c, f: service.set_go_live(c, f.go_live.data),
        "go_live",
        _("Go-live date saved; the schedule follows it."),
    )


@bp.post("/contrats/<int:contract_id>/adhesion")
@requires(Role.billing_admin)
def contract_join(contract_id: int):
    from billing import contracts as service

    form = MemberJoinForm()
    form.tenant_id.choices = [SelectChoice(t.id, t.name) for t in queries.town_tenants()]

    def join(contract, f):
        tenant = _get_or_404(Tenant, f.tenant_id.data)
        service.member_joins(contract, tenant.id, tenant.name, tenant.kind.value, f.on.data)

    return contract_change(contract_id, form, "join", join, "on", _("The town joins the umbrella."))


@bp.post("/contrats/<int:contract_id>/depart")
@requires(Role.billing_admin)
def contract_leave(contract_id: int):
    from billing import contracts as service

    form = MemberLeaveForm()
    contract = _get_or_404(Contract, contract_id)
    form.member_id.choices = [SelectChoice(m.id, m.name) for m in contract.members]

    def leave(contract, f):
        member = next((m for m in contract.members if m.id == f.member_id.data), None)
        if member is None:
            abort(404)
        service.member_leaves(member, f.on.data)

    return contract_change(
        contract_id, form, "leave", leave, "on", _("The town's departure is recorded.")
    )


@bp.post("/contrats/<int:contract_id>/resiliation")
@requires(Role.billing_admin)
def contract_terminate(contract_id: int):
    from billing import contracts as service

    return contract_change(
        contract_id,
        TerminateForm(),
        "terminate",
        lambda c, f: service.terminate(c, f.on.data),
        "on",
        _("Contract terminated; the true-up is in the schedule."),
    )


@bp.post("/contrats/<int:contract_id>/emettre")
@requires(Role.billing_admin)
def contract_issue(contract_id: int):
    """Issue what is due today for this contract: the billing run, limited to it, then finalise."""
    from billing import invoicing

    contract = _get_or_404(Contract, contract_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    created = invoicing.run(today(), contract_ids=[contract.id])
    # A handful of invoices: their Factur-X PDF and UBL are drawn now, in the same transaction.
    for invoice in created:
        invoicing.store_documents(invoice)
    audit("billing.invoices_issued", actor=current_user, contract=contract.id, count=len(created))
    db.session.commit()
    flash(
        ngettext("%(num)d invoice issued.", "%(num)d invoices issued.", len(created))
        if created
        else _("Nothing is due today that is not invoiced already."),
        "success",
    )
    return redirect(url_for(".contract", contract_id=contract.id))


# --- invoices --------------------------------------------------------------------------------


def invoice_filters() -> tuple[InvoiceFilterForm, queries.InvoiceFilters]:
    form = InvoiceFilterForm(request.args)
    form.customer.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(c.id, c.legal_name) for c, _t in queries.customers_with_tenants()
    ]
    if request.args and not form.validate():
        return form, queries.InvoiceFilters()
    return form, queries.InvoiceFilters(
        status=form.status.data or "",
        customer_id=form.customer.data,
        start=form.start.data,
        end=form.end.data,
    )


@bp.get("/factures")
@requires(Role.billing_admin)
def invoices():
    form, filters = invoice_filters()
    rows = queries.invoice_rows(filters, today())
    page = render_template("billing/console/invoices.html", form=form, rows=rows)
    return page, 400 if form.errors else 200


@bp.get("/factures.csv")
@requires(Role.billing_admin)
def invoices_csv():
    form, filters = invoice_filters()
    if form.errors:
        abort(400)
    on = today()

    def euros(value: int) -> str:
        return f"{Decimal(value) / 100:.2f}".replace(".", ",")

    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    rows = (
        (
            inv.number or "",
            "avoir" if inv.kind == InvoiceKind.credit_note else "facture",
            "en retard" if queries.is_overdue(inv, on) else CSV_STATUS[inv.status.value],
            customer.legal_name,
            customer.siret,
            day(inv.issue_date),
            day(inv.due_date),
            day(inv.period_start),
            day(inv.period_end),
            euros(inv.total_ht_cents),
            euros(inv.total_vat_cents),
            euros(inv.total_ttc_cents),
            euros(paid),
            euros(inv.total_ttc_cents - paid if inv.status == InvoiceStatus.finalised else 0),
            inv.engagement_number or "",
            inv.service_code or "",
        )
        for inv, customer, paid in queries.invoice_rows(filters, on)
    )
    return Response(
        csv_bytes(CSV_HEADER, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="factures-{on.isoformat()}.csv"'},
    )


CSV_STATUS = {"draft": "brouillon", "finalised": "émise", "paid": "payée", "void": "annulée"}


def invoice_page(invoice: Invoice, payment_form=None, status: int = 200):
    interest_form = InterestForm(request.args)
    interest = None
    if "on" in request.args and interest_form.validate():
        from billing import invoicing

        interest = invoicing.late_interest(invoice, interest_form.on.data)
    if "on" not in request.args:
        interest_form.on.data = today()
    page = render_template(
        "billing/console/invoice.html",
        invoice=invoice,
        overdue=queries.is_overdue(invoice, today()),
        paid=queries.paid_cents(invoice.id),
        credit_notes=queries.credit_notes_of(invoice.id),
        confirm=ConfirmForm(),
        payment_form=payment_form or PaymentForm(data={"paid_on": today()}),
        interest_form=interest_form,
        interest=interest,
    )
    return page, 400 if (payment_form and payment_form.errors) or interest_form.errors else status


@bp.get("/factures/<int:invoice_id>")
@requires(Role.billing_admin)
def invoice(invoice_id: int):
    return invoice_page(_get_or_404(Invoice, invoice_id))


def invoice_action(invoice_id: int, act, key: str, message: str):
    """A one-button action on an invoice through its service; a refusal is flashed."""
    from billing import invoicing

    invoice = _get_or_404(Invoice, invoice_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        act(invoice)
    except invoicing.InvoicingError as exc:
        db.session.rollback()
        flash(refusal(exc), "error")
    else:
        audit(f"billing.invoice_{key}", actor=current_user, invoice=invoice_id)
        db.session.commit()
        nudge_outbox()  # a reminder leaves at once
        flash(message, "success")
    return redirect(url_for(".invoice", invoice_id=invoice_id))


@bp.post("/factures/<int:invoice_id>/finaliser")
@requires(Role.billing_admin)
def invoice_finalise(invoice_id: int):
    from billing import invoicing

    return invoice_action(
        invoice_id,
        lambda inv: invoicing.finalise(inv, today()),
        "finalised",
        _("Invoice finalised and numbered."),
    )


@bp.post("/factures/<int:invoice_id>/annuler")
@requires(Role.billing_admin)
def invoice_void(invoice_id: int):
    from billing import invoicing

    return invoice_action(
        invoice_id,
        lambda inv: invoicing.void(inv, today()),
        "voided",
        _("Invoice voided; its credit note is issued."),
    )


@bp.post("/factures/<int:invoice_id>/relance")
@requires(Role.billing_admin)
def invoice_remind(invoice_id: int):
    from billing import invoicing

    return invoice_action(
        invoice_id,
        lambda inv: invoicing.send_reminder(inv, today()),
        "reminded",
        _("Reminder sent to the billing contact."),
    )


@bp.post("/factures/<int:invoice_id>/paiement")
@requires(Role.billing_admin)
def invoice_payment(invoice_id: int):
    from billing import invoicing

    invoice = _get_or_404(Invoice, invoice_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            invoicing.record_payment(
                invoice, form.paid_on.data, cents(form.amount.data), form.reference.data.strip()
            )
        except invoicing.InvoicingError as exc:
            db.session.rollback()
            invoice = _get_or_404(Invoice, invoice_id)
            place_error(form, exc, "amount")
        else:
            audit("billing.payment_recorded", actor=current_user, invoice=invoice_id)
            db.session.commit()
            flash(_("Payment recorded."), "success")
            return redirect(url_for(".invoice", invoice_id=invoice_id))
    return invoice_page(invoice, payment_form=form)


def document_response(invoice: Invoice, fmt: str) -> Response:
    """The stored PDF or UBL file of an issued invoice (drawn and stored first if missing)."""
    from billing import documents

    if invoice.status == InvoiceStatus.draft:
        abort(404)
    response = documents.document_response(invoice, fmt)
    db.session.commit()  # keys recorded when the documents had to be drawn again
    return response


@bp.get("/factures/<int:invoice_id>/document.<fmt>")
@requires(Role.billing_admin)
def invoice_document(invoice_id: int, fmt: str):
    return document_response(_get_or_404(Invoice, invoice_id), fmt)


# --- coordinators: their umbrella's contract, schedule and invoices, read-only -----------------


def umbrella_contracts() -> list[Contract]:
    tenant = require_tenant()
    if tenant.kind != "umbrella":
        abort(404)
    return queries.contracts_of_tenant(tenant.id)


@coordinator_bp.get("/", endpoint="index")
@requires(Role.coordinator)
def coordinator_index():
    contracts = umbrella_contracts()
    invoices = queries.invoices_of_contracts([c.id for c in contracts])
    on = today()
    items = [
        {
            "contract": c,
            "years": schedule_years(c, queries.invoices_by_schedule_key(c.id)),
            "monthly_cents": monthly_cents(c, on),
        }
        for c in contracts
    ]
    return render_template(
        "billing/console/coordinator.html",
        tenant=require_tenant(),
        contracts=items,
        invoices=invoices,
    )


@coordinator_bp.get("/factures/<int:invoice_id>/document.<fmt>", endpoint="document")
@requires(Role.coordinator)
def coordinator_document(invoice_id: int, fmt: str):
    """Only the umbrella's own issued invoices: any other id is not found."""
    ids = {c.id for c in umbrella_contracts()}
    invoice = db.session.get(Invoice, invoice_id)
    owner = invoice.credits_invoice.contract_id if invoice and invoice.credits_invoice else None
    if invoice is None or invoice.status == InvoiceStatus.draft:
        abort(404)
    if invoice.contract_id not in ids and owner not in ids:
        abort(404)
    return document_response(invoice, fmt)
