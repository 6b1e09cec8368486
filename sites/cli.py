"""`flask site …`: the territory sites' own content from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from sites.demo import seed_home_texts

cli = AppGroup("site", help="The territory sites' content.")


@cli.command("seed-demo")
def seed_demo_command():
    """Give the demo territories their home page texts (after `flask tenants seed-demo`)."""
    seed_home_texts(echo=click.echo)
    click.echo("demo home texts ready")
