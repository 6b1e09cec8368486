"""The `/api/v1` bridge on a territory's host; for now its public reference: the criteria."""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.extensions import csrf
from ingest.reference.criteria import CRITERIA, METHODS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # API clients authenticate with keys, never with cookies


@bp.get("/criteria")
def criteria():
    """The catalogue of cell criteria, labelled in French and English."""
    response = jsonify(
        {"criteria": [c.as_json() for c in CRITERIA], "methods": METHODS, "count": len(CRITERIA)}
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
