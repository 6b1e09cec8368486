"""RFC 7807 problem responses for every error under /api/v1 (ours, flask-smorest's, Werkzeug's)."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core.logs import request_id
from core.security import apply_headers

log = logging.getLogger("vivrau.api")
API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"

#: Problem type (the anchor on the docs page) and title, per status.
TYPES = {
    400: ("bad-request", _l("Bad request")),
    401: ("unauthorized", _l("Authentication required")),
    403: ("forbidden", _l("Forbidden")),
    404: ("not-found", _l("Not found")),
    405: ("method-not-allowed", _l("Method not allowed")),
    409: ("conflict", _l("Conflict")),
    412: ("precondition-failed", _l("Precondition failed")),
    413: ("too-large", _l("Request too large")),
    415: ("unsupported-media-type", _l("Unsupported media type")),
    422: ("validation", _l("Invalid data")),
    429: ("rate-limited", _l("Too many requests")),
    500: ("server-error", _l("Server error")),
    503: ("unavailable", _l("Service unavailable")),
}
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Send an API key: Authorization: Bearer <key>."),
    404: _l("Nothing exists at this address."),
    405: _l("This method is not allowed here."),
    413: _l("The body is larger than %(size)s MB."),
    429: _l("Too many requests with this key: try again later."),
    500: _l("Something went wrong on our side; it has been logged."),
}


class ApiProblem(Exception):
    """Raised by API views; rendered as application/problem+json."""

    def __init__(self, status: int, detail: str, *, errors=None, headers=None, type_=None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors
        self.headers, self.type = headers or {}, type_


#: Deepest nesting of arrays and objects a JSON body may have: a listing is 1 level deep, a bulk
#: request 3; past this depth a body is a probe (Python's parser would hit its recursion limit).
JSON_MAX_DEPTH = 32
#: What json.loads nests: exactly these types, never subclasses.
_NESTED = (dict, list)


def read_json(max_bytes: int | None = None):
    """The request's JSON value: 415 when not JSON, 413 past `max_bytes` or `MAX_CONTENT_LENGTH`
    (a chunked body has no Content-Length), 400 with the position when malformed or not UTF-8,
    400 when nested deeper than JSON_MAX_DEPTH."""
    if not request.is_json:
        raise ApiProblem(415, _("Send the body as application/json."))
    raw = request.get_data(cache=False)  # MAX_CONTENT_LENGTH applies to a chunked body too…
    if _cut_at_the_limit(raw):  # …but Werkzeug stops there silently instead of refusing it
        size = current_app.config["MAX_CONTENT_LENGTH"] // 2**20
        raise ApiProblem(413, DETAILS[413] % {"size": size})
    if max_bytes is not None and len(raw) > max_bytes:
        raise ApiProblem(413, _("The body is larger than %(size)s KB.", size=max_bytes // 1024))
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise ApiProblem(400, _("The body is not UTF-8 text.")) from None
    except RecursionError:  # deeper than Python's parser goes
        raise _nested_too_deeply() from None
    except json.JSONDecodeError as error:
        raise ApiProblem(
            400,
            _(
                "Malformed JSON at line %(line)s, column %(column)s: %(reason)s.",
                line=error.lineno,
                column=error.colno,
                reason=error.msg,
            ),
        ) from None
    if _too_deep(value):
        raise _nested_too_deeply()
    return value


def _nested_too_deeply() -> ApiProblem:
    return ApiProblem(
        400, _("The JSON is nested too deeply (more than %(depth)s levels).", depth=JSON_MAX_DEPTH)
    )


def _cut_at_the_limit(raw: bytes) -> bool:
    """Whether a body without Content-Length filled MAX_CONTENT_LENGTH and more was coming."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit or request.content_length is not None or len(raw) < limit:
        return False
    # The server ends a chunked stream itself (`wsgi.input_terminated`): one byte more says.
    return bool(request.environ["wsgi.input"].read(1))


