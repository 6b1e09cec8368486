"""The stages a person's project opens, on the portal and on a territory's site opened by
stages (an open site gives everything to everyone): a guest, or a project less than 70 %
complete, searches with GUEST_CRITERIA criteria; from 70 % every criterion; a complete project
(100 %) shows the listings (and, when they exist, the alerts)."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.problems import ApiProblem
from core.tenancy import current_tenant
from core.themes import render_site
from sites.project.models import Project
from sites.search.form import preset_query
from sites.search.presets import BY_PRESET

GUEST_CRITERIA = 3
#: The completeness (percent) from which every criterion is open.
ALL_CRITERIA_FROM = 70
#: The questions of a project; each counts once answered.
QUESTIONS = ("home", "household", "job", "business", "leisure", "lives_in", "moving")


def answered(project: Project | None) -> set[str]:
    """The questions the project answers (a home to buy or rent counts with its budget)."""
    if project is None:
        return set()
    out = set()
    if project.home == "none" or (project.home in ("buy", "rent") and project.home_budget):
        out.add("home")
    if project.adults:
        out.add("household")
    if project.job == "no" or (project.job == "yes" and project.job_title):
        out.add("job")
    if project.business == "no" or (project.business == "yes" and project.business_activity):
        out.add("business")
    if project.leisure:
        out.add("leisure")
    if project.lives_in:
        out.add("lives_in")
    if project.moving:
        out.add("moving")
    return out


def completeness(project: Project | None) -> int:
    """How complete a project is, in whole percent."""
    return round(100 * len(answered(project)) / len(QUESTIONS))


def project_of(account_id: int) -> Project | None:
    return db.session.get(Project, account_id)


def my_completeness() -> int | None:
    """The signed-in person's completeness (None for a guest), read once per request."""
    if not current_user.is_authenticated:
        return None
    if "project_completeness" not in g:
        g.project_completeness = completeness(project_of(current_user.id))
    return g.project_completeness


def staged_here() -> bool:
    """Does this host open its search and listings by stages? The portal always does; a
    territory's site when its admins chose so."""
    tenant = current_tenant()
    if tenant is None:
        return bool(g.get("portal"))
    return tenant.site_access == "staged"


def criteria_allowed() -> int | None:
    """How many criteria this person may search with here (None: all of them)."""
    if not staged_here():
        return None
    done = my_completeness()
    return None if done is not None and done >= ALL_CRITERIA_FROM else GUEST_CRITERIA


def listings_open() -> bool:
    """May this person see the listings here?"""
    return not staged_here() or my_completeness() == 100


def too_many(count: int) -> str | None:
    """Why a search of `count` criteria is held back here, or None when it may run."""
    allowed = criteria_allowed()
    if allowed is None or count <= allowed:
        return None
    if current_user.is_authenticated:
        return _(
            "Your project is %(done)s %% complete: search with %(allowed)s criteria, or complete "
            "it to %(needed)s %% to use them all (you chose %(count)s).",
            done=my_completeness(),
            allowed=allowed,
            needed=ALL_CRITERIA_FROM,
            count=count,
        )
    return _(
        "Without an account, search with %(allowed)s criteria of your choice (you chose "
        "%(count)s): create an account and describe your project to use them all.",
        allowed=allowed,
        count=count,
    )


def hold_to_stage(form) -> None:
    """A search form with more criteria than this person may use here: a profile (preset) is
    applied with its first criteria, saying so; criteria chosen one by one are not run, the
    form saying why beside them."""
    used = [r for r in form.rows if r.used]
    allowed = criteria_allowed()
    if not form.searched or allowed is None or len(used) <= allowed:
        return
    preset = BY_PRESET.get(form.preset)
    if preset is not None and form.preset_applied:
        order = preset_query(preset)["criteria"]
        ranked = [c["id"] for c in order if c.get("importance") != "nice"]
        ranked += [c["id"] for c in order if c.get("importance") == "nice"]
        keep = set(ranked[:allowed])
        for row in used:
            row.used = row.criterion.id in keep
        form.notice = _(
            "This profile is applied with its %(n)s main criteria: %(more)s to use all of its "
            "%(all)s.",
            n=allowed,
            all=len(used),
            more=_("complete your moving project")
            if current_user.is_authenticated
            else _("create an account and describe your project"),
        )
        return
    form.errors.append(too_many(len(used)))


def hold_query_to_stage(query) -> None:
    """An API search with more criteria than this person may use here: refused (403), saying
    why; nothing is recorded."""
    if message := too_many(len(query.criteria)):
        raise ApiProblem(403, message, errors={"criteria": [message]})


def listings_gate():
    """A `before_request` of the listing pages of a staged site: a person whose project is not
    complete is shown how to open them (403), nothing else of the listings."""
    if listings_open():
        return None
    return render_site("account/stage_listings.html", done=my_completeness()), 403


def listings_api_gate() -> None:
    """The same for the listings' JSON (the search map's panel)."""
    if not listings_open():
        message = _("Complete your moving project to see the listings.")
        raise ApiProblem(403, message)
