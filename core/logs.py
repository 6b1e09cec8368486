"""Structured logs: one JSON object per line, carrying the territory and the request id."""

from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from core.tenancy import current_tenant

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id() -> str:
    """This request's id: the client's `X-Request-ID` when well formed, else a fresh one."""
    if "request_id" not in g:
        rid = request.headers.get("X-Request-ID", "")
        g.request_id = rid if rid and _REQUEST_ID_RE.match(rid) else uuid.uuid4().hex
    return g.request_id


class ContextFilter(logging.Filter):
    """Adds `tenant` and `request_id` to every record, from wherever the code runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        tenant = current_tenant()
        record.tenant = tenant.slug if tenant is not None else None
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(fmt: str, level: str) -> None:
    """Install one handler on the root logger (idempotent: the last call's settings win)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_vivrau", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._vivrau = True
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(tenant)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s [%(tenant)s %(request_id)s] %(name)s: %(message)s"
            )
        )
    root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per migrated schema drowns the fan-out's summary; keep alembic's warnings only.
    if level.upper() != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
