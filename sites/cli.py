"""`flask site …`: the territory sites' own content from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from sites.demo import seed_campaigns, seed_home_texts

cli = AppGroup("site", help="The territory sites' content.")


@cli.command("seed-demo")
def seed_demo_command():
    """Give the demo territories their home page texts and campaigns (after `flask tenants
    seed-demo`)."""
    seed_home_texts(echo=click.echo)
    seed_campaigns(echo=click.echo)
    click.echo("demo home texts and campaigns ready")


@cli.command("demo-photos")
@click.option("--tenant", "slugs", multiple=True, help="Territory slug (default: the demo's).")
def demo_photos_command(slugs):
    """Give every listing without a photo a drawn illustration (after the demo's imports)."""
    from sites.demo_photos import demo_photos  # noqa: PLC0415 - draws with Pillow

    added = demo_photos(list(slugs) or None, echo=click.echo)
    click.echo(f"{added} demo pictures added")
