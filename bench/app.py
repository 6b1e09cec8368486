"""The app the benchmarks serve: the real one, plus routes doing the same work by a simpler path."""

import os
from functools import cache
from pathlib import Path

from flask import current_app, jsonify
from sqlalchemy import text

from application import create_app
from core.extensions import csrf, db
from core.tenancy import quote
from core.web import skip_resolution
from tenants import entitlements
from tenants.entitlements import Feature

app = create_app()


@app.get("/_bench/territory")
def territory_read():
    """A territory transaction as every territory page opens one: the host resolved, the
    session bound (so `SET LOCAL search_path` is paid), one read of a territory table, found
    through that search_path (the same statement as the baseline's but for the schema)."""
    db.session.execute(text("SELECT id FROM pages LIMIT 1")).all()
    return jsonify(status="ok")


@app.get("/_bench/plain/<slug>")
@skip_resolution
def plain_read(slug: str):
    """The same read and body without resolution or binding: the schema named in the query."""
    table = f"{quote('t_' + slug)}.pages"
    db.session.execute(text(f"SELECT id FROM {table} LIMIT 1")).all()  # noqa: S608 - slug from the bench
    return jsonify(status="ok")


@app.get("/_bench/entitled")
def entitled_body():
    """A /healthz-like body on a territory's host, after the entitlement check every gated page
    makes (the dedicated site, option 2)."""
    entitlements.require(Feature.site)
    return jsonify(status="ok")


@app.get("/_bench/unchecked")
def unchecked_body():
    """The same body on the same host, resolved and bound alike, without the check."""
    return jsonify(status="ok")


@cache
def _search_answer(name: str) -> bytes:
    # Read when first asked, not at import: bench/search.py saves the answers once the server runs.
    return (Path(os.environ["BENCH_SEARCH_ANSWERS"]) / f"{name}.json").read_bytes()


@app.post("/_bench/search-answer/<any(compact, full):name>")
@csrf.exempt  # posted JSON, like the search (whose blueprint is exempt)
def search_answer(name: str):
    """The search's stack answering a fixed body: the host resolved and the territory bound, the
    search's own answer in that format (serialised beforehand) sent as the search sends it, and
    compressed alike; the rate limit, parsing, scoring and serialisation left out."""
    response = current_app.response_class(_search_answer(name), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
