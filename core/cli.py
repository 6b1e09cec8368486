"""What every CLI group shares: naming a territory by its slug or by its host form."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from core.extensions import bind_migrations
from core.tenancy import slug_of


class TerritorySlug(click.ParamType):
    """A territory's slug, also typed the way its host spells it (`pvd-cantal`); the services
    check it and refuse a malformed one in their own words."""

    name = "slug"

    def convert(self, value, param, ctx):
        return slug_of(value) if isinstance(value, str) else value


SLUG = TerritorySlug()


class MigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's commands, bound to the application when one of them is
    looked up, so that `flask --help` and every other command skip importing alembic."""

    def _commands(self, ctx: click.Context) -> click.Group:
        bind_migrations(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db  # noqa: PLC0415 - heavy: alembic, when migrating

        return db

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands(ctx).get_command(ctx, cmd_name)


migrations_cli = MigrationCommands("db", help="Migrations of the public schema (Flask-Migrate).")
