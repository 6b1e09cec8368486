"""The `/api/v1` bridge on a territory's host: criteria, listings (flask-smorest), OpenAPI, docs."""

from __future__ import annotations

import http
from decimal import Decimal

import marshmallow as ma
from flask import Blueprint, current_app, jsonify, render_template
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from core.extensions import csrf
from core.security import csp_nonce
from ingest import problems
from ingest.reference.criteria import CRITERIA, METHODS

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(bp)  # API clients authenticate with keys, never with cookies
API_VERSION = "1.0.0"


class BridgeApi(Api):
    """flask-smorest, with RFC 7807 problems for errors (documented and served)."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_error_handlers(self):
        problems.install(self._app)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = problems.PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def _plain_numbers(converter, field, ret=None, **kwargs) -> dict:
    """Decimal bounds and declared examples as JSON numbers/booleans, as clients must send them
    (apispec keeps bounds as Decimal, served as strings; declared examples are text)."""
    out = {
        name: int(value) if value == value.to_integral_value() else float(value)
        for name, value in (ret or {}).items()
        if isinstance(value, Decimal)
    }
    example = (ret or {}).get("example")
    if isinstance(example, str):
        if isinstance(field, ma.fields.Integer):
            out["example"] = int(example)
        elif isinstance(field, ma.fields.Number):
            number = Decimal(example)
            out["example"] = int(number) if number == number.to_integral_value() else float(number)
        elif isinstance(field, ma.fields.Boolean):
            out["example"] = example.lower() in ("true", "oui", "1")
    return out


def init_api(app) -> BridgeApi:
    """Mount the listings API, its OpenAPI document (/api/v1/openapi.json) and error handling."""
    from ingest.listings.api import blp, register_components

    app.config.setdefault("OPENAPI_URL_PREFIX", problems.API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = BridgeApi(
        spec_kwargs={
            "title": "VivrauBassindeVie — API des annonces",
            "version": API_VERSION,
            "openapi_version": "3.0.3",
            "info": {
                "description": (
                    "Les annonces d'un territoire (immobilier, emploi, commerces, loisirs, lieux) "
                    "sur l'hôte de ce territoire. Authentification : `Authorization: Bearer <clé>`."
                    " "
                    "Erreurs au format RFC 7807 (application/problem+json). "
                    "Documentation lisible : /api/v1/docs."
                )
            },
            "security": [{"bearer": []}],
        }
    )
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_plain_numbers)
    api.spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A territory's API key (vvk_…), scopes listings:read / listings:write",
        },
    )
    if "Problem" not in api.spec.components.schemas:  # the error responses may have added it
        api.spec.components.schema("Problem", schema=problems.ProblemSchema)
    register_components(api.spec)
    api.register_blueprint(blp)
    from ingest.listings.cells_api import blp as cells_blp

    api.register_blueprint(cells_blp)
    return api


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
    from ingest.listings.docs import page

    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", csp_nonce=csp_nonce, **page(spec))
