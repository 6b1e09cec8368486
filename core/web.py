"""Request plumbing: host normalisation, the portal's own URL map, request ids, territory
resolution, the one commit point, error pages, health."""

from __future__ import annotations

import logging
import time

import redis
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    got_request_exception,
    jsonify,
    redirect,
    render_template,
    request,
)
from markupsafe import escape
from sqlalchemy import text
from werkzeug.routing import Map, MapAdapter, Rule

from core import tenancy
from core.commit import commit_point, rollback_point
from core.extensions import db, redis_watch
from core.inputs import BoundedIntConverter, refuse_nul
from core.logs import request_id
from core.problems import problem
from core.registry import lookup_host
from core.security import apply_headers, csp_nonce

log = logging.getLogger("vivrau.web")
#: What the console host serves; every other page belongs to a territory's host.
CONSOLE_HOST_BLUEPRINTS = {"platform", "billing_console", "account", "i18n", "health", "theme"}
#: Blueprints of the platform console only: a territory's host answers 404 for them.
PLATFORM_ONLY_BLUEPRINTS = {"platform", "billing_console"}
#: What the national portal's host (`<BASE_DOMAIN>`, `www.`) serves: its own pages and API, and
#: the accounts, language, theme files and health that every host shares.
PORTAL_HOST_BLUEPRINTS = {
    "portal",
    "portal_api",
    "account",
    "i18n",
    "health",
    "theme",
    "basemap",
    "project",
    "leads_account",
}
#: Single endpoints the portal's host shares besides: static files, the search form's own.
PORTAL_HOST_ENDPOINTS = {"static", "search.static"}
#: Blueprints of the portal only: territory and console hosts answer 404 for them.
PORTAL_ONLY_BLUEPRINTS = {"portal", "portal_api"}
#: Seconds a client is asked to wait when a feature that needs Redis finds it away.
REDIS_RETRY_AFTER = 30


