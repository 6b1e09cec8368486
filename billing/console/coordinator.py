"""The paying territory's page in its console: its contracts, schedules and invoices, read-only
(an umbrella's coordinators, a territory's admins; a member town billed through its umbrella
is told so)."""

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
from tenants.invoices_ahead import invoice_ahead


def own_contracts() -> list[Contract]:
    """The contracts billed to the territory (or umbrella) this console belongs to."""
    return queries.contracts_of_tenant(require_tenant().id)


@coordinator_bp.get("/", endpoint="index")
@requires(Role.coordinator, Role.admin)
def coordinator_index():
    contracts = own_contracts()
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
        ahead=invoice_ahead(require_tenant().id, on),
    )


@coordinator_bp.get("/factures/<int:invoice_id>/document.<fmt>", endpoint="document")
@requires(Role.coordinator, Role.admin)
def coordinator_document(invoice_id: int, fmt: str):
    """Only the territory's own issued invoices: any other id is not found."""
    ids = {c.id for c in own_contracts()}
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    owner = invoice.credits_invoice.contract_id if invoice.credits_invoice else None
    if invoice.contract_id not in ids and owner not in ids:
        abort(404)
    return document_response(invoice, fmt)
