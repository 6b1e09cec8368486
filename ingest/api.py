"""What ingest adds to `/api/v1`: the criteria catalogue, the listings endpoints and their
documentation page (rendered on the server: no script, no CDN)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from core.api import current_spec
from core.extensions import csrf
from core.security import csp_nonce
from ingest.listings.api import photos  # noqa: F401 - its routes join the listings' blueprint
from ingest.listings.api.docs import page
from ingest.listings.api.openapi import register_components
from ingest.listings.api.views import blp
from ingest.reference.criteria import CRITERIA, METHODS

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(bp)  # API clients authenticate with keys, never with cookies
TITLE = "VivrauBassindeVie — API des annonces"
DESCRIPTION = (
    "Les annonces d'un territoire (immobilier, emploi, commerces, loisirs, lieux) "
    "sur l'hôte de ce territoire. Authentification : `Authorization: Bearer <clé>`. "
    "Erreurs au format RFC 7807 (application/problem+json). "
    "Documentation lisible : /api/v1/docs."
)


def register(api) -> None:
    """The listings endpoints and their schemas, on the application's API."""
    api.document(register_components)
    api.register_blueprint(blp)


@bp.get("/criteria")
def criteria():
    """The catalogue of cell criteria, labelled in French and English."""
    response = jsonify(
        {"criteria": [c.as_json() for c in CRITERIA], "methods": METHODS, "count": len(CRITERIA)}
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/docs")
def docs():
    """The API's documentation, rendered from its OpenAPI document (no script, no CDN)."""
    return render_template("api/docs.html", csp_nonce=csp_nonce, **page(current_spec()))
