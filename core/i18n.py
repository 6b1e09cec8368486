"""French and English: locale selection, formatting helpers, the language switch."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import numbers
from flask import Blueprint, current_app, g, has_request_context, redirect, request
from flask_babel import format_currency, get_locale, refresh
from flask_login import current_user

from core.redirects import safe_next
from core.tenancy import current_tenant

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LANG_COOKIE = "lang"


def select_locale() -> str:
    """A visitor's explicit choice first (their account's setting, then the language cookie),
    then the languages their browser asks for that we support (API clients say theirs the same
    way), then the territory's default, then French."""
    forced = g.get("locale") if g else None
    if forced in LOCALES:
        return forced
    if not has_request_context():
        return DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie
    browser = request.accept_languages.best_match(LOCALES)
    if browser is not None:
        return browser
    tenant = current_tenant()
    if tenant is not None and tenant.locale in LOCALES:
        return tenant.locale
    return DEFAULT_LOCALE


def money(cents: int, currency: str = "EUR", locale: str | None = None) -> str:
    """Integer cents shown per locale (the reader's unless `locale` is given; invoices and
    their mails are French): `1 100,00 €` in French, `€1,100.00` in English."""
    amount = (Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if locale is not None:
        return numbers.format_currency(amount, currency, locale=locale)
    return format_currency(amount, currency)


def english(locale=None) -> bool:
    """Whether to speak English: the given locale, else the reader's; French otherwise (the
    default), including when no request or job chose one."""
    if locale is None:
        try:
            locale = get_locale()
        except (RuntimeError, AttributeError):  # no application context
            locale = None
    return str(locale or DEFAULT_LOCALE).startswith("en")


def pick(french: str, english_text: str, locale=None) -> str:
    """The French or the English text of a catalogue entry, for the locale (see `english`)."""
    return english_text if english(locale) else french


def other_locales() -> list[str]:
    current = str(get_locale())
    return [code for code in LOCALES if code != current]


bp = Blueprint("i18n", __name__)


@bp.before_app_request
def choose_locale_afresh():
    """Each request chooses its language: flask-babel keeps its choice in `g`, which a request
    shares with an application context pushed around it (a shell, a test)."""
    refresh()


@bp.post("/langue")
def switch_language():
    """The language switch on every page: a cookie, and the person's setting when logged in."""
    code = request.form.get("lang", "")
    response = redirect(safe_next("/"), 303)
    if code in LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code
    return response


@bp.app_context_processor
def locale_helpers():
    return {"current_locale": str(get_locale()), "other_locales": other_locales, "money": money}
