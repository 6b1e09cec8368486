"""Demo billing data of `make demo`: Saint-Flour's and the PVD umbrella's contracts, invoiced."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from billing import contracts
from billing.invoicing.billing_run import run
from billing.invoicing.numbering import PREFIXES
from billing.invoicing.payments import balance_cents, record_payment
from billing.models import (
    Contract,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceSequence,
    InvoiceStatus,
    Payment,
)
from billing.schedule import add_months, schedule
from core.extensions import db
from core.registry import get_by_slug, members_of

#: Local demo only: the SIRETs follow the communes' pattern (21 + département + commune code)
#: and pass the SIREN and SIRET checksums; the addresses are the town halls'.
DEMO_CUSTOMERS = {
    "saint_flour": {
        "legal_name": "Commune de Saint-Flour",
        "siret": "21150187900012",
        "address_line1": "Hôtel de ville",
        "address_line2": "Place d'Armes",
        "postcode": "15100",
        "city": "Saint-Flour",
        "billing_email": "finances@saint-flour.demo.vivrau.localhost",
        "service_code": "FINANCES",
        "engagement_number": None,
    },
    # A group purchase of the PVD towns: Mauriac, its coordinator, signs and pays.
    "pvd_cantal": {
        "legal_name": "Commune de Mauriac (coordonnateur du groupement Petites villes de demain)",
        "siret": "21150120000011",
        "address_line1": "Hôtel de ville",
        "address_line2": "Place Georges-Pompidou",
        "postcode": "15200",
        "city": "Mauriac",
        "billing_email": "pvd@mauriac.demo.vivrau.localhost",
        "service_code": "PVD-CANTAL",
        "engagement_number": "EJ-PVD15-0001",
    },
}


class DemoError(RuntimeError):
    """The demo territories are missing: nothing was created."""


def _tenant(slug: str):
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        raise DemoError(f"no territory {slug!r}: run `flask tenants seed-demo` first")
    return tenant


def _customer(slug: str, echo) -> Customer:
    values = DEMO_CUSTOMERS[slug]
    found = db.session.execute(
        select(Customer).where(Customer.siret == values["siret"])
    ).scalar_one_or_none()
    if found is not None:
        return found
    customer = contracts.create_customer(tenant_id=_tenant(slug).id, **values)
    echo(f"created customer {customer.legal_name}")
    return customer


def _contract(customer: Customer, echo, **spec) -> Contract:
    """The customer's first contract, or a new one from `spec`."""
    found = db.session.execute(
        select(Contract).where(Contract.customer_id == customer.id).order_by(Contract.id)
    ).scalar()
    if found is not None:
        return found
    contract = contracts.create_contract(customer_id=customer.id, **spec)
    echo(f"created contract of {customer.legal_name} from {contract.start_on}")
    return contract


def _last_issue_date(year: int) -> date | None:
    return db.session.execute(
        select(InvoiceSequence.last_issue_date).where(
            InvoiceSequence.prefix == PREFIXES[InvoiceKind.invoice],
            InvoiceSequence.year == year,
        )
    ).scalar()


def _bill(demo: list[Contract], on: date) -> list[Invoice]:
    """The billing run of these contracts on each past due date, so invoices carry their date."""
    days = sorted(
        {i.due_on for c in demo for i in schedule(c) if i.due_on is not None and i.due_on <= on}
    )
    created: list[Invoice] = []
    for day in days:
        # Numbers and dates go forward together: never behind an invoice issued since.
        last = _last_issue_date(day.year)
        created += run(max(day, last or day), contract_ids=[c.id for c in demo])
    return created


def _pay_first(contract: Contract, on: date, echo) -> None:
    """The signature invoice is paid three weeks after it was issued (once)."""
    invoice = db.session.execute(
        select(Invoice).where(
            Invoice.contract_id == contract.id, Invoice.schedule_key == "y1-signature"
        )
    ).scalar()
    if invoice is None or invoice.status != InvoiceStatus.finalised:
        return
    if db.session.execute(select(Payment.id).where(Payment.invoice_id == invoice.id)).first():
        return
    paid_on = min(invoice.issue_date + timedelta(days=21), on)
    reference = f"Mandat n° {paid_on.year}-{invoice.id:05d}"
    record_payment(invoice, paid_on, balance_cents(invoice), reference)
    echo(f"payment of {invoice.number} recorded on {paid_on}")


def seed_demo(on: date | None = None, echo=print) -> list[Invoice]:
    """Create what is missing and bill up to `on` (today); running it again changes nothing.

    Nothing is committed here: the command commits, then has the new invoices' documents drawn.
    """
    on = on or date.today()
    month = on.replace(day=1)
    pvd = _tenant("pvd_cantal")
    members = members_of(db.session, pvd.id, on)
    if not members:
        raise DemoError("the umbrella pvd_cantal has no member: run `flask tenants seed-demo`")

    # Saint-Flour: base + option 2 since four months, live since two; the go-live invoice is
    # left unpaid, so it is overdue.
    start = add_months(month, -4)
    saint_flour = _contract(
        _customer("saint_flour", echo),
        echo,
        kind="commune",
        start_on=start,
        go_live_on=add_months(start, 2),
        end_on=add_months(start, 36),
        options={"option2": None},
    )
    # The PVD umbrella and its member towns: options 1–3 from this month, five years, the towns'
    # teams managed by the umbrella.
    umbrella = _contract(
        _customer("pvd_cantal", echo),
        echo,
        kind="umbrella",
        start_on=month,
        go_live_on=add_months(month, 2),
        end_on=add_months(month, 60),
        options={"option1": None, "option2": None, "option3": None},
        # Its members are the umbrella's (`flask tenants seed-demo` made them join this month);
        # it manages their teams: its coordinator invites their editors.
        manages_members=True,
    )
    created = _bill([saint_flour, umbrella], on)
    for invoice in created:
        echo(f"issued {invoice.number} ({invoice.title}) on {invoice.issue_date}")
    _pay_first(saint_flour, on, echo)
    return created
