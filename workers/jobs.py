"""Territory-aware jobs: the territory travels with the job and is re-bound before it runs.

@job()
def import_file(upload_id: int): ...

import_file.enqueue(upload_id, tenant="demo", job_id=f"import-{upload_id}")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import update_wrapper

from flask import current_app, g, has_app_context
from redis import Redis
from rq import Queue
from rq.job import Job

from core.extensions import db
from core.tenancy import current_tenant, tenant_scope

QUEUES = ("high", "default", "low")


def redis_connection() -> Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("redis")
    if conn is None:
        conn = app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])
    return conn


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}: one of {', '.join(QUEUES)}")
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


def job(queue: str = "default", timeout: int | None = None):
    """Declare a function as a job; it keeps working as a plain function too."""

    def decorate(func: Callable) -> TenantJob:
        return TenantJob(func, queue, timeout)

    return decorate


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target.func if isinstance(target, TenantJob) else target


def _app():
    if has_app_context():
        return current_app._get_current_object()
    from core.app import create_app

    global _worker_app
    if _worker_app is None:
        _worker_app = create_app()
    return _worker_app


_worker_app = None


def run(path: str, tenant_slug: str | None, locale: str | None, args, kwargs):
    """What the worker executes: re-bind the territory, run, commit or roll back, clean up."""
    from tenants.registry import get_by_slug

    func = _resolve(path)
    app = _app()
    with app.app_context():
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
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
