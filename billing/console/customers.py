"""The customers' pages: the list, a new customer, a customer's details and contracts."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from billing import queries
from billing.console import common
from billing.console.blueprints import bp
from billing.console.forms import CustomerForm
from billing.contracts import BillingInputError, create_customer, update_customer
from billing.models import Customer
from billing.pricing import half_up
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.registry import kind_label


def customer_form(customer: Customer | None) -> CustomerForm:
    form = CustomerForm(obj=customer)
    if customer is not None and request.method == "GET":
        form.vat_rate.data = Decimal(customer.vat_rate_bp) / 100
    form.tenant_id.choices = [
        SelectChoice(t.id, f"{t.name} ({kind_label(t.kind)})") for t in queries.billable_tenants()
    ]
    return form


def customer_values(form: CustomerForm) -> dict:
    """The form's answers as the customer service takes them."""
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
        "vat_rate_bp": half_up(form.vat_rate.data * 100),
    }


def vat_label(customer: Customer) -> str:
    return f"{Decimal(customer.vat_rate_bp) / 100:.2f} %".replace(".", ",")


@bp.get("/clients")
@requires(Role.billing_admin)
def customers():
    return render_template(
        "billing/console/customers.html",
        customers=queries.customers_with_tenants(),
        vat_label=vat_label,
    )


@bp.route("/clients/nouveau", methods=["GET", "POST"])
@requires(Role.billing_admin)
def customer_new():
    form = customer_form(None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            created = create_customer(**customer_values(form))
        except BillingInputError as exc:
            common.place_error(form, exc, "legal_name")
        else:
            audit("billing.customer_created", actor=current_user, customer=created.id)
            flash(_("Customer %(name)s created.", name=created.legal_name), "success")
            return redirect(url_for(".customer_edit", customer_id=created.id))
    page = render_template("billing/console/customer_form.html", form=form, customer=None)
    return page, 400 if form.errors else 200


@bp.route("/clients/<int:customer_id>", methods=["GET", "POST"])
@requires(Role.billing_admin)
def customer_edit(customer_id: int):
    customer = common.get_or_404(Customer, customer_id)
    form = customer_form(customer)
    if request.method == "POST" and form.validate_on_submit():
        try:
            update_customer(customer, **customer_values(form))
        except BillingInputError as exc:  # refused before any change to the customer
            common.place_error(form, exc, "legal_name")
        else:
            audit("billing.customer_updated", actor=current_user, customer=customer.id)
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
