"""The territory lifecycle: create, suspend, resume, members, backup, restore, delete."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess  # noqa: S404 - pg_dump / pg_restore / psql, with argument lists only
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from core.extensions import db
from core.registry import (
    KIND_NAMES,
    Membership,
    Tenant,
    TenantDomain,
    TenantKind,
    TenantStatus,
    get_by_slug,
    validate_code,
    validate_host,
)
from core.signals import announce, perimeter_changed, territories_changed
from core.storage import get_storage
from core.tenancy import host_label, quote, schema_for, validate_slug
from tenants import memberships
from tenants.clone import CloneError
from tenants.migrate import upgrade_schema
from tenants.template import clone_template, ensure_template


class ProvisioningError(RuntimeError):
    """A lifecycle operation refused or failed; the message says why, in one line (English,
    for operators); `field` and `code` let a form show its own translated message."""

    def __init__(self, message: str, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field


@dataclass
class TenantSpec:
    slug: str
    name: str
    kind: str
    code: str | None = None
    domains: tuple[str, ...] = ()
    locale: str = "fr"
    theme: str = "default"


def _clean(spec: TenantSpec) -> tuple[TenantKind, str | None, list[str]]:
    """Validate everything before anything is written."""
    try:
        validate_slug(spec.slug)
    except ValueError as exc:
        raise ProvisioningError(str(exc), "bad_slug", "slug") from None
    if spec.kind not in {k.value for k in TenantKind}:
        raise ProvisioningError(
            f"invalid kind {spec.kind!r}: one of {', '.join(k.value for k in TenantKind)}"
        )
    kind = TenantKind(spec.kind)
    name = (spec.name or "").strip()
    if not name or len(name) > 200:
        raise ProvisioningError("invalid name: 1 to 200 characters")
    if spec.locale not in ("fr", "en"):
        raise ProvisioningError(f"invalid locale {spec.locale!r}: fr or en")
    try:
        code = validate_code(kind, spec.code)
    except ValueError as exc:
        raise ProvisioningError(str(exc), "bad_code", "code") from None
    base = current_app.config["BASE_DOMAIN"]
    try:
        hosts = [f"{host_label(spec.slug)}.{base}"] + [validate_host(h) for h in spec.domains]
    except ValueError as exc:
        raise ProvisioningError(str(exc), "bad_host", "domain") from None
    reserved = f"admin.{base}"
    if reserved in hosts:
        raise ProvisioningError(
            f"invalid host {reserved!r}: reserved for the platform console", "bad_host", "domain"
        )
    return kind, code, list(dict.fromkeys(hosts))


def _describe(tenant: Tenant) -> str:
    """What a backup needs to recreate the registry row; kept as the schema's comment."""
    return json.dumps(
        {
            "slug": tenant.slug,
            "name": tenant.name,
            "kind": tenant.kind.value,
            "code": tenant.official_code,
            "locale": tenant.default_locale,
            "theme": tenant.theme,
        },
        ensure_ascii=False,
    )


def _comment_schema(connection, tenant: Tenant) -> None:
    connection.execute(
        text(f"COMMENT ON SCHEMA {quote(tenant.schema_name)} IS {_sql_literal(_describe(tenant))}")
    )


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _register(spec: TenantSpec) -> Tenant:
    """Validate `spec` and add its registry row and host names to the session (flushed)."""
    kind, code, hosts = _clean(spec)
    if get_by_slug(db.session, spec.slug) is not None:
        raise ProvisioningError(
            f"a territory with slug {spec.slug!r} already exists", "slug_taken", "slug"
        )
    taken = db.session.execute(select(TenantDomain.host).where(TenantDomain.host.in_(hosts)))
    if taken := list(taken.scalars()):
        raise ProvisioningError(f"host already in use: {', '.join(taken)}", "host_taken", "domain")
    tenant = Tenant(
        slug=spec.slug,
        name=spec.name.strip(),
        kind=kind,
        official_code=code,
        default_locale=spec.locale,
        theme=spec.theme,
        schema_name=schema_for(spec.slug),
        status=TenantStatus.active,
    )
    tenant.domains = [TenantDomain(host=h, is_primary=i == 0) for i, h in enumerate(hosts)]
    db.session.add(tenant)
    db.session.flush()
    return tenant


def create_tenant(spec: TenantSpec) -> Tenant:
    """Registry row, then schema cloned from the template — one transaction, all or nothing.

    The template is brought to head first, in a transaction of its own, before this one
    writes anything (a template migration never waits on this creation's locks).
    """
    session = db.session
    location = current_app.config["TENANT_MIGRATIONS"]
    try:
        _clean(spec)
        ensure_template(db.engine, location)
        tenant = _register(spec)
        schema = tenant.schema_name
        connection = session.connection()
        connection.exec_driver_sql(f"CREATE SCHEMA {quote(schema)}")
        _comment_schema(connection, tenant)
        clone_template(connection, schema, location)
        _perimeter_changed(tenant)
        announce(territories_changed, tenant.ref())
        session.commit()
    except Exception as exc:
        session.rollback()
        if isinstance(exc, ProvisioningError):
            raise
        reason = str(exc) if isinstance(exc, CloneError) else _first_line(exc)
        raise ProvisioningError(f"could not create {spec.slug!r}: {reason}") from exc
    current_app.extensions["host_cache"].clear()
    return tenant


