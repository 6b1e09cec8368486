"""`/compte/projet`: the person describes their moving project and sees how complete it is and
what it opens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func

from core.extensions import db
from core.themes import render_site
from sites.project.forms import ProjectForm
from sites.project.models import Project
from sites.project.stages import ALL_CRITERIA_FROM, GUEST_CRITERIA, completeness, project_of

bp = Blueprint("project", __name__, url_prefix="/compte")


@bp.app_context_processor
def stage_words():
    return {"all_criteria_from": ALL_CRITERIA_FROM}


@bp.route("/projet", methods=["GET", "POST"])
@login_required
def project():
    found = project_of(current_user.id)
    form = ProjectForm(obj=found)
    if form.validate_on_submit():
        if found is None:
            found = Project(account_id=current_user.id)
            db.session.add(found)
        form.save_to(found)
        found.updated_at = func.now()
        flash(
            _("Your project is saved: %(done)s %% complete.", done=completeness(found)), "success"
        )
        return redirect(url_for(".project"))
    page = render_site(
        "account/project.html",
        form=form,
        done=completeness(found),
        guest_criteria=GUEST_CRITERIA,
        all_from=ALL_CRITERIA_FROM,
    )
    return page, 400 if form.errors else 200
