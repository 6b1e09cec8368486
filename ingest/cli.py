"""`flask ingest …`: the normed files of territory listings."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from core.config import ROOT
from ingest.listings.declaration import KINDS, table_schema

cli = AppGroup("ingest", help="Territory listings: normed files.")
SCHEMAS_DIR = ROOT / "ingest" / "schemas"


def schema_text(kind: str) -> str:
    return json.dumps(table_schema(kind), ensure_ascii=False, indent=2) + "\n"


@cli.command("schemas")
def schemas_command():
    """Write ingest/schemas/<kind>.json from the field declarations."""
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for kind in KINDS:
        (SCHEMAS_DIR / f"{kind}.json").write_text(schema_text(kind), encoding="utf-8")
        click.echo(f"ingest/schemas/{kind}.json")
