"""The coordinators' page: their umbrella's contracts, schedules and invoices, read-only."""

from __future__ import annotations

from flask import abort, render_template

from billing import queries
from billing.console import common
from billing.console.blueprints import coordinator_bp
from billing.console.downloads import document_response
from billing.console.viewmodels import schedule_years
from billing.models import Contract, Invoice
from billing.schedule import monthly_ht_cents
from core.auth.models import Role
from core.auth.permissions import requires
from core.extensions import db
from core.tenancy import require_tenant


def umbrella_contracts() -> list[Contract]:
    """The contracts of the umbrella this console belongs to (any other territory: 404)."""
    tenant = require_tenant()
    if tenant.kind != "umbrella":
        abort(404)
    return queries.contracts_of_tenant(tenant.id)


@coordinator_bp.get("/", endpoint="index")
@requires(Role.coordinator)
def coordinator_index():
    contracts = umbrella_contracts()
    on = common.today()
    items = [
        {
            "contract": c,
            "years": schedule_years(c, queries.invoices_by_schedule_key(c.id)),
            "monthly_cents": monthly_ht_cents(c, on),
        }
        for c in contracts
    ]
    return render_template(
        "billing/console/coordinator.html",
        tenant=require_tenant(),
        contracts=items,
        invoices=queries.invoices_of_contracts([c.id for c in contracts]),
    )


@coordinator_bp.get("/factures/<int:invoice_id>/document.<fmt>", endpoint="document")
@requires(Role.coordinator)
def coordinator_document(invoice_id: int, fmt: str):
    """Only the umbrella's own issued invoices: any other id is not found."""
    ids = {c.id for c in umbrella_contracts()}
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    owner = invoice.credits_invoice.contract_id if invoice.credits_invoice else None
    if invoice.contract_id not in ids and owner not in ids:
        abort(404)
    return document_response(invoice, fmt)
