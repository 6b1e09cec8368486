"""A territory's API keys: created (shown once), stored hashed, checked, revoked; CLI."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

import click
from flask.cli import AppGroup
from flask_babel import to_user_timezone
from sqlalchemy import select, update

from core.cli import SLUG
from core.db import utcnow
from core.extensions import db
from core.registry import get_by_slug
from core.tenancy import engine_for, require_tenant, tenant_scope
from ingest.listings.models import SCOPES, ApiKey

KEY_MARK = "vvk"
_PREFIX = re.compile(r"[0-9a-f]{1,16}")
#: `last_used_at` is refreshed at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: A hash compared when the prefix is unknown, so that both refusals take the same time.
_DECOY = hashlib.sha256(b"decoy").hexdigest()


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_key(name: str, scopes, account=None) -> tuple[ApiKey, str]:
    """A new key of the bound territory and its plaintext (`vvk_<prefix>_<secret>`), which is
    never stored: show it once. Flushed, not committed."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("a key needs a name of 1 to 100 characters")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {', '.join(unknown)}")
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"  # 256 bits of secret
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_digest(plaintext),
        scopes=scopes,
        created_by_id=getattr(account, "id", None),
    )
    db.session.add(key)
    db.session.flush()
    return key, plaintext


def revoke(key: ApiKey, account=None) -> None:
    """Refuse the key from now on (kept for the activity log). Flushed, not committed."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.revoked_by_id = getattr(account, "id", None)
        db.session.flush()


def authenticate(header_value: str | None) -> ApiKey | None:
    """The live key of the bound territory named by `Authorization: Bearer …`, else None.

    Keys live in their territory's schema, so another territory's key is simply not found.
    """
    scheme, _, token = (header_value or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    mark, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or not secret or not _PREFIX.fullmatch(prefix):
        return None  # a prefix is hex (`create_key`): anything else names no key
    key = db.session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
    matches = hmac.compare_digest(key.secret_hash if key else _DECOY, _digest(token))
    if key is None or not matches or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        _record_use(key.id, now)
    return key


def _record_use(key_id: int, now) -> None:
    """Note the key's use in its own short transaction: a use counts whatever the request
    answers (a refused write too), and the request's transaction stays its own. Conditional,
    so concurrent requests write it once."""
    with engine_for(db.engine, require_tenant().schema).begin() as connection:
        connection.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where(
                (ApiKey.last_used_at.is_(None))
                | (ApiKey.last_used_at <= now - LAST_USED_RESOLUTION)
            )
            .values(last_used_at=now)
        )


# --- flask apikeys ------------------------------------------------------------------------------

cli = AppGroup("apikeys", help="API keys of a territory's /api/v1.")


def default_name() -> str:
    """The name of a key created without one: the day, as the site shows dates (Paris)."""
    return f"Key of {to_user_timezone(utcnow()):%Y-%m-%d}"


def _territory(slug: str):
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        raise click.ClickException(f"no territory with slug {slug!r}")
    ref = tenant.ref()
    db.session.rollback()  # the registry's transaction ends before the territory's begins
    return ref


@cli.command("create")
@click.option("--tenant", "slug", type=SLUG, required=True, help="The territory's slug.")
@click.option("--name", help="What the key is for, e.g. “Logiciel RH” (default: “Key of <today>”).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="listings:read and/or listings:write (repeat the option).",
)
def create_command(slug, name, scopes):
    """Create a key and print it once: only its hash is kept."""
    ref = _territory(slug)
    with tenant_scope(ref):
        try:
            key, plaintext = create_key(default_name() if name is None else name, scopes)
        except ValueError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f'Key {key.prefix} "{key.name}" ({", ".join(key.scopes)}) for {ref.slug}:')
        click.echo(plaintext)
        click.echo("Store it now: it cannot be shown again.", err=True)


@cli.command("list")
@click.option("--tenant", "slug", type=SLUG, required=True, help="The territory's slug.")
def list_command(slug):
    """The territory's keys: prefix, name, scopes, last use, revocation."""
    ref = _territory(slug)
    with tenant_scope(ref):
        keys = db.session.execute(select(ApiKey).order_by(ApiKey.id)).scalars().all()
        for key in keys:
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(
                f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\tlast used {used}\t{state}"
            )
        db.session.rollback()  # read only: the territory's transaction ends inside its scope
    if not keys:
        click.echo("No key.", err=True)


@cli.command("revoke")
@click.option("--tenant", "slug", type=SLUG, required=True, help="The territory's slug.")
@click.option("--prefix", required=True, help="The key's prefix (shown by `list`).")
def revoke_command(slug, prefix):
    """Revoke a key: requests with it are refused at once."""
    ref = _territory(slug)
    with tenant_scope(ref):
        key = db.session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        if key is None:
            db.session.rollback()  # the territory's transaction ends inside its scope
            raise click.ClickException(f"no key with prefix {prefix!r} in {ref.slug}")
        revoke(key)
        db.session.commit()
        click.echo(f"Key {prefix} revoked.")
