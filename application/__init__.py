"""The composition root: builds the application from the kernel and every feature — settings,
extensions, blueprints, the /api/v1 bridge, CLI groups and signal receivers. Nothing imports
it but the entry points (`wsgi`, the worker process, tests and benchmarks)."""

from __future__ import annotations

from dataclasses import fields

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import application.loading  # first: the collector waits while the modules below load
import billing.ahead  # noqa: F401 - the next invoices, read by the consoles
import billing.entitled  # noqa: F401 - the contracts' periods, read by the entitlements
import core.auth.login  # noqa: F401 - registers the account loader
import ingest.reference.territory  # noqa: F401 - receives perimeter_changed (cells follow)
import migrations.models  # noqa: F401 - every model known (people's data, metadata)
import sites.search.freshness  # noqa: F401 - receives *_changed (the search cache reloads)
import tenants.rights  # noqa: F401 - the platform console's entitlements pages
from billing.cli import cli as billing_cli
from billing.console import bp as billing_console_bp
from billing.console import coordinator_bp as billing_coordinator_bp
from core import web
from core.api import make_api
from core.auth.cli import cli as users_cli
from core.auth.views import bp as account_bp
from core.cli import migrations_cli, said_in_one_line
from core.config import ROOT, Config
from core.db import install_fork_guard
from core.extensions import (
    babel,
    buffer_small_files,
    compress,
    csrf,
    db,
    limiter,
    login_manager,
)
from core.i18n import bp as i18n_bp
from core.i18n import select_locale
from core.logs import configure_logging
from core.mail import cli as mail_cli
from core.tenancy import HostCache
from core.themes import bp as theme_bp
from ingest import api as ingest_api
from ingest.cli import cli as ingest_cli
from ingest.listings.apikeys import cli as apikeys_cli
from ingest.listings.console import bp as listings_console_bp
from ingest.reference.cli import cli as geo_cli
from ingest.reference.tiles import bp as basemap_bp
from sites import audience
from sites.campaigns import views as campaigns
from sites.cli import cli as site_cli
from sites.console import bp as territory_console_bp
from sites.leads.account import bp as leads_account_bp
from sites.leads.console import bp as leads_console_bp
from sites.listings.cells_api import blp as cells_blp
from sites.listings.favourites import bp as favourites_bp
from sites.listings.views import bp as listings_site_bp
from sites.portal.api import bp as portal_api_bp
from sites.portal.views import bp as portal_bp
from sites.project.views import bp as project_bp
from sites.search.api import register as register_search_api
from sites.search.views import bp as search_bp
from sites.views import bp as site_bp
from tenants import entitlements
from tenants.cli import cli as tenants_cli
from tenants.console import bp as platform_bp
from workers.cli import cron_command, worker_command

BLUEPRINTS = (
    site_bp,
    theme_bp,
    account_bp,
    i18n_bp,
    territory_console_bp,
    leads_console_bp,
    leads_account_bp,
    listings_console_bp,
    listings_site_bp,
    favourites_bp,
    search_bp,
    platform_bp,
    billing_console_bp,
    billing_coordinator_bp,
    ingest_api.bp,
    basemap_bp,
    portal_bp,  # after the sites': a territory's host matches its own `/` first
    portal_api_bp,
    project_bp,
    campaigns.bp,
    campaigns.console,
)
COMMANDS = (
    migrations_cli,
    tenants_cli,
    site_cli,
    billing_cli,
    mail_cli,
    users_cli,
    geo_cli,
    ingest_cli,
    apikeys_cli,
    worker_command,
    cron_command,
)


def create_app(test_config: dict | None = None) -> Flask:
    """Build an application; `test_config` overrides settings (tests, benchmarks)."""
    app = web.Platform(
        "vivrau",
        root_path=str(ROOT / "core"),
        static_folder=str(ROOT / "core" / "static"),
        template_folder="templates",
    )
    settings = Config.from_env()
    overrides = dict(test_config or {})
    for name in [f.name for f in fields(Config)]:
        if name in overrides:  # a Config field: derived settings follow it
            setattr(settings, name, overrides.pop(name))
    config = settings.to_flask()
    config.update(overrides)
    app.config.update(config)
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    db.init_app(app)
    with app.app_context():
        install_fork_guard(db.engine)
    app.extensions["host_cache"] = HostCache(app.config["TENANT_CACHE_SECONDS"])
    entitlements.register(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    compress.init_app(app)
    app.after_request(buffer_small_files)  # runs before compression (reverse order)
    limiter.init_app(app)
    login_manager.init_app(app)

    web.register(app)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Outermost, so that host normalisation and everything after see the client's request.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    audience.register(app)
    # After web.register: its error pages stay, and /api/v1 answers problem+json.
    api = make_api(app, ingest_api.TITLE, ingest_api.DESCRIPTION)
    ingest_api.register(api)
    api.register_blueprint(cells_blp)
    register_search_api(api)
    web.map_portal(app)  # last: a copy of the rules the portal's host serves

    for command in COMMANDS:
        app.cli.add_command(said_in_one_line(command))
    return app


application.loading.finished()
