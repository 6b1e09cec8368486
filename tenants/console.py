"""The platform console on `admin.<BASE_DOMAIN>`: billing admins list and create territories."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from core.auth.forms import ADDRESS
from core.auth.invitations import invite
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.extensions import db
from core.registry import Membership, Tenant, TenantKind, kind_label
from tenants import grants
from tenants.entitlements import Feature, today
from tenants.provisioning import ProvisioningError, TenantSpec, create_tenant, refusal

bp = Blueprint("platform", __name__, url_prefix="/plateforme", template_folder="templates")

KIND_CHOICES = [SelectChoice(kind.value, LazyString(kind_label, kind)) for kind in TenantKind]


class CreateTenantForm(FlaskForm):
    slug = StringField(
        _l("Identifier"),
        [
            InputRequired(),
            Regexp(
                r"^[a-z][a-z0-9_]{1,40}$",
                message=_l("2 to 41 lower-case letters, digits or _, starting with a letter."),
            ),
        ],
    )
    name = StringField(_l("Name"), [InputRequired(), Length(1, 200)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    code = StringField(_l("Official code (INSEE or SIREN)"), [Optional(), Length(max=9)])
    domain = StringField(_l("Custom domain (optional)"), [Optional(), Length(max=253)])
    admin_email = EmailField(
        _l("E-mail of its first admin, to invite (optional)"),
        [Optional(), *ADDRESS],
    )
    setup_until = DateField(
        _l("Set-up period: the base subscription and the site until (optional)"),
        [Optional()],
        description=_l("Before its contract is signed; a year at most. Empty: nothing is open."),
    )


def _grant_setup(tenant: Tenant, until) -> None:
    """The set-up period asked for at creation; a refused one is said, the territory stays."""
    try:
        grants.grant(
            tenant,
            [Feature.base, Feature.site],
            None,
            until,
            _("Set-up of the territory, before its contract"),
            actor=current_user,
        )
    except grants.GrantError as exc:
        flash(_("Set-up period not granted: %(reason)s", reason=str(exc)), "error")


@bp.route("/", methods=["GET", "POST"])
@requires(Role.billing_admin)
def index():
    form = CreateTenantForm()
    if request.method == "POST" and form.validate_on_submit():
        spec = TenantSpec(
            slug=form.slug.data,
            name=form.name.data,
            kind=form.kind.data,
            code=form.code.data or None,
            domains=(form.domain.data,) if form.domain.data else (),
        )
        try:
            tenant = create_tenant(spec)  # the same service as `flask tenants create`
        except ProvisioningError as exc:
            field = getattr(form, exc.field or "slug")
            field.errors = [*field.errors, refusal(exc)]
        else:
            audit("tenant.created", actor=current_user, slug=tenant.slug)
            if form.setup_until.data:
                _grant_setup(tenant, form.setup_until.data)
            if form.admin_email.data:
                invite(tenant.ref(), form.admin_email.data, Role.admin, current_user)
            flash(_("Territory %(name)s created.", name=tenant.name), "success")
            return redirect(url_for(".index"))
    tenants = db.session.execute(select(Tenant).order_by(Tenant.kind, Tenant.name)).scalars().all()
    day = today()
    members = dict(
        db.session.execute(
            select(Membership.umbrella_id, func.count())
            .where(
                Membership.joined_on <= day,
                or_(Membership.left_on.is_(None), Membership.left_on > day),
            )
            .group_by(Membership.umbrella_id)
        ).all()
    )
    # Links to territories keep the port the console is served on (local runs use :8000).
    port = ":" + request.host.rsplit(":", 1)[1] if request.host.count(":") == 1 else ""
    page = render_template(
        "platform/index.html", tenants=tenants, members=members, port=port, form=form
    )
    return page, 400 if form.errors else 200
