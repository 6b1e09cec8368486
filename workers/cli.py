"""`flask worker` and `flask cron`: the background processes, started inside the application."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError

from core.extensions import db, redis_connection
from core.jobs import QUEUES, get_queue

log = logging.getLogger("vivrau.workers")


@click.command("worker")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(QUEUES),
    help="Queue to listen to, by priority (default: all).",
)
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@with_appcontext
def worker_command(queues, burst):
    """Run a worker: each job runs in a forked process with its territory re-bound."""
    from rq import Worker  # noqa: PLC0415 - heavy: imported when a worker starts

    db.engine.dispose()  # no connection is shared with the forked job processes
    worker = Worker([get_queue(q) for q in (queues or QUEUES)], connection=redis_connection())
    if not worker.work(burst=burst, with_scheduler=True):
        click.echo("no job to run")


@click.command("cron")
@with_appcontext
def cron_command():
    """Run the cron scheduler (one per deployment is enough; more are harmless). While Redis is
    away it waits and starts again, so that the sweeps resume without a restart."""
    from rq.cron import CronScheduler  # noqa: PLC0415 - heavy (croniter): when cron starts

    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("workers.schedule")
    while True:
        try:
            scheduler.start()
        except RedisError as error:
            pause = current_app.config["REDIS_RETRY_SECONDS"]
            log.warning("cron: Redis does not answer, starting again in %s s: %s", pause, error)
            time.sleep(pause)
        else:
            return  # asked to stop (SIGTERM, Ctrl-C)
