"""The two billing blueprints: the platform console's and the coordinators' (read-only)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

#: billing/templates: the pages' templates (billing/console/…) beside the invoice's own.
TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

bp = Blueprint(
    "billing_console", __name__, url_prefix="/plateforme/facturation", template_folder=TEMPLATES
)
coordinator_bp = Blueprint(
    "billing_coordinator", __name__, url_prefix="/console/facturation", template_folder=TEMPLATES
)
