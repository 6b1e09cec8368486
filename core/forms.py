"""The form every page with a one-button action shares: nothing but its CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """CSRF only: publish, revoke, delete, accept an invitation, save sharing choices…"""
