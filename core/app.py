"""The application factory: configuration, extensions, blueprints and CLI groups."""

from __future__ import annotations

from flask import Flask

from core import web
from core.config import ROOT, Config
from core.db import install_fork_guard
from core.extensions import db, migrate
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
    config = Config.from_env().to_flask()
    if test_config:
        overrides = dict(test_config)
        if "DATABASE_URL" in overrides:
            overrides.setdefault(
                "SQLALCHEMY_DATABASE_URI",
                Config(DATABASE_URL=overrides["DATABASE_URL"]).to_flask()[
                    "SQLALCHEMY_DATABASE_URI"
                ],
            )
        config.update(overrides)
    app.config.update(config)
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    db.init_app(app)
    with app.app_context():
        install_fork_guard(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations" / "public"))
    app.extensions["host_cache"] = HostCache(app.config["TENANT_CACHE_SECONDS"])

    from sites.views import bp as site_bp
    from tenants.console import bp as console_bp

    web.register(app)
    app.register_blueprint(site_bp)
    app.register_blueprint(console_bp)

    from core.mail import cli as mail_cli
    from tenants.cli import cli as tenants_cli
    from workers.cli import cron_command, worker_command

    app.cli.add_command(tenants_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(cron_command)
    return app
