"""The territory console (`/console/` on the territory's host): overview, team, look, texts.

On an umbrella's host it is also the coordinator console, listing the member towns.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.auth import invitations, service
from core.auth.models import Role
from core.auth.permissions import can, requires
from core.auth.service import territory_link
from core.charts import grouped_bars
from core.extensions import db
from core.fanout import read_in
from core.forms import ConfirmForm
from core.i18n import english, pick
from core.images import MAX_BYTES, MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, ImageError
from core.registry import members_of
from core.tenancy import require_tenant
from core.themes import available_themes
from ingest.listings.declaration import KINDS
from ingest.listings.labels import kind_short_title
from ingest.listings.reports import report_csv
from sites import branding as look
from sites import content, rollup
from sites import overview as figures
from sites.console_forms import (
    HeroForm,
    HomeTextForm,
    InviteForm,
    LogoForm,
    LookForm,
    MemberInviteForm,
    SiteAccessForm,
)
from tenants.entitlements import Feature, entitled, guard, subscription_words
from tenants.invoices_ahead import invoice_ahead

bp = Blueprint("territory_console", __name__, url_prefix="/console", template_folder="templates")
bp.before_request(guard(Feature.base))
EDITORS = (Role.admin, Role.editor)


@bp.get("/")
@requires(Role.admin, Role.editor, Role.coordinator)
def overview():
    tenant = require_tenant()
    facts = content.facts_here(tenant)
    last, this, _following = figures.month_starts(figures.today())
    return render_template(
        "console/overview.html",
        tenant=tenant,
        team=facts.team,
        texts=set(facts.texts),
        pages=facts.pages,
        trends=figures.trends(),
        listings=figures.listings_now(),
        subscription=figures.subscription(tenant),
        ahead=invoice_ahead(tenant.id, figures.today()),
        this_month=this.date(),
        last_month=last.date(),
    )


# --- team ------------------------------------------------------------------------------------


@bp.route("/equipe", methods=["GET", "POST"])
@requires(Role.admin)
def team():
    tenant = require_tenant()
    form = InviteForm()
    if form.validate_on_submit():
        invitations.invite(tenant, form.email.data, Role(form.role.data), current_user)
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
        return redirect(url_for(".team"))
    return render_template(
        "console/team.html",
        tenant=tenant,
        form=form,
        members=content.team(tenant.id),
        pending=content.pending_invitations(tenant.id),
        confirm=ConfirmForm(),
    )


@bp.post("/equipe/<int:grant_id>/retirer")
@requires(Role.admin)
def revoke(grant_id: int):
    tenant = require_tenant()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        removed = content.remove_role(tenant, grant_id, current_user)
    except content.LastAdmin:
        flash(_("You are the only admin: invite another one first."), "error")
        return redirect(url_for(".team"))
    if not removed:  # another territory's grant, or none: nothing to say about it
        abort(404)
    flash(_("Role removed."), "success")
    return redirect(url_for(".team"))


@bp.post("/equipe/invitations/<int:invitation_id>/annuler", defaults={"action": "annuler"})
@bp.post("/equipe/invitations/<int:invitation_id>/renvoyer", defaults={"action": "renvoyer"})
@requires(Role.admin)
def invitation(invitation_id: int, action: str):
    """Cancel a waiting invitation, or send it again with a new link."""
    tenant = require_tenant()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    change = invitations.cancel_invitation if action == "annuler" else invitations.resend_invitation
    done = change(invitation_id, tenant, current_user)
    if done is None:  # another territory's, or no longer waiting: nothing to say about it
        abort(404)
    if action == "annuler":
        flash(_("Invitation to %(email)s cancelled: its link no longer works.", email=done.email),
              "success")  # fmt: skip
    else:
        flash(_("Invitation sent again to %(email)s, with a new link.", email=done.email),
              "success")  # fmt: skip
    return redirect(url_for(".team"))


# --- look: theme, colours, font, logo -----------------------------------------------------------


def photo_error(exc: ImageError) -> str:
    """Why a home page photo is refused, in the reader's language."""
    if exc.code == "unknown_format":
        detected = exc.params.get("detected")
        if detected:
            return _(
                "This file is a %(format)s, not a photo: send a PNG, JPEG or WebP image.",
                format=str(detected).upper(),
            )
        return _("This file is not an image: send a photo in PNG, JPEG or WebP.")
    return {
        "too_large": _("The photo is too large: %(mb)s MB at most.", mb=MAX_PHOTO_BYTES // 2**20),
        "too_many_pixels": _(
            "The photo has too many pixels: %(side)s at most on each side.",
            side=format_decimal(MAX_PHOTO_PIXELS),
        ),
        "corrupt": _("The photo is damaged and cannot be read: export it again."),
    }.get(exc.code, _("This file cannot be used as a photo."))


def look_error(exc) -> str:
    if isinstance(exc, ImageError):
        return {
            "too_large": _("The logo is too large: 512 KB at most."),
            "unknown_format": _("The logo must be a PNG, JPEG or SVG image."),
            "too_many_pixels": _("The logo is too large: 2000 pixels at most on each side."),
        }.get(exc.code, _("This file cannot be used as a logo."))
    pairs = {
        "text_on_background": _("text on background"),
        "on_primary_on_primary": _("text on the main colour"),
        "links_on_background": _("main colour (links) on background"),
    }
    if exc.code == "low_contrast":
        return _(
            "Contrast too low for %(pair)s: %(ratio)s:1, at least 4.5:1 is needed (WCAG AA).",
            pair=pairs[exc.params["pair"]],
            ratio=exc.params["ratio"].replace(".", ","),
        )
    return _("This value is not accepted.")


@bp.route("/acces", methods=["GET", "POST"])
@requires(Role.admin)
def access():
    """Open the site to everyone, or by the stages of a person's moving project."""
    tenant = require_tenant()
    form = SiteAccessForm(data={"access": tenant.site_access})
    if form.validate_on_submit():
        content.set_site_access(tenant, form.access.data)
        service.audit("site.access_changed", actor=current_user, access=form.access.data)
        flash(_("Saved: the site follows this choice within a minute."), "success")
        return redirect(url_for(".access"))
    page = render_template("console/access.html", tenant=tenant, form=form)
    return page, 400 if form.errors else 200


@bp.route("/apparence", methods=["GET", "POST"])
@requires(Role.admin)
def appearance():
    tenant = require_tenant()
    themes = available_themes()
    branding = look.current_branding()
    form = LookForm(data={**look.tokens(branding), "theme": tenant.theme})
    form.theme.choices = [SelectChoice(n, meta.get("name", n)) for n, meta in themes.items()]
    logo_form = LogoForm()
    if request.method == "POST" and form.validate_on_submit():
        values = {k: getattr(form, k).data for k in look.COLOURS}
        try:
            look.save_look(values, form.font.data, current_user.id)
        except look.BrandingError as exc:
            form.primary.errors.append(look_error(exc))
        else:
            content.set_theme(tenant, form.theme.data)
            service.audit("site.look_changed", actor=current_user, theme=form.theme.data)
            flash(_("The look of the site is saved."), "success")
            return redirect(url_for(".appearance"))
    # A refused look is said on the page (200): save_look checks everything before it writes.
    return render_template(
        "console/appearance.html",
        tenant=tenant,
        form=form,
        logo_form=logo_form,
        logo=look.logo_url(look.current_branding()),
        hero_form=HeroForm(),
        hero=look.hero_url(look.current_branding()),
    )


@bp.post("/apparence/logo")
@requires(Role.admin)
def upload_logo():
    form = LogoForm()
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            # One byte over the limit is enough for the sanitiser to refuse it by size.
            look.save_logo(upload.read(MAX_BYTES + 1), upload.filename, current_user.id)
        except ImageError as exc:
            flash(look_error(exc), "error")
        else:
            service.audit("site.logo_changed", actor=current_user)
            flash(_("The logo is saved."), "success")
    else:
        flash(_("Choose a file first."), "error")
    return redirect(url_for(".appearance"))


@bp.post("/apparence/photo")
@requires(Role.admin)
def upload_hero():
    form = HeroForm()
    if form.validate_on_submit():
        try:
            # One byte over the limit is enough for the sanitiser to refuse it by size.
            look.save_hero(form.photo.data.read(MAX_PHOTO_BYTES + 1), current_user.id)
        except ImageError as exc:
            flash(photo_error(exc), "error")
        else:
            service.audit("site.hero_changed", actor=current_user)
            flash(_("The home page photo is saved."), "success")
    else:
        flash(_("Choose a file first."), "error")
    return redirect(url_for(".appearance"))


# --- home page texts, both languages --------------------------------------------------------------


@bp.route("/textes", methods=["GET", "POST"])
@requires(*EDITORS)
def texts():
    tenant = require_tenant()
    rows = content.home_texts()
    forms = {code: HomeTextForm(prefix=code, obj=rows.get(code)) for code in ("fr", "en")}
    if request.method == "POST":
        if all(f.validate_on_submit() for f in forms.values()):
            for code, form in forms.items():
                row = content.home_text_for_update(code)
                form.populate_obj(row)
                row.updated_by_id = current_user.id
            service.audit("site.texts_changed", actor=current_user)
            flash(_("The home page texts are saved."), "success")
            return redirect(url_for(".texts"))
    return render_template("console/texts.html", tenant=tenant, forms=forms)


# --- coordinator console: an umbrella's member towns ----------------------------------------------


@bp.get("/membres")
@requires(Role.coordinator, Role.admin)
def members():
    """Every member town and the umbrella's totals, side by side, with a chart."""
    tenant = require_tenant()
    if tenant.kind != "umbrella":
        abort(404)
    rows, totals = rollup.rollup(tenant.id)
    readable = [r for r in rows if r.read.value is not None]
    chart = grouped_bars(
        [r.town.name for r in readable],
        [
            [r.read.value.published_total for r in readable],
            [r.read.value.contacts + r.read.value.prospects for r in readable],
        ],
    )
    return render_template(
        "console/members.html",
        tenant=tenant,
        rows=rows,
        totals=totals,
        chart=chart,
        ahead=invoice_ahead(tenant.id, figures.today()),
        kinds=[(k, kind_short_title(k)) for k in KINDS],
        subscription_words=subscription_words,
    )


@bp.get("/membres.csv")
@requires(Role.coordinator, Role.admin)
def members_csv():
    tenant = require_tenant()
    if tenant.kind != "umbrella":
        abort(404)
    rows, _totals = rollup.rollup(tenant.id)
    locale = "en" if english() else "fr"
    name = pick("communes-membres.csv", "member-towns.csv", locale)
    return Response(
        rollup.rollup_csv(rows, locale),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _member_of_here(slug: str):
    """A current member town of the bound umbrella, else 404 (never another territory's)."""
    umbrella = require_tenant()
    if umbrella.kind != "umbrella":
        abort(404)
    found = next((m for m in members_of(db.session, umbrella.id) if m.slug == slug), None)
    if found is None:  # not a member of this umbrella: nothing to tell
        abort(404)
    return umbrella, found.ref()


@bp.route("/membres/<slug>", methods=["GET", "POST"])
@requires(Role.coordinator, Role.admin)
def member(slug: str):
    """A member town seen from its umbrella: read-only, read from the member's own schema; its
    editors invited from here when the umbrella's contract says it manages the towns' teams."""
    umbrella, ref = _member_of_here(slug)
    manages = entitled(umbrella, Feature.member_teams)
    form = MemberInviteForm() if manages else None
    if form is not None and request.method == "POST":
        if not can(Role.coordinator):
            abort(403)
        if form.validate_on_submit():
            invitations.invite(ref, form.email.data, Role.editor, current_user)
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for(".member", slug=slug))
    elif request.method == "POST":
        abort(403)  # this umbrella's contract leaves the towns' teams to them
    facts = content.facts_of_member(ref)
    listings = read_in(ref, rollup.latest_listings)
    imports = read_in(ref, rollup.latest_imports)
    page = render_template(
        "console/member.html",
        tenant=umbrella,
        member=ref,
        team=facts.team,
        texts=facts.texts,
        pages=facts.pages,
        listings=listings,
        imports=imports,
        listing_link=lambda row: territory_link(
            ref, "listings_site.listing", kind=row.kind, external_id=row.external_id
        ),
        invite_form=form if form is not None and can(Role.coordinator) else None,
    )
    return page, 400 if form is not None and form.errors else 200


@bp.get("/membres/<slug>/imports/<int:import_id>/rapport.csv")
@requires(Role.coordinator, Role.admin)
def member_import_report(slug: str, import_id: int):
    """A member town's import report, as its own editors download it (read from its schema)."""
    _umbrella, ref = _member_of_here(slug)
    report = read_in(ref, lambda: rollup.import_report(import_id))
    if report is None:
        abort(404)
    locale = "en" if english() else "fr"
    name = pick(f"rapport-import-{slug}-{import_id}.csv", f"import-{slug}-{import_id}-report.csv")
    return Response(
        report_csv(report, locale),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