def _perimeter_changed(tenant: Tenant) -> None:
    """Its land changes with the transaction: the territory's cells follow once it commits."""
    announce(perimeter_changed, tenant.ref(), official_code=tenant.official_code)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def refusal(exc: ProvisioningError) -> str:
    """The service's refusal in the reader's language (the CLI keeps the English one)."""
    return {
        "bad_slug": _("This identifier is not allowed (reserved or malformed)."),
        "slug_taken": _("A territory already uses this identifier."),
        "bad_code": _(
            "This code does not fit the kind: 5 characters (INSEE) for a commune, "
            "the INSEE code for a département, 9 digits (SIREN) for the others."
        ),
        "bad_host": _("This domain name is not valid, or is reserved."),
        "host_taken": _("This domain name already serves a territory."),
    }.get(exc.code or "", _("Not created: %(reason)s", reason=str(exc)))


def free_slug(name: str) -> str:
    """A slug made from a territory's name ("Riom-ès-Montagnes" → `riom_es_montagnes`), with a
    number added when another territory has it already."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:36] or "territoire"
    if not base[0].isalpha():
        base = f"t_{base}"[:36]
    slug, n = base, 1
    while get_by_slug(db.session, slug) is not None:
        n += 1
        slug = f"{base}_{n}"
    return slug


def require(slug: str) -> Tenant:
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        raise ProvisioningError(f"no territory with slug {slug!r}")
    return tenant


def set_status(slug: str, status: TenantStatus) -> Tenant:
    tenant = require(slug)
    tenant.status = status
    announce(territories_changed, tenant.ref())
    db.session.commit()
    current_app.extensions["host_cache"].clear()
    return tenant


def current_membership(umbrella: Tenant, member: Tenant) -> Membership | None:
    """The member's stay in `umbrella` with no end yet, if any (past ones are kept)."""
    return memberships.open_stay(umbrella, member)


def add_member(umbrella_slug: str, member_slug: str, joined_on: date | None = None) -> Membership:
    """`flask tenants add-member`: the town joins from `joined_on` (today); committed."""
    umbrella, member = require(umbrella_slug), require(member_slug)
    if umbrella.kind != TenantKind.umbrella:
        raise ProvisioningError(
            f"{umbrella_slug!r} is {KIND_NAMES[umbrella.kind]}, not an umbrella"
        )
    if member.kind not in memberships.MEMBER_KINDS:
        raise ProvisioningError(
            f"{member_slug!r} is {KIND_NAMES[member.kind]}: members are communes or EPCIs"
        )
    try:
        with force_locale("en"):  # operators read the command line in English
            stay = memberships.join(umbrella, member, joined_on or memberships.today())
    except memberships.MembershipError as exc:
        db.session.rollback()
        raise ProvisioningError(str(exc), field=exc.field) from None
    db.session.commit()
    return stay


def remove_member(umbrella_slug: str, member_slug: str, left_on: date | None = None) -> Membership:
    """The town leaves on `left_on` (its first day out; default today); committed. The stay is
    kept: billing needs its dates."""
    umbrella, member = require(umbrella_slug), require(member_slug)
    stay = current_membership(umbrella, member)
    if stay is None:
        raise ProvisioningError(f"{member_slug!r} is not a member of {umbrella_slug!r}")
    try:
        with force_locale("en"):
            memberships.leave(stay, left_on or memberships.today())
    except memberships.MembershipError as exc:
        db.session.rollback()
        raise ProvisioningError(str(exc), field=exc.field) from None
    db.session.commit()
    return stay


# --- backup and restore (pg_dump / pg_restore of one schema) ---------------------------------


def _libpq_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    """The client tools of the server's major version when several are installed (Debian)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ProvisioningError(f"{name} is not installed")
    return found


def _run(args: list[str], stdin: bytes | None = None) -> bytes:
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    result = subprocess.run(args, input=stdin, capture_output=True, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ProvisioningError(f"{Path(args[0]).name} failed: {err[-1] if err else 'no message'}")
    return result.stdout


def backup_tenant(slug: str, path: str | Path) -> Path:
    """Dump the territory's schema (custom format); the registry row rides in the schema comment."""
    tenant = require(slug)
    _comment_schema(db.session.connection(), tenant)
    db.session.commit()
    path = Path(path)
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            f"--schema={tenant.schema_name}",
            "--no-owner",
            "--no-privileges",
            f"--file={path}",
            _libpq_url(),
        ]
    )
    return path


