"""What every CLI group shares: naming a territory by its slug or by its host form."""

from __future__ import annotations

import click

from core.tenancy import slug_of


class TerritorySlug(click.ParamType):
    """A territory's slug, also typed the way its host spells it (`pvd-cantal`); the services
    check it and refuse a malformed one in their own words."""

    name = "slug"

    def convert(self, value, param, ctx):
        return slug_of(value) if isinstance(value, str) else value


SLUG = TerritorySlug()
