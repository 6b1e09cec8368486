"""`flask tenants …`: the territory lifecycle and the migrations of territory schemas."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.cli import SLUG
from core.extensions import db
from core.registry import Tenant, TenantKind, TenantStatus
from core.tenancy import TEMPLATE_SCHEMA
from tenants import entitlements, grants
from tenants import migrate as tenant_migrate
from tenants import provisioning as prov
from tenants.demo import seed_demo
from tenants.entitlements import Feature
from tenants.template import migrate_template

cli = AppGroup("tenants", help="Create, inspect, migrate, back up and delete territories.")


def guarded(func):
    """Turn a refused operation into one line on stderr and exit status 1."""

    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except prov.ProvisioningError as exc:
            raise click.ClickException(str(exc)) from None

    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    return wrapper


@cli.command("create")
@click.option(
    "--slug",
    type=SLUG,
    required=True,
    help="Lower-case identifier: letters, digits, _ (e.g. saint_flour).",
)
@click.option("--name", required=True, help="Display name, e.g. « Saint-Flour ».")
@click.option("--kind", required=True, type=click.Choice([k.value for k in TenantKind]))
@click.option(
    "--code", default=None, help="INSEE code (commune, département) or SIREN (EPCI, umbrella)."
)
@click.option(
    "--domain", "domains", multiple=True, help="An extra, verified host name (repeatable)."
)
@click.option("--locale", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
@click.option("--theme", default="default", show_default=True)
@guarded
def create_command(slug, name, kind, code, domains, locale, theme):
    """Create a territory: registry row, schema and migrations, all or nothing."""
    tenant = prov.create_tenant(
        prov.TenantSpec(slug, name, kind, code, tuple(domains), locale, theme)
    )
    click.echo(f"created {tenant.slug} ({tenant.kind.value}) on {tenant.domains[0].host}")


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def list_command(as_json):
    """List the territories."""
    tenants = db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars().all()
    rows = [
        {
            "slug": t.slug,
            "name": t.name,
            "kind": t.kind.value,
            "code": t.official_code,
            "status": t.status.value,
            "schema": t.schema_name,
            "locale": t.default_locale,
            "theme": t.theme,
            "hosts": [d.host for d in t.domains],
        }
        for t in tenants
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        click.echo(
            f"{r['slug']:<24} {r['kind']:<12} {r['status']:<10} {r['hosts'][0]}  {r['name']}"
        )


@cli.command("suspend")
@click.argument("slug", type=SLUG)
@guarded
def suspend_command(slug):
    """Suspend a territory: its site answers 503 until resumed."""
    prov.set_status(slug, TenantStatus.suspended)
    click.echo(f"suspended {slug}")


@cli.command("resume")
@click.argument("slug", type=SLUG)
@guarded
def resume_command(slug):
    """Resume a suspended territory."""
    prov.set_status(slug, TenantStatus.active)
    click.echo(f"resumed {slug}")


@cli.command("add-member")
@click.argument("umbrella", type=SLUG)
@click.argument("member", type=SLUG)
@click.option("--joined-on", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@guarded
def add_member_command(umbrella, member, joined_on):
    """Make MEMBER (a commune or EPCI) a member of the PVD umbrella UMBRELLA."""
    prov.add_member(umbrella, member, joined_on.date() if joined_on else None)
    click.echo(f"{member} joined {umbrella}")


@cli.command("remove-member")
@click.argument("umbrella", type=SLUG)
@click.argument("member", type=SLUG)
@click.option("--left-on", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@guarded
def remove_member_command(umbrella, member, left_on):
    """End MEMBER's membership of UMBRELLA (the history is kept)."""
    prov.remove_member(umbrella, member, left_on.date() if left_on else date.today())
    click.echo(f"{member} left {umbrella}")


@cli.command("backup")
@click.argument("slug", type=SLUG)
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@guarded
def backup_command(slug, file):
    """Dump SLUG's schema to FILE (pg_dump custom format)."""
    click.echo(f"backed up {slug} to {prov.backup_tenant(slug, file)}")


@cli.command("restore")
@click.argument("slug", type=SLUG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="For a new slug: display name (default: the backup's).")
@click.option("--kind", type=click.Choice([k.value for k in TenantKind]))
@click.option("--code")
@guarded
def restore_command(slug, file, name, kind, code):
    """Restore FILE into SLUG, a new slug or one whose schema is empty."""
    spec = None
    if name or kind or code:
        if not (name and kind):
            raise click.ClickException(
                "--name and --kind go together (and --code for all but umbrellas)"
            )
        spec = prov.TenantSpec(slug, name, kind, code)
    tenant = prov.restore_tenant(slug, file, spec)
    click.echo(f"restored {tenant.slug} from {file}")


@cli.command("delete")
@click.argument("slug", type=SLUG)
@click.option("--yes", is_flag=True, help="Confirm: the schema and the registry rows go.")
@guarded
def delete_command(slug, yes):
    """Back SLUG up into storage, then drop its schema and registry rows."""
    if not yes:
        raise click.ClickException("deleting a territory needs --yes")
    key = prov.delete_tenant(slug)
    click.echo(f"deleted {slug}; backup kept in storage at {key}")


