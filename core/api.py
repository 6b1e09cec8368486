"""The `/api/v1` bridge every feature's endpoints share: the flask-smorest API object with RFC 7807
problems for errors, its OpenAPI document, and JSON answers in the documented field order."""

from __future__ import annotations

import http
import json
from datetime import date
from decimal import Decimal

import marshmallow as ma
from flask import current_app
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from core import problems

API_VERSION = "1.0.0"


class BridgeApi(Api):
    """flask-smorest, with RFC 7807 problems for errors (documented and served), whose OpenAPI
    document is written when first read: the routes are mounted at once, but describing them
    was a tenth of the start of every `flask` command and worker, which never read it."""

    ERROR_SCHEMA = problems.ProblemSchema

    def __init__(self, *args, **kwargs):
        self._undocumented: list = []
        self._documenting = False
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        """The document, with everything asked of it so far written in, in the order asked."""
        spec = self.__dict__["_spec"]
        if self._undocumented and not self._documenting:
            self._documenting = True  # what the writing reads of the document is not flushed
            try:
                while self._undocumented:
                    self._undocumented.pop(0)(spec)
            finally:
                self._documenting = False
        return spec

    @spec.setter
    def spec(self, value) -> None:
        self.__dict__["_spec"] = value

    def document(self, write) -> None:
        """Have `write(spec)` run on the document before it is first read."""
        self._undocumented.append(write)

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Mount the blueprint now, describe its views in the document when it is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

        def describe(spec) -> None:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

        self.document(describe)

    def _register_error_handlers(self):
        problems.install(self._app)

    def _register_responses(self):
        self.document(self._describe_responses)

    def _describe_responses(self, spec) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = problems.PROBLEM_JSON
            prepare_response(response, spec, content_type)
            spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, spec, problems.PROBLEM_JSON)
        spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


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


def make_api(app, title: str, description: str) -> BridgeApi:
    """Mount the API on `app`: its OpenAPI document (/api/v1/openapi.json), bearer keys and
    problem+json errors; features then register their blueprints on it."""
    app.config.setdefault("OPENAPI_URL_PREFIX", problems.API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = BridgeApi(
        spec_kwargs={
            "title": title,
            "version": API_VERSION,
            "openapi_version": "3.0.3",
            "info": {"description": description},
            "security": [{"bearer": []}],
        }
    )
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_plain_numbers)
    api.document(_describe_security)
    return api


def _describe_security(spec) -> None:
    spec.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A territory's API key (vvk_…), scopes listings:read / listings:write",
        },
    )
    if "Problem" not in spec.components.schemas:  # the error responses may have added it
        spec.components.schema("Problem", schema=problems.ProblemSchema)


def current_spec() -> dict:
    """The OpenAPI document of the running application, as a dict."""
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def plain(value):
    """A stored value as JSON shows it: decimals as numbers, dates in ISO form."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_response(body, status: int = 200):
    """JSON in the documented field order (Flask's provider would sort the keys)."""
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
