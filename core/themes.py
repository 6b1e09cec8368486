"""Territory themes: one cached Jinja environment per theme, looked up theme → default."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader

from core.tenancy import current_tenant

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"
DEFAULT_THEME = "default"
PARTIALS = Path(__file__).resolve().parent / "templates"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def available_themes() -> dict[str, dict]:
    """Theme name → its theme.toml contents, for every folder of themes/ that has one."""
    themes = {}
    for path in sorted(THEMES_DIR.iterdir()):
        toml = path / "theme.toml"
        if path.is_dir() and _NAME_RE.match(path.name) and toml.exists():
            themes[path.name] = tomllib.loads(toml.read_text("utf-8"))
    return themes


def _chain(theme: str) -> list[Path]:
    if theme != DEFAULT_THEME and _NAME_RE.match(theme) and (THEMES_DIR / theme).is_dir():
        return [THEMES_DIR / theme, THEMES_DIR / DEFAULT_THEME]
    return [THEMES_DIR / DEFAULT_THEME]


def theme_environment(app, theme: str):
    """Each theme has its own environment (and template cache), never a per-request loader."""
    envs = app.extensions.setdefault("theme_envs", {})
    env = envs.get(theme)
    if env is None:
        env = app.create_jinja_environment()
        # Theme → default theme → the platform's shared partials (language switch, …).
        env.loader = ChoiceLoader(
            [FileSystemLoader(p / "templates") for p in _chain(theme)]
            + [FileSystemLoader(PARTIALS)]
        )
        # Same translations and formatting filters as the application's own environment.
        env.add_extension("jinja2.ext.i18n")
        env.newstyle_gettext = app.jinja_env.newstyle_gettext
        env.globals.update(app.jinja_env.globals)
        env.filters.update(app.jinja_env.filters)
        envs[theme] = env
    return env


def render_site(template: str, **context) -> str:
    """Render a site template through the bound territory's theme (the default one on the
    console host, for its account pages)."""
    app = current_app._get_current_object()
    tenant = current_tenant()
    env = theme_environment(app, tenant.theme if tenant else DEFAULT_THEME)
    context.setdefault("tenant", tenant)
    app.update_template_context(context)
    return env.get_template(template).render(context)


def theme_static(theme: str, filename: str):
    """A theme's static file, falling back to the default theme's; paths are joined safely."""
    for folder in _chain(theme):
        static = folder / "static"
        try:
            found = (static / filename).resolve().is_relative_to(static.resolve()) and (
                static / filename
            ).is_file()
        except (OSError, ValueError):  # a name too long for the file system: nothing is there
            return None
        if found:
            return send_from_directory(static, filename, max_age=3600)
    return None


bp = Blueprint("theme", __name__)


@bp.get("/theme/<path:filename>")
def file(filename: str):
    """A static file of the bound territory's theme (the default theme's on the console host)."""
    tenant = current_tenant()
    response = theme_static(tenant.theme if tenant else DEFAULT_THEME, filename)
    if response is None:
        abort(404)
    return response


@bp.get("/theme-base/<path:filename>")
def base_file(filename: str):
    """A static file of the default theme, under another theme's own: a theme restyles the look
    and inherits every component's styles (cards, menus, forms) it does not restyle itself."""
    response = theme_static(DEFAULT_THEME, filename)
    if response is None:
        abort(404)
    return response
