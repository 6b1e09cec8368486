"""A Redis server of a test's own, which the test stops, hangs and restarts on the same port, and
an application pointed at it: what the product does while Redis is away."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue

from application import create_app
from core.extensions import db, limiter, redis_connection
from core.tenancy import tenant_scope
from tests.support import InProcessWorker, free_port, settings_for_tests


class PrivateRedis:
    """`redis-server` on a free port, saving nothing by itself: `SAVE` writes its data into
    `directory`, read again when it restarts."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.reader: threading.Thread | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:  # it says when it listens: no polling
            if "Ready to accept connections" in line:
                break
        else:
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        # Keep reading what it logs, so that a full pipe never blocks it.
        self.reader = threading.Thread(target=self.process.stdout.read, daemon=True)
        self.reader.start()

    def stop(self) -> None:
        """Killed: connections are refused at once."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.reader.join()
            self.process.stdout.close()
            self.process = None

    def hang(self) -> None:
        """Stopped, not killed: the kernel still accepts connections, nothing ever answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def private_redis(directory: Path):
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()  # a hung server must run again to die cleanly
        server.stop()


@contextmanager
def other_app(suite_app: Flask, tmp_path_factory, **settings):
    """An application of the test's own: the suite's settings, changed by `settings`."""
    app = create_app(settings_for_tests(tmp_path_factory, **settings))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if "redis" in app.extensions:  # its pooled sockets, else they outlive the server
            app.extensions["redis"].close()
        # Flask-Limiter keeps one storage per process: give the suite's application its own back.
        limiter.init_app(suite_app)


@contextmanager
def app_on(server: PrivateRedis, suite_app: Flask, tmp_path_factory, **settings):
    """An application whose Redis (queues, rate limits, search cache) is `server`'s."""
    with other_app(suite_app, tmp_path_factory, REDIS_URL=server.url, **settings) as app:
        yield app


@pytest.fixture
def server(tmp_path):
    """A private Redis the test may stop, pause and start again."""
    with private_redis(tmp_path) as started:
        yield started


@pytest.fixture
def town(app, cantal, make_tenant):
    """A commune territory of the Cantal."""
    return make_tenant()


def queued_ids(server: PrivateRedis, queue: str = "low") -> list[str]:
    """The ids of the jobs waiting in a queue of the private server."""
    shared = Redis.from_url(server.url)
    try:
        return Queue(queue, connection=shared).job_ids
    finally:
        shared.close()


def run_queued_jobs(app: Flask) -> None:
    """The queue's jobs run here, as a worker runs them."""
    with app.app_context(), tenant_scope(None):
        connection = redis_connection()
        worker = InProcessWorker([Queue("low", connection=connection)], connection=connection)
        worker.work(burst=True)
