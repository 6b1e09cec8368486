"""The listings endpoints of /api/v1 (guard, representation, OpenAPI fragments, views, docs
page), and the address of a listing's public page that every endpoint gives."""

from __future__ import annotations

from urllib.parse import quote

from flask import request


def page_url(kind: str, external_id: str) -> str:
    """The listing's public page on the territory's host (the request's host)."""
    return f"{request.host_url}annonces/{kind}/{quote(external_id, safe='')}"