class HostNormalizer:
    """WSGI middleware: `Demo.Vivrau.Localhost.:8000` → `demo.vivrau.localhost:8000`.

    Runs before Flask so that TRUSTED_HOSTS, routing and resolution all see one spelling.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")
        if host:
            name, port = tenancy.split_host(host)
            environ["HTTP_HOST"] = f"{name}:{port}" if port else name
        return self.wsgi_app(environ, start_response)


class LazyBuildRule(Rule):
    """A URL rule whose URL builders are compiled when a URL is first built from it. Werkzeug
    writes and compiles Python code for two builders per rule as the rule is added: with some
    hundred rules, a third of the application's build time in every process, `flask` commands
    included, for URLs most of them never build."""

    def _compile_builder(self, append_unknown: bool = True):
        compile_builder = super()._compile_builder
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:  # two threads may both compile it: the same code either way
                compiled = compile_builder(append_unknown)
            return compiled(rule, *args, **kwargs)

        return build


def any_host(view):
    """Mark a view that answers on any trusted host, whether or not it names a territory."""
    view.any_host = True
    return view


def skip_resolution(view):
    """Mark a view that needs no territory at all: resolution is not even attempted."""
    view.skip_resolution = True
    return view


def is_portal_host(host: str, config=None) -> bool:
    """`<BASE_DOMAIN>` or `www.<BASE_DOMAIN>` (any port or case): the national portal."""
    base = (config or current_app.config)["BASE_DOMAIN"]
    return tenancy.normalize_host(host) in (base, f"www.{base}")


class Platform(Flask):
    """The application: one URL map for the territories' and the console's hosts, and another,
    made from the same rules, for the portal's host (`map_portal`): each host matches only its
    own pages, and the portal may answer `/` and `/recherche` with its own views."""

    def create_url_adapter(self, request) -> MapAdapter | None:
        adapter = super().create_url_adapter(request)  # checks the host against TRUSTED_HOSTS
        portal = self.extensions.get("portal_map")
        # Called before the application context is pushed: its own settings, not current_app's.
        if request is not None and portal is not None and is_portal_host(request.host, self.config):
            return portal.bind_to_environ(request.environ, server_name=None, subdomain="")
        return adapter


def map_portal(app: Flask) -> None:
    """The portal's URL map: a copy of every rule of PORTAL_HOST_BLUEPRINTS and
    PORTAL_HOST_ENDPOINTS, once every blueprint is registered."""
    source = app.url_map
    rules = [
        rule.empty()
        for rule in source.iter_rules()
        if rule.endpoint in PORTAL_HOST_ENDPOINTS
        or rule.endpoint.split(".")[0] in PORTAL_HOST_BLUEPRINTS
    ]
    app.extensions["portal_map"] = Map(
        rules,
        strict_slashes=source.strict_slashes,
        merge_slashes=source.merge_slashes,
        redirect_defaults=source.redirect_defaults,
        converters=dict(source.converters),
    )


def _lookup(host: str):
    with db.engine.connect() as conn:
        return lookup_host(conn, host)


def resolve_site():
    """Before every view: decide console vs territory, bind the territory or refuse."""
    request_id()
    g.started = time.perf_counter()
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "skip_resolution", False):
        return None
    host = tenancy.normalize_host(request.host)
    console_host = f"admin.{current_app.config['BASE_DOMAIN']}"
    blueprint = request.blueprint or ""
    open_view = view is not None and getattr(view, "any_host", False)
    if host == console_host:
        g.console = True
        if blueprint in CONSOLE_HOST_BLUEPRINTS - PORTAL_ONLY_BLUEPRINTS or open_view:
            return None
        if request.path == "/":
            return redirect("/plateforme/")
        return error_page(404)
    if is_portal_host(host):
        g.portal = True  # the portal's URL map holds only what the portal serves
        return None
    if blueprint in PLATFORM_ONLY_BLUEPRINTS | PORTAL_ONLY_BLUEPRINTS:
        return error_page(404)
    tenant = current_app.extensions["host_cache"].get(host, _lookup)
    if tenant is None:
        return None if open_view else error_page(404, unknown_host=True)
    if not tenant.active and not open_view:
        return error_page(503, tenant=tenant)
    g.tenant_token = tenancy.bind(tenant)
    return None


def commit_request(response):
    """The one commit point of a request (as Indico's request handler does): a request that
    succeeds (below 400) commits its work once, then what waited for that commit runs (the
    mail sender's nudge); one that fails rolls back. Views and services never commit."""
    if response.status_code < 400:
        commit_point()
    else:
        roll_back()
    return response


def release_site(exc=None):
    token = g.pop("tenant_token", None)
    if token is not None:
        # End the territory's transaction while it is still bound, even when the request
        # ran inside an outer application context (tests, CLI) that outlives it.
        db.session.remove()
        tenancy.unbind(token)


def finish_response(response):
    response.headers["X-Request-ID"] = request_id()
    apply_headers(response)
    if "started" in g and not request.path.startswith(("/static/", "/healthz")):
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"duration_ms": round((time.perf_counter() - g.started) * 1000, 1)},
        )
    return response


#: (French title, French text, English title, English text) per status.
ERROR_TEXTS = {
    400: (
        "Requête invalide",
        "La requête n'a pas pu être comprise.",
        "Bad request",
        "The request could not be understood.",
    ),
    403: (
        "Accès refusé",
        "Vous n'avez pas accès à cette page.",
        "Forbidden",
        "You do not have access to this page.",
    ),
    404: (
        "Page introuvable",
        "Cette page n'existe pas ou plus.",
        "Page not found",
        "This page does not exist.",
    ),
    405: (
        "Méthode non autorisée",
        "Cette action n'est pas possible sur cette page.",
        "Method not allowed",
        "This action is not possible on this page.",
    ),
    500: (
        "Erreur du serveur",
        "Une erreur est survenue ; elle a été enregistrée.",
        "Server error",
        "Something went wrong; it has been logged.",
    ),
    429: (
        "Trop de tentatives",
        "Trop de tentatives en peu de temps : réessayez dans une minute.",
        "Too many attempts",
        "Too many attempts in a short time: try again in a minute.",
    ),
    503: (
        "Service indisponible",
        "Ce service est momentanément indisponible.",
        "Service unavailable",
        "This service is temporarily unavailable.",
    ),
}
UNKNOWN_HOST = (
    "Territoire inconnu",
    "Aucun territoire n'est servi à cette adresse.",
    "Unknown territory",
    "No territory is served at this address.",
)
SUSPENDED = (
    "Site suspendu",
    "Le site de ce territoire est momentanément suspendu.",
    "Site suspended",
    "This territory's site is temporarily suspended.",
)


