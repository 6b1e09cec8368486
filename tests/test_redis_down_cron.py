"""`flask cron` while Redis is away: it waits and starts again by itself, so that the sweeps
(the outbox's every minute, the erasures', the invoice documents') resume without a restart."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time

import pytest
from redis import Redis
from rq import Queue

from core.config import ROOT
from tests.private_redis import private_redis
from tests.support import TEST_DATABASE_URL


@pytest.fixture
def server(tmp_path):
    with private_redis(tmp_path) as started:
        yield started


def read_until(process: subprocess.Popen, text: str, seconds: float = 30) -> str:
    """What the process logs, up to the first line holding `text` (failing after `seconds`)."""
    seen = b""
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while text.encode() not in seen:
            left = deadline - time.monotonic()
            assert left > 0 and selector.select(left), f"no {text!r} in:\n{seen.decode()[-3000:]}"
            chunk = os.read(process.stderr.fileno(), 65536)
            assert chunk, f"the process ended:\n{seen.decode()[-3000:]}"
            seen += chunk
    return seen.decode()


def test_the_cron_waits_for_redis_then_runs_the_sweeps(app, server, tmp_path):
    server.stop()
    env = dict(
        os.environ,
        FLASK_APP="wsgi",
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=server.url,
        REDIS_RETRY_SECONDS="0.1",
        SECRET_KEY="test-secret",
        STORAGE_URL=f"file://{tmp_path}",
        LOG_FORMAT="text",
        LOG_LEVEL="DEBUG",
    )
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "cron"], env=env, stderr=subprocess.PIPE, cwd=ROOT
    )
    try:
        # Two attempts: it did not die at the first.
        read_until(process, "starting again")
        read_until(process, "starting again")
        server.start()
        read_until(process, "Sleeping for")  # started, due jobs queued, heartbeat sent
        shared = Redis.from_url(server.url)
        try:
            queued = Queue("default", connection=shared).get_jobs()
            assert "core.mail:deliver_outbox" in [job.args[0] for job in queued]
        finally:
            shared.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()
    assert process.returncode == 0
