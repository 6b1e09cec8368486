"""The platform console's entitlements page: who may use what today (from contracts or manual
grants), each territory's history, and the dated, audited manual grants of a set-up period."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from core.auth.models import AuditEvent, Role
from core.auth.permissions import requires
from core.extensions import db
from core.registry import Tenant, get_by_slug
from tenants import entitlements, grants
from tenants.console import bp
from tenants.entitlements import FEATURE_HEADINGS, OFFER, Feature

ORIGINS = {
    "contract": _l("contract"),
    "umbrella": _l("umbrella's contract"),
    "grant": _l("manual grant"),
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class GrantForm(FlaskForm):
    tenant = SelectField(_l("Territory"), coerce=int)
    features = CheckboxesField(
        _l("Features"),
        choices=[SelectChoice(f.value, FEATURE_HEADINGS[f]) for f in Feature],
        validators=[InputRequired(message=_l("Choose at least one feature."))],
    )
    starts_on = DateField(_l("From (default: today)"), [Optional()])
    ends_on = DateField(
        _l("Until (exclusive, a year at most)"),
        [InputRequired(message=_l("A grant needs an end date: it bridges a signature."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        [InputRequired(message=_l("Say why this territory is granted it.")), Length(max=500)],
    )


def _rows(tenants: list[Tenant]) -> list[dict]:
    """Per territory: per feature, the period giving it today (None: not entitled)."""
    day = entitlements.today()
    rows = []
    for tenant in tenants:
        periods = entitlements.load_periods(tenant.id)
        now = {}
        for feature in Feature:
            running = [p for p in periods if p.feature == feature and p.covers(day)]
            now[feature] = max(running, key=lambda p: p.ends_on or day.max, default=None)
        rows.append({"tenant": tenant, "now": now})
    return rows


@bp.route("/droits", methods=["GET", "POST"])
@requires(Role.billing_admin)
def rights():
    tenants = db.session.execute(select(Tenant).order_by(Tenant.name)).scalars().all()
    form = GrantForm()
    form.tenant.choices = [SelectChoice(t.id, t.name) for t in tenants]
    if request.method == "GET" and request.args.get("territoire"):
        chosen = get_by_slug(db.session, request.args["territoire"])
        if chosen is not None:
            form.tenant.data = chosen.id
    if request.method == "POST" and form.validate_on_submit():
        tenant = db.session.get(Tenant, form.tenant.data)
        try:
            made = grants.grant(
                tenant,
                form.features.data,
                form.starts_on.data,
                form.ends_on.data,
                form.reason.data,
                actor=current_user,
            )
        except grants.GrantError as exc:
            field = getattr(form, exc.field or "reason", form.reason)
            field.errors = [*field.errors, str(exc)]
        else:
            flash(
                _(
                    "%(name)s: %(count)d feature(s) granted until %(end)s.",
                    name=tenant.name,
                    count=len(made),
                    end=made[0].ends_on.strftime("%d/%m/%Y"),
                ),
                "success",
            )
            return redirect(url_for(".rights_of", slug=tenant.slug))
    page = render_template(
        "platform/rights.html",
        rows=_rows(tenants),
        features=list(OFFER),
        labels=FEATURE_HEADINGS,
        origins=ORIGINS,
        form=form,
        today=entitlements.today(),
    )
    return page, 400 if form.errors else 200


@bp.get("/droits/<slug>")
@requires(Role.billing_admin)
def rights_of(slug: str):
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        abort(404)
    events = (
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action.like("entitlement.%"))
            .order_by(AuditEvent.at.desc())
            .limit(100)
        )
        .scalars()
        .all()
    )
    return render_template(
        "platform/rights_of.html",
        territory=tenant,
        row=_rows([tenant])[0],
        periods=entitlements.load_periods(tenant.id),
        grants=grants.grants_of(tenant.id),
        events=events,
        features=list(Feature),
        labels=FEATURE_HEADINGS,
        origins=ORIGINS,
        today=entitlements.today(),
    )


@bp.post("/droits/<slug>/retirer/<int:grant_id>")
@requires(Role.billing_admin)
def revoke(slug: str, grant_id: int):
    tenant = get_by_slug(db.session, slug)
    if tenant is None:
        abort(404)
    try:
        grants.revoke(grant_id, actor=current_user, tenant=tenant)
    except grants.GrantError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".rights_of", slug=slug))
    flash(_("Grant revoked: it ends today."), "success")
    return redirect(url_for(".rights_of", slug=slug))
