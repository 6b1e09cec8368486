"""Campaign links and the console's campaigns page.

A campaign's link is short (`/c/<code>` on the territory's site, `/c/<slug>/<code>` on the
portal) or tagged (`utm_campaign=<code>` on any page of the site, or on the territory's portal
page). Following one counts a visit for the campaign and remembers it for the rest of the
visit; an unknown code is counted as no campaign, never an error page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.auth import service
from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import link_to, portal_link
from core.extensions import db
from core.forms import ConfirmForm
from core.tenancy import TenantRef, current_tenant, require_tenant
from sites.audience import arrived, entered
from sites.campaigns.forms import CampaignEditForm, CampaignForm
from sites.campaigns.models import FIGURES, Campaign, find, has_figures, with_totals
from tenants.entitlements import Feature, entitled, guard

bp = Blueprint("campaigns", __name__)
console = Blueprint(
    "campaigns_console", __name__, url_prefix="/console/campagnes", template_folder="templates"
)
console.before_request(guard(Feature.base))


def follow(territory: TenantRef, raw_code: str | None, visit: bool) -> bool:
    """The visitor came by `territory`'s campaign link of this code (bound to it): counted,
    and remembered for the visit. False (nothing counted) when no campaign has this code."""
    campaign = find(raw_code)
    if campaign is None:
        return False
    arrived(territory.id, campaign.id, visit=visit)
    return True


@bp.get("/c/<code>")
def short(code: str):
    """A territory's short campaign link: on to its home page."""
    tenant = current_tenant()
    if tenant is None:
        abort(404)
    follow(tenant, code, visit=entered(request.referrer, request.host))
    return redirect(url_for("site.home"))


@bp.before_app_request
def tagged():
    """`utm_campaign=<code>` on a page of a territory's site: the same as its short link."""
    tenant = current_tenant()
    code = request.args.get("utm_campaign")
    if tenant is not None and code and request.method == "GET":
        follow(tenant, code, visit=entered(request.referrer, request.host))


# --- the console's page ---------------------------------------------------------------------


def links(tenant: TenantRef, campaign: Campaign) -> list[tuple[str, str]]:
    """(what, link) to hand out for a campaign: the portal's, the own site's when it has one."""
    portal = portal_link("portal.campaign", slug=tenant.slug, code=campaign.code)
    out = [(_("On the national portal"), portal)]
    if entitled(tenant, Feature.site):
        out.append((_("On your site"), link_to("campaigns.short", tenant, code=campaign.code)))
        tagged_home = link_to(
            "site.home", tenant, utm_source=campaign.channel, utm_campaign=campaign.code
        )
        out.append((_("Tagged link to your site (for advertising tools)"), tagged_home))
    return out


@console.get("/")
@requires(Role.admin, Role.editor)
def index():
    tenant = require_tenant()
    rows = [(c, figures, links(tenant, c)) for c, figures in with_totals()]
    totals = {name: sum(f[name] for _c, f, _l in rows) for name in FIGURES}
    return render_template(
        "console/campaigns.html", tenant=tenant, rows=rows, totals=totals, figures=FIGURES
    )


def _saved(campaign: Campaign, form: CampaignForm) -> bool:
    """Write the form into `campaign`; False (the form holding why) when its code is taken."""
    campaign.name = form.name.data.strip()
    campaign.channel = form.channel.data
    campaign.starts_on, campaign.ends_on = form.starts_on.data, form.ends_on.data
    try:
        with db.session.begin_nested():
            db.session.add(campaign)
            db.session.flush()
    except IntegrityError:  # another campaign took this code meanwhile
        form.code.errors.append(_("Another campaign already uses this code."))
        return False
    return True


@console.route("/nouvelle", methods=["GET", "POST"])
@requires(Role.admin, Role.editor)
def new():
    tenant = require_tenant()
    form = CampaignForm()
    if form.validate_on_submit():
        code = form.chosen_code()
        if len(code) < 2:
            form.code.errors.append(_("Type a code: the name gives none."))
        elif db.session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
            form.code.errors.append(_("Another campaign already uses this code."))
        elif _saved(campaign := Campaign(code=code), form):
            service.audit("campaign.created", actor=current_user, code=code)
            flash(_("Campaign created: hand out its links below."), "success")
            return redirect(url_for(".index", _anchor=f"campagne-{campaign.id}"))
    page = render_template("console/campaign_form.html", tenant=tenant, form=form, campaign=None)
    return page, 400 if form.errors else 200


@console.route("/<int:campaign_id>", methods=["GET", "POST"])
@requires(Role.admin, Role.editor)
def edit(campaign_id: int):
    tenant = require_tenant()
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    form = CampaignEditForm(obj=campaign)
    if form.validate_on_submit() and _saved(campaign, form):
        service.audit("campaign.changed", actor=current_user, code=campaign.code)
        flash(_("Campaign saved."), "success")
        return redirect(url_for(".index", _anchor=f"campagne-{campaign.id}"))
    page = render_template(
        "console/campaign_form.html",
        tenant=tenant,
        form=form,
        campaign=campaign,
        deletable=not has_figures(campaign),
        delete_form=ConfirmForm(),
    )
    return page, 400 if form.errors else 200


@console.post("/<int:campaign_id>/supprimer")
@requires(Role.admin, Role.editor)
def delete(campaign_id: int):
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if has_figures(campaign):
        flash(_("This campaign has figures: it stays, for the barometer to compare."), "error")
        return redirect(url_for(".edit", campaign_id=campaign.id))
    db.session.delete(campaign)
    service.audit("campaign.deleted", actor=current_user, code=campaign.code)
    flash(_("Campaign deleted."), "success")
    return redirect(url_for(".index"))
