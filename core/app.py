"""The application factory: configuration, extensions, blueprints and CLI groups."""

from __future__ import annotations

from dataclasses import fields

from flask import Flask

from core import web
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
    migrate,
)
from core.i18n import select_locale
from core.logs import configure_logging
from core.tenancy import HostCache


def create_app(test_config: dict | None = None) -> Flask:
    """Build an application; `test_config` overrides settings (tests, benchmarks)."""
    app = Flask(
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
    migrate.init_app(app, db, directory=str(ROOT / "migrations" / "public"))
    app.extensions["host_cache"] = HostCache(app.config["TENANT_CACHE_SECONDS"])
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    compress.init_app(app)
    app.after_request(buffer_small_files)  # runs before compression (reverse order)
    limiter.init_app(app)
    login_manager.init_app(app)
    import core.auth.login  # noqa: F401 - registers the account loader
    import migrations.models  # noqa: F401 - every model known (people's data, metadata)
    from billing.console import bp as billing_console_bp
    from billing.console import coordinator_bp as billing_coordinator_bp
    from core.auth.views import bp as account_bp
    from core.i18n import bp as i18n_bp
    from core.themes import bp as theme_bp
    from ingest.api import bp as api_bp
    from ingest.listings.console import bp as listings_console_bp
    from ingest.listings.site import bp as listings_site_bp
    from sites.console import bp as territory_console_bp
    from sites.favourites import bp as favourites_bp
    from sites.leads.account import bp as leads_account_bp
    from sites.leads.console import bp as leads_console_bp
    from sites.search.views import bp as search_bp
    from sites.views import bp as site_bp
    from tenants.console import bp as platform_bp

    web.register(app)
    for blueprint in (
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
        api_bp,
    ):
        app.register_blueprint(blueprint)
    from ingest.api import init_api

    api = init_api(app)  # after web.register: its error pages stay, /api/v1 answers problem+json
    from sites.search.api import register as register_search_api

    register_search_api(api)

    from billing.cli import cli as billing_cli
    from core.auth.cli import cli as users_cli
    from core.mail import cli as mail_cli
    from ingest.cli import cli as ingest_cli
    from ingest.listings.apikeys import cli as apikeys_cli
    from ingest.reference.cli import cli as geo_cli
    from tenants.cli import cli as tenants_cli
    from workers.cli import cron_command, worker_command

    app.cli.add_command(tenants_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(geo_cli)
    app.cli.add_command(ingest_cli)
    app.cli.add_command(apikeys_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(cron_command)
    return app
