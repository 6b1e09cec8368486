"""What every CLI group shares: naming a territory by its slug or by its host form, and one line
instead of a traceback when the database or Redis cannot be reached."""

from __future__ import annotations

import functools

import click
from flask.cli import ScriptInfo
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from core.extensions import bind_migrations
from core.tenancy import slug_of


class TerritorySlug(click.ParamType):
    """A territory's slug, also typed the way its host spells it (`pvd-cantal`); the services
    check it and refuse a malformed one in their own words."""

    name = "slug"

    def convert(self, value, param, ctx):
        return slug_of(value) if isinstance(value, str) else value


SLUG = TerritorySlug()


class MigrationCommands(click.Command):
    """`flask db …`: Flask-Migrate's group, bound to the application and imported when it runs
    (its options, its commands, its --help), so that `flask --help` and every other command skip
    importing alembic. It stands in the command list with its own one-line help."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        bind_migrations(parent.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db  # noqa: PLC0415 - heavy: alembic, when migrating

        return db.make_context(info_name, args, parent=parent, **extra)


migrations_cli = MigrationCommands("db", help="Migrations of the public schema (Flask-Migrate).")


def said_in_one_line(command: click.Command) -> click.Command:
    """`command` (and every command of a group, recursively) says in one line on stderr, exit
    status 1, that the database or Redis cannot be reached, rather than print a traceback."""
    for sub in getattr(command, "commands", {}).values():
        said_in_one_line(sub)
    if command.callback is not None:
        command.callback = _unreachable_in_one_line(command.callback)
    return command


def _unreachable_in_one_line(callback):
    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except OperationalError as exc:
            raise click.ClickException(
                f"database unreachable: {_first_line(exc.orig or exc)}"
            ) from None
        except RedisConnectionError as exc:
            raise click.ClickException(f"Redis unreachable: {_first_line(exc)}") from None

    return wrapper


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
