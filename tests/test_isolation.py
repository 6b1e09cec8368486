"""A territory never sees another's rows: requests, threads, one pooled connection, jobs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Blueprint
from sqlalchemy import select, text

from application import create_app
from core.extensions import db
from core.jobs import get_queue, job
from core.tenancy import TenantNotBound, TenantSwitchError, tenant_scope
from sites.models import Page
from tests.support import ForkingWorker, InProcessWorker, host, settings_for_tests


def add_page(app, ref, title: str) -> int:
    with app.app_context(), tenant_scope(ref):
        page = Page(slug="accueil", title=title, body=f"corps {title}")
        db.session.add(page)
        db.session.commit()
        return page.id


@pytest.fixture
def two(app, make_tenant):
    a, b = make_tenant(name="Alpha"), make_tenant(name="Bravo")
    ids = add_page(app, a, "Titre Alpha"), add_page(app, b, "Titre Bravo")
    assert ids[0] == ids[1], "both territories must hold a row with the same id"
    return a, b


@pytest.fixture
def one_connection_app(tmp_path_factory):
    """An application whose pool holds a single connection, shared by every thread."""
    application = create_app(
        settings_for_tests(
            tmp_path_factory,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 30},
        )
    )
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        db.session.execute(select(Page)).all()
        raise RuntimeError("failure inside a territory's transaction")

    application.register_blueprint(boom)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_requests_from_threads_on_one_connection_see_only_their_rows(two, one_connection_app):
    a, b = two
    client = one_connection_app.test_client()

    def fetch(i: int) -> tuple[str, str]:
        ref = (a, b)[i % 2]
        response = client.get("/pages/accueil", headers={"Host": host(ref)})
        assert response.status_code == 200
        return ref.name, response.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(fetch, range(120)))
    for name, body in results:
        own, other = ("Alpha", "Bravo") if name == "Alpha" else ("Bravo", "Alpha")
        assert f"Titre {own}" in body
        assert f"Titre {other}" not in body


def test_exception_in_a_request_leaves_no_binding_on_the_connection(two, one_connection_app):
    a, b = two
    one_connection_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = one_connection_app.test_client()
    assert client.get("/boom", headers={"Host": host(a)}).status_code == 500
    with one_connection_app.app_context():
        with db.engine.connect() as conn:  # the pool's only connection
            path = conn.execute(text("SHOW search_path")).scalar()
            assert "t_" not in path
            assert conn.get_execution_options().get("schema_translate_map") is None
        # the session is back to no territory: a tenant table cannot be reached
        with pytest.raises(TenantNotBound):
            db.session.execute(select(Page))
        db.session.rollback()
    response = client.get("/pages/accueil", headers={"Host": host(b)})
    assert "Titre Bravo" in response.get_data(as_text=True)


def test_rolled_back_transaction_resets_search_path(app, two):
    a, _ = two
    with app.app_context():
        with tenant_scope(a):
            db.session.execute(select(Page)).all()
            assert db.session.execute(text("SHOW search_path")).scalar().startswith(a.schema)
            db.session.rollback()
        assert "t_" not in db.session.execute(text("SHOW search_path")).scalar()
        db.session.rollback()


def test_tenant_table_without_binding_raises(ctx):
    with pytest.raises(TenantNotBound):
        db.session.execute(select(Page)).all()
    with pytest.raises(TenantNotBound):
        db.session.execute(select(Page.title).where(Page.id == 1)).all()
    with pytest.raises(TenantNotBound):
        db.session.add(Page(slug="x", title="x"))
        db.session.flush()
    db.session.rollback()


def test_switching_tenant_inside_a_transaction_raises(app, two):
    a, b = two
    with app.app_context():
        with tenant_scope(a):
            db.session.execute(select(Page)).all()
            with tenant_scope(b), pytest.raises(TenantSwitchError):
                db.session.execute(select(Page)).all()
            db.session.rollback()
        with tenant_scope(b):  # after the transaction ended, another territory is fine
            assert db.session.execute(select(Page.title)).scalar() == "Titre Bravo"
            db.session.rollback()


def read_titles() -> list[str]:
    return list(db.session.execute(select(Page.title)).scalars())


def test_jobs_run_in_their_own_territory(app, two, redis_conn):
    reader = job()(read_titles)
    a, b = two
    with app.app_context():
        jobs = [reader.enqueue(tenant=(a, b)[i % 2].slug) for i in range(10)]
        platform_job = reader.enqueue(tenant=None)
        queues = [jobs[0].origin]

        # a forking worker, as in production, then an in-process one: both re-bind per job
        ForkingWorker([get_queue(q) for q in queues], connection=redis_conn).work(burst=True)
        for i, j in enumerate(jobs):
            j.refresh()
            expected = ["Titre Alpha"] if i % 2 == 0 else ["Titre Bravo"]
            assert j.return_value() == expected, j.latest_result().exc_string
        platform_job.refresh()
        assert platform_job.is_failed
        assert "TenantNotBound" in platform_job.latest_result().exc_string
        more = [reader.enqueue(tenant=(b, a)[i % 2].slug) for i in range(6)]
        InProcessWorker([get_queue(q) for q in queues], connection=redis_conn).work(burst=True)
        for i, j in enumerate(more):
            j.refresh()
            assert j.return_value() == (["Titre Bravo"] if i % 2 == 0 else ["Titre Alpha"])
