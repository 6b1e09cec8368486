"""The invoices' pages: the filtered list and its CSV export, an invoice with its payments,
late interest and one-button actions, its documents."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from billing import queries
from billing.console import common
from billing.console.blueprints import bp
from billing.console.downloads import document_response
from billing.console.export import invoices_csv as csv_file
from billing.console.forms import InterestForm, InvoiceFilterForm, PaymentForm
from billing.invoicing import InvoicingError
from billing.invoicing.credit_notes import void
from billing.invoicing.numbering import finalise
from billing.invoicing.payments import left_to_pay_cents, record_payment
from billing.invoicing.reminders import late_interest, send_reminder
from billing.models import Invoice
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.forms import ConfirmForm


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
    rows = queries.invoice_rows(filters, common.today())
    page = render_template("billing/console/invoices.html", form=form, rows=rows)
    return page, 400 if form.errors else 200


@bp.get("/factures.csv")
@requires(Role.billing_admin)
def invoices_csv():
    form, filters = invoice_filters()
    if form.errors:
        abort(400)
    on = common.today()
    return Response(
        csv_file(queries.invoice_rows(filters, on), on),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="factures-{on.isoformat()}.csv"'},
    )


def invoice_page(invoice: Invoice, payment_form=None):
    """The invoice; `?on=` computes its late interest up to that day."""
    interest_form = InterestForm(request.args)
    interest = None
    if "on" in request.args and interest_form.validate():
        interest = late_interest(invoice, interest_form.on.data)
    if "on" not in request.args:
        interest_form.on.data = common.today()
    paid = queries.paid_cents(invoice.id)
    page = render_template(
        "billing/console/invoice.html",
        invoice=invoice,
        overdue=queries.is_overdue(invoice, common.today()),
        paid=paid,
        left_to_pay=left_to_pay_cents(invoice, paid),
        credit_notes=queries.credit_notes_of(invoice.id),
        confirm=ConfirmForm(),
        payment_form=payment_form or PaymentForm(data={"paid_on": common.today()}),
        interest_form=interest_form,
        interest=interest,
    )
    failed = (payment_form and payment_form.errors) or interest_form.errors
    return page, 400 if failed else 200


@bp.get("/factures/<int:invoice_id>")
@requires(Role.billing_admin)
def invoice(invoice_id: int):
    return invoice_page(common.get_or_404(Invoice, invoice_id))


def invoice_action(invoice_id: int, act, key: str, message: str):
    """A one-button action on an invoice through its service; a refusal is flashed (the
    services refuse before they write anything, so the redirect commits nothing)."""
    invoice = common.get_or_404(Invoice, invoice_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        act(invoice)
    except InvoicingError as exc:
        flash(str(exc), "error")
    else:
        audit(f"billing.invoice_{key}", actor=current_user, invoice=invoice_id)
        flash(message, "success")
    return redirect(url_for(".invoice", invoice_id=invoice_id))


@bp.post("/factures/<int:invoice_id>/finaliser")
@requires(Role.billing_admin)
def invoice_finalise(invoice_id: int):
    return invoice_action(
        invoice_id,
        lambda inv: finalise(inv, common.today()),
        "finalised",
        _("Invoice finalised and numbered."),
    )


@bp.post("/factures/<int:invoice_id>/annuler")
@requires(Role.billing_admin)
def invoice_void(invoice_id: int):
    return invoice_action(
        invoice_id,
        lambda inv: void(inv, common.today()),
        "voided",
        _("Invoice voided; its credit note is issued."),
    )


@bp.post("/factures/<int:invoice_id>/relance")
@requires(Role.billing_admin)
def invoice_remind(invoice_id: int):
    return invoice_action(
        invoice_id,
        lambda inv: send_reminder(inv, common.today()),
        "reminded",
        _("Reminder sent to the billing contact."),
    )


@bp.post("/factures/<int:invoice_id>/paiement")
@requires(Role.billing_admin)
def invoice_payment(invoice_id: int):
    invoice = common.get_or_404(Invoice, invoice_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            record_payment(
                invoice,
                form.paid_on.data,
                common.cents(form.amount.data),
                form.reference.data.strip(),
            )
        except InvoicingError as exc:  # refused before anything was written
            common.place_error(form, exc, "amount")
        else:
            audit("billing.payment_recorded", actor=current_user, invoice=invoice_id)
            flash(_("Payment recorded."), "success")
            return redirect(url_for(".invoice", invoice_id=invoice_id))
    return invoice_page(invoice, payment_form=form)


@bp.get("/factures/<int:invoice_id>/document.<fmt>")
@requires(Role.billing_admin)
def invoice_document(invoice_id: int, fmt: str):
    return document_response(common.get_or_404(Invoice, invoice_id), fmt)
