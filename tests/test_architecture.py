"""Architecture rules that no single feature's test would notice breaking: the cron names real jobs
through the job runner, every console view checks a role, views leave committing to the commit
point, and every module says what it is for. (What imports what is import-linter's contract.)"""

from __future__ import annotations

import ast
import inspect
import io
import re
import textwrap
import tokenize
from pathlib import Path
from urllib.parse import urlsplit

from rq.cron import CronScheduler

from core.config import ROOT
from core.jobs import QUEUES, resolve, run
from workers.schedule import DAILY, EVERY

#: The application's own packages (migration scripts excepted: Alembic writes them).
PACKAGES = ("core", "tenants", "ingest", "sites", "billing", "workers", "application", "migrations")
CONSOLE_HOST = "admin.vivrau.localhost"
LOGIN = "/compte/connexion"
#: A made-up value per URL converter: no such row exists, and the permission check comes first.
MADE_UP = {"int": "999999", "default": "x", "string": "x", "path": "x"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "versions" not in path.relative_to(ROOT).parts
    )


# --- the cron schedule ---------------------------------------------------------------------------


def test_every_scheduled_job_is_a_job_on_a_known_queue():
    for path, queue, _when in [*EVERY, *DAILY]:
        func = resolve(path)
        assert callable(func), path
        inspect.signature(func).bind()  # the schedule passes no arguments
        assert queue in QUEUES, (path, queue)


def test_the_cron_runs_every_scheduled_job_through_the_job_runner(redis_conn):
    """What `flask cron` registers: the job runner, given each scheduled path, on its queue."""
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file("workers.schedule")
    registered = scheduler.get_jobs()
    assert registered and all(cron_job.func is run for cron_job in registered)
    for cron_job in registered:
        inspect.signature(run).bind(*cron_job.args, **cron_job.kwargs)
    assert sorted(
        (cron_job.args[0], cron_job.queue_name, cron_job.interval or cron_job.cron)
        for cron_job in registered
    ) == sorted([*EVERY, *DAILY])


# --- every console view checks a role ------------------------------------------------------------


def console_rules(app) -> list:
    """The URL rules of the territory consoles and the platform console.

    A blueprint's static files are left out: the console's scripts hold no data and are the same
    for everyone, like the site's own /static.
    """
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(("/console", "/plateforme"))
            and rule.endpoint.rpartition(".")[2] != "static"
        ),
        key=lambda rule: rule.rule,
    )


def made_up_path(rule) -> str:
    def value(found: re.Match) -> str:
        converter = found["converter"] or "default"
        assert converter in MADE_UP, f"no made-up value for <{converter}:…> in {rule.rule}"
        return MADE_UP[converter]

    return _ARGUMENT.sub(value, rule.rule)


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def answers(site, rule, csrf_token: str) -> dict[str, object]:
    """Each method of the rule, sent by this visitor to a made-up URL of it (forms carry a valid
    CSRF token, so that the permission check, not the CSRF check, is what answers)."""
    path = made_up_path(rule)
    out = {}
    for method in methods(rule):
        data = None if method == "GET" else {"csrf_token": csrf_token}
        out[f"{method} {path}"] = site.client.open(
            path, method=method, base_url=site.base, data=data
        )
    return out


def test_every_console_view_requires_a_role(app):
    unguarded = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in console_rules(app)
        if not getattr(app.view_functions[rule.endpoint], "required_roles", None)
    ]
    assert console_rules(app)
    assert not unguarded, "console views without @requires(...): " + ", ".join(unguarded)


def test_an_anonymous_visitor_is_sent_to_the_login_page_from_every_console_url(
    app, make_tenant, visitor
):
    town = make_tenant()
    sites = {"/console": visitor(town), "/plateforme": visitor(CONSOLE_HOST)}
    tokens = {prefix: site.csrf(LOGIN) for prefix, site in sites.items()}
    wrong = []
    for rule in console_rules(app):
        prefix = "/console" if rule.rule.startswith("/console") else "/plateforme"
        for request, response in answers(sites[prefix], rule, tokens[prefix]).items():
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code != 302 or location != LOGIN:
                wrong.append(f"{request} → {response.status_code} {location}")
    assert not wrong, "not sent to the login page: " + "; ".join(wrong)


def test_a_person_without_a_role_is_refused_every_console_url(
    app, make_tenant, make_account, visitor
):
    town = make_tenant()
    person = make_account()
    sites = {"/console": visitor(town), "/plateforme": visitor(CONSOLE_HOST)}
    tokens = {}
    for prefix, site in sites.items():
        site.login(person)
        tokens[prefix] = site.csrf("/compte/")
    wrong = []
    for rule in console_rules(app):
        prefix = "/console" if rule.rule.startswith("/console") else "/plateforme"
        for request, response in answers(sites[prefix], rule, tokens[prefix]).items():
            if response.status_code not in (403, 404):
                wrong.append(f"{request} → {response.status_code}")
    assert not wrong, "answered a person without a role: " + "; ".join(wrong)


# --- one commit point ----------------------------------------------------------------------------


def view_functions(app):
    """The application's own functions behind every endpoint, decorators peeled off."""
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            found = [
                getattr(view_class, method)
                for method in ("get", "post", "put", "patch", "delete")
                if hasattr(view_class, method)
            ]
        else:
            found = [inspect.unwrap(view)]
        for func in found:
            if getattr(func, "__module__", "").partition(".")[0] in PACKAGES:
                yield endpoint, func


def test_views_leave_committing_to_the_commit_point(app):
    """A view parses, authorises, calls a service and renders: the request commits once."""
    forbidden = {"commit", "commit_point", "nudge_outbox"}
    found = []
    for endpoint, func in view_functions(app):
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = node.func
                name = (
                    called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
                )
                if name in forbidden:
                    found.append(f"{endpoint}: {ast.unparse(node)}")
    assert not found, "views deciding the commit: " + "; ".join(found)


def test_only_the_commit_point_nudges_the_mail_sender():
    """Queued mail is sent after the commit point; nobody nudges the sender by hand."""
    nudging = [
        str(path.relative_to(ROOT))
        for path in modules()
        if path != ROOT / "core" / "mail.py" and "nudge_outbox" in path.read_text()
    ]
    assert not nudging


# --- modules -------------------------------------------------------------------------------------


def test_every_module_says_what_it_is_for():
    silent = [
        str(path.relative_to(ROOT))
        for path in modules()
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not silent, "modules without a docstring: " + ", ".join(silent)


def test_an_import_inside_a_function_says_why():
    """Imports belong at the top; one inside a function (a heavy dependency loaded lazily) carries
    a comment between the function's first line and the import saying why."""
    unexplained = []
    for path in modules():
        source = path.read_text()
        comments = {
            token.start[0]
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        }
        for func in ast.walk(ast.parse(source)):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom) and not any(
                    func.lineno <= line <= node.lineno for line in comments
                ):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unexplained, "imports inside functions without a reason: " + ", ".join(unexplained)


def test_tests_take_their_helpers_from_support_modules_not_from_a_conftest():
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if "node_modules" not in path.parts
        for line in path.read_text("utf-8").splitlines()
        if re.match(r"\s*(from|import)\s+tests(\.\w+)*\.conftest\b", line)
    ]
    assert not found, "import from tests/support.py or a helpers module instead:\n" + "\n".join(
        found
    )