@cli.command("migrate")
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Schemas migrated in parallel (processes).",
)
@click.option("--tenant", "slug", type=SLUG, help="Only this territory.")
def migrate_command(jobs, slug):
    """Bring every territory schema to head; goes on past failures and lists them."""
    query = select(Tenant.slug, Tenant.schema_name).order_by(Tenant.slug)
    if slug:
        query = query.where(Tenant.slug == slug)
    tenants = dict(db.session.execute(query).all())
    if slug and not tenants:
        raise click.ClickException(f"no territory with slug {slug!r}")
    location = current_app.config["TENANT_MIGRATIONS"]
    head = tenant_migrate.head(location)
    versions = tenant_migrate.schema_versions(
        db.session.connection(), [TEMPLATE_SCHEMA, *tenants.values()]
    )
    db.session.rollback()
    template_behind = versions.pop(TEMPLATE_SCHEMA) != head and not slug
    behind = [schema for schema, version in versions.items() if version != head]
    click.echo(f"{len(tenants) - len(behind)} schema(s) at head {head}, {len(behind)} to migrate")
    failures = []
    if template_behind:  # first, so that territories created meanwhile are cloned at head
        outcome = migrate_template(db.engine, location)
        if outcome.error:
            failures.append(outcome)
        else:
            click.echo(f"template schema {TEMPLATE_SCHEMA} at head {head}")
    if behind:
        url = prov._libpq_url().replace("postgresql://", "postgresql+psycopg://", 1)
        with click.progressbar(length=len(behind), label="migrating", file=sys.stderr) as bar:
            outcomes = tenant_migrate.migrate_many(url, behind, jobs, bar.update, location)
        failed = [o for o in outcomes if o.error]
        click.echo(f"{len(outcomes) - len(failed)} migrated, {len(failed)} failed")
        failures += sorted(failed, key=lambda o: o.schema)
    if failures:
        for o in failures:
            click.echo(f"FAILED {o.schema}: {o.error}", err=True)
        sys.exit(1)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
def status_command(as_json):
    """Each territory schema's revision and whether it is behind head."""
    tenants = dict(
        db.session.execute(select(Tenant.slug, Tenant.schema_name).order_by(Tenant.slug)).all()
    )
    head = tenant_migrate.head(current_app.config["TENANT_MIGRATIONS"])
    versions = tenant_migrate.schema_versions(db.session.connection(), list(tenants.values()))
    rows = [
        {
            "slug": s,
            "schema": schema,
            "revision": versions[schema],
            "behind": versions[schema] != head,
        }
        for s, schema in tenants.items()
    ]
    if as_json:
        click.echo(json.dumps({"head": head, "schemas": rows}))
        return
    click.echo(f"head: {head}")
    for r in rows:
        state = "behind" if r["behind"] else "at head"
        click.echo(f"{r['slug']:<24} {r['revision'] or '-':<14} {state}")


@cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option("--autogenerate", is_flag=True, help="Compare the models with a scratch schema.")
def revision_command(message, autogenerate):
    """Write a new revision for the territory schemas (migrations/tenant/versions)."""
    # heavy (alembic and its templates): imported when a revision is written
    from alembic import command as alembic_command  # noqa: PLC0415
    from alembic.config import Config as AlembicConfig  # noqa: PLC0415

    config = AlembicConfig()
    config.set_main_option("script_location", current_app.config["TENANT_MIGRATIONS"])
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    with current_app.app_context():
        alembic_command.revision(config, message=message, autogenerate=autogenerate)


@cli.command("seed-demo")
@guarded
def seed_demo_command():
    """Provision the demo territories (idempotent)."""
    seed_demo(current_app.config["BASE_DOMAIN"], echo=click.echo)
    click.echo("demo territories ready")


@cli.command("grant")
@click.argument("slug", type=SLUG)
@click.option(
    "--feature",
    "features",
    multiple=True,
    required=True,
    type=click.Choice([f.value for f in Feature]),
    help="What to switch on (repeatable): base, barometer (option 1), site (option 2), jobs "
    "(option 3).",
)
@click.option("--from", "starts_on", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@click.option(
    "--until",
    "ends_on",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Exclusive end date, at most a year later.",
)
@click.option("--reason", required=True, help="Why, e.g. « contrat en cours de signature ».")
@guarded
def grant_command(slug, features, starts_on, ends_on, reason):
    """Grant features to a territory being set up before its contract is signed (audited)."""
    tenant = prov.require(slug)
    try:
        made = grants.grant(
            tenant,
            features,
            starts_on.date() if starts_on else None,
            ends_on.date(),
            reason,
        )
    except grants.GrantError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for row in made:
        click.echo(
            f"grant {row.id}: {row.feature.value} for {slug} [{row.starts_on}, {row.ends_on})"
        )


@cli.command("revoke-grant")
@click.argument("grant_id", type=int)
def revoke_command(grant_id):
    """End a manual grant today (audited)."""
    try:
        row = grants.revoke(grant_id)
    except grants.GrantError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"grant {row.id} revoked")


@cli.command("entitlements")
@click.argument("slug", type=SLUG)
@click.option("--on", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (Paris).")
@guarded
def entitlements_command(slug, day):
    """What a territory may use on a day, and every period that decides it."""
    tenant = prov.require(slug)
    day = day.date() if day else entitlements.today()
    have = entitlements.features_of(tenant.id, day)
    click.echo(f"{slug} on {day}: {', '.join(sorted(have)) or 'nothing'}")
    for p in entitlements.load_periods(tenant.id):
        end = p.ends_on.isoformat() if p.ends_on else "…"
        click.echo(f"  {p.feature.value:<9} {p.starts_on} → {end}  {p.origin} #{p.reference}")
