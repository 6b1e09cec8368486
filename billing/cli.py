"""`flask billing …`: quotes and the billing run."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask.cli import AppGroup

from billing.catalogue import CatalogueError, price_list
from billing.models import ContractKind, Tier
from billing.pricing import PricingError, quote
from core.extensions import db

cli = AppGroup("billing", help="Quotes, billing runs and reminders.")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def euros(cents: int) -> str:
    return f"{cents / 100:,.2f} €".replace(",", " ").replace(".", ",")


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
            fail("a PVD umbrella quote needs --members N and --member-kind KIND")
    elif members or member_kind:
        fail("--members and --member-kind only apply to --kind umbrella")
    day = on.date() if on else date.today()
    member_tiers = [Tier(member_kind)] * members if members else []
    try:
        result = quote(price_list(db.session, day), kind, options, member_tiers)
    except (PricingError, CatalogueError) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    for line in result.lines:
        click.echo(f"{line.label:<60} {euros(line.amount_cents):>14}")
    click.echo(f"{'Total HT / mois':<60} {euros(result.total_ht_cents):>14}")
    click.echo(f"{'TVA 20 %':<60} {euros(result.vat_cents):>14}")
    click.echo(f"{'Total TTC / mois':<60} {euros(result.total_ttc_cents):>14}")
