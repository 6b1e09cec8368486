"""Where a page may send the visitor next (`next` of a form or link): a path of this site, parsed,
or the page's default — never another site, never a header a browser would split."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit, urlunsplit

from flask import request

#: Longer is no link of ours; refused rather than echoed into a header.
MAX_LENGTH = 2000


def _suspicious(text: str) -> bool:
    """A backslash (browsers read `/\\evil.com` as `//evil.com`) or a control character
    (browsers drop tabs and newlines, so `/\\t/evil.com` becomes `//evil.com`; CR/LF would
    split the Location header)."""
    return "\\" in text or any(unicodedata.category(ch) == "Cc" for ch in text)


def local_path(value: str | None, default: str) -> str:
    """`value` when it is a path of this site (`/recherche?c=gp_km#carte`), else `default`.

    The value is parsed, not compared by prefix: no scheme, no host, one leading slash; and
    neither it nor its percent-decoded path holds a backslash, a control character or a
    leading `//`."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    if _suspicious(value) or value.startswith("//"):
        return default
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return default
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    decoded = unquote(parts.path)
    if decoded.startswith("//") or _suspicious(decoded):
        return default
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def safe_next(default: str = "/") -> str:
    """The request's `next` (query string or form) when it is a path of this site."""
    return local_path(request.values.get("next"), default)
