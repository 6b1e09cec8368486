"""The worker process of a bare `rq worker --worker-class workers.process.AppWorker`: it builds
the application once and runs every job inside its context (`flask worker` does the same from
the `flask` command). Nothing imports this module."""

from __future__ import annotations

from rq import Worker

from application import create_app
from core.extensions import db


class AppWorker(Worker):
    """An RQ worker whose jobs (forked from it) run inside the application's context."""

    def work(self, *args, **kwargs):
        app = create_app()
        with app.app_context():
            db.engine.dispose()  # no connection is shared with the forked job processes
            return super().work(*args, **kwargs)