def error_page(status: int, unknown_host: bool = False, tenant=None, texts=None):
    """A bilingual error page that needs no territory, no theme and no database; `texts` (French
    title and text, English title and text) say more than the status's own."""
    if texts is None:
        texts = UNKNOWN_HOST if unknown_host else SUSPENDED if tenant else ERROR_TEXTS[status]
    if request.path.startswith("/api/"):  # API clients read problem+json, never a page
        return problem(status, f"{texts[1]} / {texts[3]}")
    try:
        page = render_template(
            "errors/error.html", status=status, texts=texts, tenant=tenant, rid=request_id()
        )
    except Exception:  # noqa: BLE001 - the error page must answer whatever else broke
        log.exception("the error page could not be drawn; the bare one is sent")
        return bare_error_page(status, texts)
    return page, status


def bare_error_page(status: int, texts=None):
    """The error page of last resort: no template, no context processor, no account, no
    database — only the bilingual texts, the request id and the security headers."""
    texts = texts or ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    rid = request_id()
    body = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(texts[0])} · {escape(texts[2])} ({status})</title></head><body><main>"
        f"<h1>{escape(texts[0])}</h1><p>{escape(texts[1])}</p>"
        f'<h2 lang="en">{escape(texts[2])}</h2><p lang="en">{escape(texts[3])}</p>'
        f"<p>Erreur {status} · référence à citer si vous nous écrivez "
        f'<span lang="en">(reference to quote)</span> : <code>{escape(rid)}</code></p>'
        "</main></body></html>"
    )
    response = current_app.response_class(body, status=status, mimetype="text/html")
    response.headers["X-Request-ID"] = rid
    return apply_headers(response)


def roll_back() -> None:
    """Roll the failed request back; a dead connection is logged, never a second failure that
    would cost the error page its headers."""
    try:
        rollback_point()
    except Exception:  # noqa: BLE001 - the page does without the database
        log.exception("rolling back the failed request failed too")


def roll_back_failed(_sender, exception=None, **_extra):
    """An unexpected error ends the request: roll its transaction back before the error page
    runs, since that page reads the database (the signed-in account, its language) and a failed
    commit leaves the session unusable until then."""
    roll_back()


def redis_unavailable(error: redis.RedisError):
    """A feature that cannot do without Redis found it away: 503 and when to try again (the
    features that can do without it never get here: README, "When Redis is down")."""
    redis_watch().failed(f"{request.method} {request.path}", error)
    response = current_app.make_response(error_page(503))
    response.headers["Retry-After"] = str(REDIS_RETRY_AFTER)
    return response


def register(app) -> None:
    app.url_rule_class = LazyBuildRule  # the rules added from here on: every feature's
    app.wsgi_app = HostNormalizer(app.wsgi_app)
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul)
    app.before_request(resolve_site)
    app.teardown_request(release_site)
    app.after_request(finish_response)
    app.after_request(commit_request)  # after_request runs last-registered first: commit first
    app.jinja_env.globals["csp_nonce"] = csp_nonce  # every template may carry inline style
    for status in (400, 403, 404, 405, 429, 500, 503):
        app.register_error_handler(
            status, lambda e, s=status: error_page(s, texts=getattr(e, "texts", None))
        )
    app.register_error_handler(redis.RedisError, redis_unavailable)
    got_request_exception.connect(roll_back_failed, app)
    app.register_blueprint(health)
    app.view_functions["static"] = skip_resolution(app.view_functions["static"])


# --- health ---------------------------------------------------------------------------------

health = Blueprint("health", __name__)


@health.get("/healthz")
@any_host
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@health.get("/readyz")
@any_host
def readyz():
    """The process can serve: PostgreSQL answers (503 otherwise). Without Redis it serves in
    its degraded modes (README, "When Redis is down"): ready, said "degraded" — a shared Redis
    away must not take every web process out of the load balancer."""
    reasons = {}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        reasons["database"] = type(exc).__name__ + ": " + str(exc).splitlines()[0][:200]
    try:
        client = redis.Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2
        )
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        reasons["redis"] = type(exc).__name__ + ": " + str(exc)[:200]
    if "database" in reasons:
        return jsonify(status="unavailable", reasons=reasons), 503
    if reasons:
        return jsonify(status="degraded", reasons=reasons)
    return jsonify(status="ok")