def _too_deep(value) -> bool:
    """Walked level by level without recursion, so that the check itself cannot overflow;
    only arrays and objects are visited (a search's body holds a hundred plain values)."""
    level = [value] if type(value) in _NESTED else []
    for _depth in range(JSON_MAX_DEPTH):
        below = []
        for node in level:
            children = node.values() if type(node) is dict else node
            below += [child for child in children if type(child) in _NESTED]
        if not below:
            return False
        level = below
    return bool(level)


class ProblemSchema(ma.Schema):
    """An error (RFC 7807), documented in the OpenAPI document."""

    type = ma.fields.String(metadata={"description": "URI of the problem type (docs page)"})
    title = ma.fields.String(metadata={"description": "Short summary, in the client's language"})
    status = ma.fields.Integer(metadata={"description": "HTTP status"})
    detail = ma.fields.String(metadata={"description": "What is wrong in this request"})
    instance = ma.fields.String(metadata={"description": "The path of the request"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Per field, the messages of the refused values"},
    )


def in_api() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def problem(status: int, detail=None, *, errors=None, headers=None, type_=None):
    """A problem+json response."""
    name, title = TYPES.get(status, (None, None))
    body = {
        "type": f"{request.host_url.rstrip('/')}{API_PREFIX}/docs#problem-{type_ or name}"
        if (type_ or name)
        else "about:blank",
        "title": str(title) if title else _phrase(status),
        "status": status,
        "detail": str(detail) if detail is not None else str(DETAILS.get(status, _phrase(status))),
        "instance": request.path,
    }
    if errors:
        body["errors"] = {field: [str(m) for m in msgs] for field, msgs in errors.items()}
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    response.headers.update(headers or {})
    return response


def from_http_exception(error: HTTPException):
    """Werkzeug's and flask-smorest's errors (webargs puts field messages in `error.data`)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten(data.get("messages")) if data.get("messages") else None
    detail = data.get("message")
    if status == 413:
        detail = DETAILS[413] % {"size": current_app.config["MAX_CONTENT_LENGTH"] // 2**20}
    elif status == 422 and detail is None:
        detail = _l("Some values are invalid: see errors.")
    elif detail is None and (
        status not in DETAILS or error.description != type(error).description
    ):  # the status's own words, unless the error says more (where a NUL was, …)
        detail = error.description
    headers = dict(data.get("headers") or {})
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return problem(status, detail, errors=errors, headers=headers)


def flatten(messages) -> dict[str, list[str]]:
    """webargs' {location: {field: [msg]}} (or any nesting) as {field: [msg]}."""
    out: dict[str, list[str]] = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(
                    sub,
                    path
                    if key in ("json", "query", "headers", "form") and not path
                    else [*path, str(key)],
                )
        elif isinstance(value, list | tuple) and all(isinstance(m, str) for m in value):
            out.setdefault(".".join(path) or "_schema", []).extend(value)
        elif isinstance(value, list | tuple):
            for i, sub in enumerate(value):
                walk(sub, [*path, str(i)])
        else:
            out.setdefault(".".join(path) or "_schema", []).append(str(value))

    walk(messages, [])
    return out


def install(app) -> None:
    """Under /api/v1, every HTTP error (and our ApiProblem) answers problem+json; elsewhere the
    handlers already registered (the HTML error pages) keep answering."""
    registered = app.error_handler_spec.setdefault(None, {})
    for code, handlers in list(registered.items()):
        for cls, handler in list(handlers.items()):
            app.register_error_handler(cls if code is None else code, _api_first(handler))
    app.register_error_handler(HTTPException, _api_first(lambda error: error))
    app.register_error_handler(
        ApiProblem,
        lambda p: problem(p.status, p.detail, errors=p.errors, headers=p.headers, type_=p.type),
    )


def _api_first(fallback):
    def handle(error):
        if in_api() and isinstance(error, HTTPException):
            try:
                return from_http_exception(error)
            except Exception:  # noqa: BLE001 - an error answer must not fail in turn
                log.exception("the problem answer could not be built; the bare one is sent")
                return bare_problem(error.code or 500)
        return fallback(error)

    return handle


def bare_problem(status: int):
    """The problem answer of last resort: no translation, no locale, no database."""
    body = {"type": "about:blank", "title": _phrase(status), "status": status}
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers["X-Request-ID"] = request_id()
    return apply_headers(response)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
