"""`flask users …`: the first accounts and their roles, from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from core.auth import service
from core.auth.forms import address_error
from core.auth.models import Account, Role
from core.auth.passwords import hash_password
from core.cli import SLUG
from core.db import utcnow
from core.extensions import db
from core.registry import get_by_slug

cli = AppGroup("users", help="Accounts and roles.")


def _tenant_ref(role: Role | None, slug: str | None):
    if role is None:
        if slug:
            raise click.ClickException("--tenant goes with --role")
        return None
    if role == Role.billing_admin:
        if slug:
            raise click.ClickException("billing_admin is platform-wide: no --tenant")
        return None
    if not slug:
        raise click.ClickException(f"--role {role.value} needs --tenant SLUG")
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        raise click.ClickException(f"no territory with slug {slug!r}")
    return tenant.ref()


@cli.command("create")
@click.option("--email", required=True)
@click.option("--name", help="Display name (default: the part of the address before @).")
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--tenant", "slug", type=SLUG, help="The territory the role is on.")
@click.option("--locale", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
def create_command(email, name, role, slug, locale):
    """Create a verified account; the password is read from standard input (one line)."""
    role = Role(role) if role else None
    tenant = _tenant_ref(role, slug)
    email = service.normalise_email(email)
    refused = address_error(email)
    if refused is not None:  # the same check as the account forms'
        raise click.ClickException(f"invalid e-mail address {email!r}: {refused}")
    if service.find_account(email) is not None:
        raise click.ClickException(f"an account already uses {email}")
    password = sys.stdin.readline().rstrip("\n")
    try:
        service.check_password_rules(password)
    except service.AuthError:
        raise click.ClickException(
            "the password (on standard input) must have 12 to 128 characters"
        ) from None
    account = Account(
        email=email,
        password_hash=hash_password(password),
        display_name=(name or email.split("@")[0]).strip(),
        locale=locale,
        email_verified_at=utcnow(),
    )
    db.session.add(account)
    db.session.flush()
    service.audit("account.created_by_cli", actor=account)
    if role is not None:
        service.grant(account, role, tenant, None)
    db.session.commit()
    click.echo(
        f"created {email}" + (f" ({role.value}{' of ' + slug if slug else ''})" if role else "")
    )


@cli.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--tenant", "slug", type=SLUG)
def grant_command(email, role, slug):
    """Give ROLE to the account EMAIL (on --tenant, but for billing_admin)."""
    role = Role(role)
    tenant = _tenant_ref(role, slug)
    account = service.find_account(email)
    if account is None:
        raise click.ClickException(f"no account uses {email}")
    try:
        service.grant(account, role, tenant, None)
    except service.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{email} is {role.value}" + (f" of {slug}" if slug else ""))
