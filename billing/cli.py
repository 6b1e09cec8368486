"""`flask billing …`: quotes, the billing run, late interest and the demo data."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from billing.catalogue import CatalogueError, price_list
from billing.demo import DemoError, seed_demo
from billing.documents.store import enqueue_documents
from billing.invoicing import InvoicingError
from billing.invoicing.billing_run import run
from billing.invoicing.reminders import late_interest, send_due_reminders
from billing.models import Contract, ContractKind, Invoice, Tier
from billing.pricing import PricingError, quote
from core.commit import commit_point
from core.extensions import db
from core.i18n import money

cli = AppGroup("billing", help="Quotes, billing runs and reminders.")


@cli.command("quote")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in ContractKind]),
    help="The customer's tier, or umbrella for a PVD group.",
)
@click.option("--options", default="", help="Options taken, e.g. 1,2,3 (none: base only).")
@click.option("--members", type=click.IntRange(min=1), help="PVD umbrella: number of members.")
@click.option(
    "--member-kind", type=click.Choice([t.value for t in Tier]), help="PVD umbrella: their tier."
)
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Catalogue date (default: today)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the quote as JSON.")
def quote_command(kind, options, members, member_kind, on, as_json):
    """Monthly price of a subscription (€ HT, VAT 20 %), PVD discounts included."""
    if kind == ContractKind.umbrella.value:
        if not members or not member_kind:
            raise click.ClickException(
                "a PVD umbrella quote needs --members N and --member-kind KIND"
            )
    elif members or member_kind:
        raise click.ClickException("--members and --member-kind only apply to --kind umbrella")
    day = on.date() if on else date.today()
    member_tiers = [Tier(member_kind)] * members if members else []
    try:
        result = quote(price_list(db.session, day), kind, options, member_tiers)
    except (PricingError, CatalogueError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    for line in result.lines:
        click.echo(f"{line.label:<60} {money(line.amount_cents, locale='fr'):>14}")
    click.echo(f"{'Total HT / mois':<60} {money(result.total_ht_cents, locale='fr'):>14}")
    click.echo(f"{'TVA 20 %':<60} {money(result.vat_cents, locale='fr'):>14}")
    click.echo(f"{'Total TTC / mois':<60} {money(result.total_ttc_cents, locale='fr'):>14}")


@cli.command("run")
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Billing date (default: today)."
)
@click.option("--draft", is_flag=True, help="Leave the new invoices as drafts to review.")
@click.option("--no-reminders", is_flag=True, help="Do not remind overdue invoices.")
def run_command(on, draft, no_reminders):
    """Issue the invoices due by the date (idempotent) and remind overdue ones."""
    day = on.date() if on else date.today()
    total = db.session.execute(
        select(func.count()).select_from(Contract).where(Contract.start_on <= day)
    ).scalar_one()
    try:
        with click.progressbar(length=total, label="Contracts", file=sys.stderr) as bar:
            created = run(day, draft=draft, progress=bar.update)
        db.session.commit()
    except (InvoicingError, CatalogueError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    if not draft:
        enqueue_documents([i.id for i in created])
    reminders = 0 if no_reminders else send_due_reminders(day)
    commit_point()  # the reminders, and the outbox nudged to send them now
    state = "draft" if draft else "finalised"
    click.echo(f"{len(created)} invoice(s) {state} on {day}, {reminders} reminder(s) queued")


@cli.command("interest")
@click.argument("number")
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Computed up to (default: today)."
)
def interest_command(number, on):
    """Late-payment interest owed on an invoice, by its number."""
    invoice = db.session.execute(select(Invoice).where(Invoice.number == number)).scalar()
    if invoice is None:
        raise click.ClickException(f"no invoice numbered {number}")
    result = late_interest(invoice, on.date() if on else date.today())
    interest = money(result.interest_cents, locale="fr")
    indemnity = money(result.indemnity_cents, locale="fr")
    click.echo(
        f"{result.days} day(s) late at {result.rate_bp / 100:.2f} %: interest {interest}, "
        f"recovery indemnity {indemnity}"
    )


@cli.command("seed-demo")
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Bill up to (default: today)."
)
def seed_demo_command(on):
    """Demo customers, contracts, invoices and a payment (after `flask tenants seed-demo`)."""
    try:
        created = seed_demo(on.date() if on else None, echo=click.echo)
        db.session.commit()
    except (DemoError, InvoicingError, CatalogueError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    enqueue_documents([i.id for i in created])
    click.echo(f"demo billing ready ({len(created)} new invoice(s))")
