"""Who may call the listings API: the body's size, the API key, its rate limit, its scope."""

from __future__ import annotations

import math
import time
from functools import cache

from flask import current_app, g, request
from flask_babel import gettext as _
from limits import parse as parse_limit

from core.extensions import limiter
from core.problems import ApiProblem
from core.tenancy import require_tenant
from ingest.listings.apikeys import authenticate

READ, WRITE = "listings:read", "listings:write"


def guard() -> None:
    """Refuse early: oversized body (before reading it), no valid key, too many requests, scope."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and (request.content_length or 0) > limit:
        raise ApiProblem(413, _("The body is larger than %(size)s MB.", size=limit // 2**20))
    header = request.headers.get("Authorization")
    key = authenticate(header)
    if key is None:
        challenge = 'Bearer realm="api"' + (', error="invalid_token"' if header else "")
        detail = (
            _("This API key is unknown or revoked.")
            if header
            else _("Send an API key: Authorization: Bearer <key>.")
        )
        raise ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})
    _rate_limit(key)
    needed = READ if request.method in ("GET", "HEAD", "OPTIONS") else WRITE
    if needed not in key.scopes:
        raise ApiProblem(403, _("This key lacks the %(scope)s scope.", scope=needed))
    g.api_key = key


@cache
def _parsed_limit(value: str):
    return parse_limit(value)


def _rate_limit(key) -> None:
    """Per key and territory (`API_RATE_LIMIT`): 429 with Retry-After once it is spent."""
    item = _parsed_limit(current_app.config["API_RATE_LIMIT"])
    ids = ("vivrau-api", require_tenant().slug, str(key.id))
    if not limiter.limiter.hit(item, *ids):
        reset, _remaining = limiter.limiter.get_window_stats(item, *ids)
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiProblem(
            429,
            _("Too many requests with this key: try again in %(seconds)s s.", seconds=retry),
            headers={"Retry-After": str(retry)},
        )
