"""The app the benchmarks serve: the real one, plus routes doing the same work by a simpler path."""

from flask import jsonify
from sqlalchemy import select, text

from application import create_app
from core.extensions import db
from core.tenancy import quote
from core.web import skip_resolution
from sites.models import Page

app = create_app()


@app.get("/_bench/territory")
def territory_read():
    """A territory transaction as every territory page opens one: the host resolved, the
    session bound (so `SET LOCAL search_path` is paid), one read of a territory table."""
    db.session.execute(select(Page.id).limit(1)).all()
    return jsonify(status="ok")


@app.get("/_bench/plain/<slug>")
@skip_resolution
def plain_read(slug: str):
    """The same read and body without resolution or binding: the schema named in the query."""
    table = f"{quote('t_' + slug)}.pages"
    db.session.execute(text(f"SELECT id FROM {table} LIMIT 1")).all()  # noqa: S608 - slug from the bench
    return jsonify(status="ok")