_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ SCHEMA - (t_[a-z][a-z0-9_]{1,40}) ", re.M)
_COMMENT = re.compile(r"^COMMENT ON SCHEMA \S+ IS '((?:[^']|'')*)';$", re.M)


def read_backup(path: str | Path) -> tuple[str, dict]:
    """The schema a dump holds and the registry description saved with it."""
    toc = _run([_pg_tool("pg_restore"), "--list", str(path)]).decode()
    schemas = _TOC_SCHEMA.findall(toc)
    if len(schemas) != 1:
        raise ProvisioningError(f"{path} is not the backup of one territory schema")
    pre = _run([_pg_tool("pg_restore"), "--section=pre-data", "--file=-", str(path)]).decode()
    match = _COMMENT.search(pre)
    meta = json.loads(match.group(1).replace("''", "'")) if match else {}
    return schemas[0], meta


def _schema_state(schema: str) -> str:
    """'missing', 'empty' or 'used'."""
    row = db.session.execute(
        text(
            "SELECT n.oid, EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid) "
            "FROM pg_namespace n WHERE n.nspname = :s"
        ),
        {"s": schema},
    ).first()
    db.session.rollback()
    if row is None:
        return "missing"
    return "used" if row[1] else "empty"


def _rename_if_exists(old: str, new: str) -> str:
    """SQL renaming schema `old` to `new` if it exists; `quote` checks both names' pattern."""
    old_q, new_q, old_lit = quote(old), quote(new), _sql_literal(old)
    return (
        "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = "  # noqa: S608 - names checked by quote()
        f"{old_lit}) THEN ALTER SCHEMA {old_q} RENAME TO {new_q}; END IF; END$$;"
    )


def restore_tenant(slug: str, path: str | Path, spec: TenantSpec | None = None) -> Tenant:
    """Restore a dump into `slug`, whose schema must be missing or empty.

    A slug without a registry row gets one, from `spec` or else from the description saved
    in the backup. A dump of another slug is restored under the new name.
    """
    source, meta = read_backup(path)
    try:
        target = schema_for(slug)
    except ValueError as exc:
        raise ProvisioningError(str(exc)) from None
    tenant = get_by_slug(db.session, slug)
    if _schema_state(target) == "used":
        raise ProvisioningError(
            f"schema of {slug!r} is not empty: restore into an empty or new slug"
        )
    created = False
    if tenant is None:
        if spec is None:
            if not meta:
                raise ProvisioningError(
                    "the backup carries no description: give --name/--kind/--code"
                )
            spec = TenantSpec(
                slug=slug,
                name=meta["name"],
                kind=meta["kind"],
                code=meta.get("code"),
                locale=meta.get("locale", "fr"),
                theme=meta.get("theme", "default"),
            )
        try:
            tenant = _register(spec)
        except ProvisioningError:
            db.session.rollback()
            raise
        db.session.commit()
        created = True
    try:
        script = _run(
            [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(path)]
        )
        hold = f"t_restore_hold_{os.getpid()}"
        before, after = [f"DROP SCHEMA IF EXISTS {quote(target)};"], []
        if source != target:
            # The dump recreates `source`; a live territory of that name steps aside meanwhile.
            before.append(_rename_if_exists(source, hold))
            after.append(f"ALTER SCHEMA {quote(source)} RENAME TO {quote(target)};")
            after.append(_rename_if_exists(hold, source))
        full = ("\n".join(before) + "\n").encode() + script + ("\n".join(after) + "\n").encode()
        _run(
            [
                _pg_tool("psql"),
                "--quiet",
                "--no-psqlrc",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "--file=-",
                _libpq_url(),
            ],
            stdin=full,
        )
        upgrade_schema(
            db.session.connection(), target, location=current_app.config["TENANT_MIGRATIONS"]
        )
        _comment_schema(db.session.connection(), tenant)
        announce(territories_changed, tenant.ref())
        db.session.commit()
    except Exception:
        db.session.rollback()
        if created:
            db.session.delete(tenant)
            db.session.commit()
        raise
    current_app.extensions["host_cache"].clear()
    return tenant


def delete_tenant(slug: str) -> str:
    """Back the territory up into storage, then drop its schema and registry rows.

    Returns the storage key of the backup (under the territory's prefix).
    """
    tenant = require(slug)
    stamp = db.session.execute(
        text("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS')")
    ).scalar()
    key = f"backups/{stamp}.dump"
    with tempfile.TemporaryDirectory() as tmp:
        dump = backup_tenant(slug, Path(tmp) / "backup.dump")
        with dump.open("rb") as fh:
            get_storage().for_tenant(slug).put(key, fh, "application/octet-stream")
    tenant = require(slug)
    db.session.connection().exec_driver_sql(
        f"DROP SCHEMA IF EXISTS {quote(tenant.schema_name)} CASCADE"
    )
    announce(territories_changed, tenant.ref())
    db.session.delete(tenant)
    db.session.commit()
    current_app.extensions["host_cache"].clear()
    return f"tenants/{slug}/{key}"
