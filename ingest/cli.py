"""`flask ingest …`: the normed files of territory listings."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup

from core.cli import SLUG
from core.config import ROOT
from core.extensions import db
from core.inputs import INT_MAX
from core.registry import get_by_slug
from core.tenancy import tenant_scope
from ingest.listings.declaration import KINDS, table_schema
from ingest.listings.imports import ImportBusy, run_import, submit
from ingest.listings.normed import MAX_BYTES, Issue, NormedFileError
from ingest.listings.reports import load_report
from ingest.listings.templates_xlsx import workbook
from ingest.listings.wording import describe

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


def _territory(slug: str):
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        raise click.ClickException(f"no territory {slug!r}")
    ref = tenant.ref()
    db.session.rollback()
    return ref


@contextmanager
def _ending():
    """Leave no transaction open on the territory once a command is done with it."""

    try:
        yield
    finally:
        db.session.rollback()


def _print_outcome(record) -> None:
    report = load_report(record) or {"issues": []}
    for issue in report["issues"]:
        severity = "ERROR" if issue["error"] else "warning"
        where = f"row {issue['row']}" if issue["row"] else "file"
        click.echo(f"{severity:7} {where:>10} {issue['column'] or '':<18} {issue['message']['en']}")
    click.echo(
        f"import {record.id} {record.status}: {record.rows_read} rows read, "
        f"{record.rows_valid} valid, {record.errors_count} errors, "
        f"{record.warnings_count} warnings; created {record.created}, updated {record.updated}, "
        f"unchanged {record.unchanged}, unpublished {record.unpublished}"
        + (" (dry run: nothing changed)" if record.dry_run and record.status == "done" else "")
    )
    if record.status != "done":
        raise click.ClickException(f"import {record.id} {record.status}: nothing was changed")


@cli.command("listings")
@click.option("--tenant", "slug", type=SLUG, required=True, help="The territory's slug.")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The listings' kind.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--snapshot", is_flag=True, help="Unpublish the kind's listings absent from FILE.")
@click.option("--dry-run", is_flag=True, help="Validate and count, change nothing.")
@click.option("--valid-rows", is_flag=True, help="Import the valid rows of a file with errors.")
def listings_command(slug, kind, file, snapshot, dry_run, valid_rows):
    """Import a normed file (CSV or XLSX) now; exits non-zero when it is rejected."""

    ref = _territory(slug)
    path = Path(file)
    with tenant_scope(ref), _ending():
        try:
            if path.stat().st_size > MAX_BYTES:  # refused before a byte of it is read
                raise NormedFileError("too_large", limit_mb=MAX_BYTES // 2**20)
            record = submit(
                kind,
                path.read_bytes(),
                path.name,
                snapshot=snapshot,
                dry_run=dry_run,
                valid_only=valid_rows,
                inline=True,
            )
        except NormedFileError as exc:
            issue = Issue(exc.code, params=exc.params)
            raise click.ClickException(f"file refused: {describe(issue, 'en')}") from None
        _print_outcome(record)


@cli.command("rerun")
@click.option("--tenant", "slug", type=SLUG, required=True, help="The territory's slug.")
@click.argument("import_id", type=click.IntRange(1, INT_MAX))
def rerun_command(slug, import_id):
    """Run an interrupted or failed import again from its kept file."""

    with tenant_scope(_territory(slug)), _ending():
        try:
            record = run_import(import_id)
        except (LookupError, ImportBusy) as exc:
            raise click.ClickException(str(exc)) from None
        _print_outcome(record)


@cli.command("template")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The listings' kind.")
@click.option("--example", is_flag=True, help="Fill it with three example listings.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="XLSX file.")
def template_command(kind, example, output):
    """Write the kind's XLSX template (or filled example) for editors."""

    Path(output).write_bytes(workbook(kind, example=example))
    click.echo(output)


@cli.command("demo-listings")
@click.option(
    "-o",
    "--output",
    default="var/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of the generated files.",
)
@click.option(
    "--per-kind",
    default=60,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Listings of each kind per territory.",
)
@click.option(
    "--seed", default=0, show_default=True, help="Seed of the draws: the same seed, the same files."
)
def demo_listings_command(output, per_kind, seed):
    """Write each demo territory's listings as normed CSV files and import them (a snapshot:
    listings absent from a file are unpublished)."""
    # The generator places listings with shapely, which no other command needs at start-up.
    from ingest.listings.demo import demo_rows, demo_slugs, normed_csv  # noqa: PLC0415

    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for slug in demo_slugs():
        if get_by_slug(db.session, slug) is None:
            raise click.ClickException(f"no territory {slug!r}: run `flask tenants seed-demo`")
        ref = _territory(slug)
        for kind in KINDS:
            rows = demo_rows(ref, kind, per_kind, seed)
            db.session.rollback()  # the communes were read outside the territory
            path = folder / f"{slug}-{kind}.csv"
            path.write_bytes(normed_csv(kind, rows))
            click.echo(f"{path}: {len(rows)} listings")
            with tenant_scope(ref), _ending():
                record = submit(kind, path.read_bytes(), path.name, snapshot=True, inline=True)
                _print_outcome(record)
