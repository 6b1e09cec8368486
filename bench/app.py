"""The app the tenancy benchmark serves: the real one, plus a route that skips resolution."""

from flask import jsonify

from application import create_app
from core.web import skip_resolution

app = create_app()


@app.get("/_baseline")
@skip_resolution
def baseline():
    """Same body as /healthz, without territory resolution: the benchmark's reference."""
    return jsonify(status="ok")
