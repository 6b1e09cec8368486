"""Territory-aware background jobs: the territory travels with the job and is re-bound before it
runs; a worker process provides the application (`flask worker`, or `workers.process`).

@job()
def import_file(upload_id: int): ...

import_file.enqueue(upload_id, tenant="demo", job_id=f"import-{upload_id}")
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection
from functools import update_wrapper
from typing import TYPE_CHECKING

from flask import current_app, g, has_app_context
from redis.exceptions import RedisError

from core.commit import commit_point, rollback_point
from core.extensions import db, redis_connection, redis_watch
from core.registry import get_by_slug, territories
from core.tenancy import TenantRef, current_tenant, tenant_scope

if TYPE_CHECKING:
    from rq import Queue
    from rq.job import Job

QUEUES = ("high", "default", "low")
log = logging.getLogger("vivrau.jobs")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}: one of {', '.join(QUEUES)}")
    from rq import Queue  # noqa: PLC0415 - heavy: imported when work is queued, not at start-up

    return Queue(name, connection=redis_connection())


class TenantJob:
    """A function run by a worker, with its territory (or none) and locale restored."""

    def __init__(self, func: Callable, queue: str, timeout: int | None):
        self.func, self.queue, self.timeout = func, queue, timeout
        self.path = f"{func.__module__}:{func.__qualname__}"
        update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def enqueue(
        self,
        *args,
        tenant: str | None = ...,
        locale: str | None = None,
        job_id: str | None = None,
        **kwargs,
    ) -> Job:
        """Queue a run. `tenant` defaults to the bound territory; pass None for platform work."""
        if tenant is ...:
            bound = current_tenant()
            tenant = bound.slug if bound is not None else None
        return get_queue(self.queue).enqueue(
            run,
            self.path,
            tenant,
            locale,
            args,
            kwargs,
            job_id=job_id,
            job_timeout=self.timeout,
            meta={"tenant": tenant, "locale": locale},
            description=f"{self.path} [{tenant or 'platform'}]",
        )

    def try_enqueue(self, *args, **kwargs) -> Job | None:
        """`enqueue`, for work that a sweep also finds (the outbox's, the erasures'…): while
        Redis is away, a warning and None instead of an error for the caller."""
        watch = redis_watch()
        if not watch.available():
            log.warning("%s not queued, Redis is away: its sweep will run it", self.path)
            return None
        try:
            queued = self.enqueue(*args, **kwargs)
        except RedisError as error:
            watch.failed(f"queueing {self.path}", error)
            log.warning("%s not queued: its sweep will run it", self.path)
            return None
        watch.answered()
        return queued


def job(queue: str = "default", timeout: int | None = None):
    """Declare a function as a job; it keeps working as a plain function too."""

    def decorate(func: Callable) -> TenantJob:
        return TenantJob(func, queue, timeout)

    return decorate


def resolve(path: str) -> Callable:
    """The function a job path (`package.module:function`) names."""
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target.func if isinstance(target, TenantJob) else target


def run(path: str, tenant_slug: str | None, locale: str | None, args, kwargs):
    """What the worker executes: re-bind the territory, run, commit or roll back, clean up."""
    if not has_app_context():
        raise RuntimeError(
            "a job runs inside the application: start workers with `flask worker` "
            "or `rq worker --worker-class workers.process.AppWorker`"
        )
    func = resolve(path)
    with current_app.app_context():
        ref = None
        if tenant_slug is not None:
            tenant = get_by_slug(db.session, tenant_slug)
            if tenant is None:
                raise LookupError(f"territory {tenant_slug!r} no longer exists")
            ref = tenant.ref()
            db.session.rollback()  # the registry read must not hold the transaction
        g.locale = locale or (ref.locale if ref else "fr")
        with tenant_scope(ref):
            try:
                result = func(*args, **kwargs)
                commit_point()
                return result
            except BaseException:
                rollback_point()
                raise
            finally:
                db.session.remove()


def for_each_territory(
    work: Callable[[TenantRef], object], what: str, only: Collection[int] | None = None
) -> dict[str, object]:
    """Run `work(territory)` bound to every territory (or those whose ids are `only`), one
    transaction each: a territory that fails is logged and does not stop the others; the run
    then fails naming them.

    Returns each territory's result by slug (the daily jobs' one loop over territories).
    """
    refs = territories(db.session)
    if only is not None:
        refs = [ref for ref in refs if ref.id in only]
    db.session.rollback()
    results, failed = {}, []
    for ref in refs:
        with tenant_scope(ref):
            try:
                results[ref.slug] = work(ref)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("%s failed for %s", what, ref.slug)
                failed.append(ref.slug)
    if failed:
        raise RuntimeError(f"{what} failed for {', '.join(failed)}")
    return results
