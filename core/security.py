"""Security headers on every response: CSP with per-request nonces, framing, sniffing, referrer,
and HSTS on HTTPS."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, g, request

#: A year; no `includeSubDomains`: a territory's own domain may have subdomains we do not serve.
HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """The nonce of this response; inline <script>/<style> must carry it to run."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def basemap_origin() -> str:
    """The origin of an outside base map's tiles (BASEMAP_URL), "" when the platform's own
    serve; a `{s}` subdomain becomes a wildcard."""
    url = current_app.config.get("BASEMAP_URL") or ""
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "a"))
    return f" {parts.scheme}://{parts.netloc}".replace("://a.", "://*.")


def apply_headers(response):
    nonce = csp_nonce()
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        f"img-src 'self' data:{basemap_origin()}; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), payment=()")
    # Secure as the client sees it: behind a trusted proxy, X-Forwarded-Proto says (ProxyFix).
    # Never on plain http: a browser ignores it there, and it would be a lie.
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
