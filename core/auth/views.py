"""Account pages on every territory's site (and on the console host): register, log in, reset…"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from core.auth import invitations, service
from core.auth.forms import (
    DeleteForm,
    ForgotForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResendForm,
    ResetForm,
)
from core.auth.login import end_session, start_session
from core.auth.personal_data import export_personal_data, request_erasure
from core.extensions import limiter
from core.forms import ConfirmForm
from core.i18n import select_locale
from core.redirects import safe_next
from core.tenancy import current_tenant
from core.themes import render_site

bp = Blueprint("account", __name__, url_prefix="/compte")


def error_text(code: str) -> str:
    return {
        "link_expired": _("This link has expired: ask for a new one."),
        "link_invalid": _("This link is not valid (already used, or altered)."),
        "password_length": _("The password must have 12 to 128 characters."),
        "wrong_password": _("The current password is not right."),
        "invitation_other_address": _(
            "This invitation was sent to another address: log in with that one."
        ),
    }.get(code, _("This operation is not possible."))


def throttled_text(seconds: int) -> str:
    return ngettext(
        "Too many failed attempts for this address: try again in %(num)d second.",
        "Too many failed attempts for this address: try again in %(num)d seconds.",
        seconds,
    )


def message(title: str, text: str) -> str:
    """A page that only says something (mail sent, link expired…)."""
    return render_site("account/message.html", title=title, message=text)


def login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def account_key() -> str:
    """Per account limits count the address typed, platform-wide (accounts are)."""
    email = service.normalise_email(request.form.get("email") or "").lower()
    return "account:" + service.pseudonym("email", email)


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    if g.get("console"):  # the platform's people are created by the command line, not here
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            service.register(
                form.email.data,
                form.password.data,
                form.display_name.data,
                select_locale(),
                share=bool(form.share.data),
            )
        except service.AuthError as exc:
            form.password.errors.append(error_text(exc.code))
        else:
            # Same answer whether or not the address already had an account.
            return check_mailbox(form.email.data)
    return render_site("account/register.html", form=form)


def check_mailbox(email: str) -> str:
    """After registering or asking again: where the link went, how to get another one, and
    what the account may do meanwhile."""
    return render_site("account/check_mail.html", email=email, resend_form=ResendForm(email=email))


@bp.get("/verifier/<token>")
def verify(token: str):
    try:
        account = service.verify_email(token)
    except service.AuthError as exc:
        return message(_("Confirmation failed"), error_text(exc.code)), 400
    if current_user.is_authenticated and current_user.id == account.id:
        flash(_("Your address is confirmed."), "success")
        return redirect(url_for("account.profile"))
    flash(_("Your address is confirmed. You can log in."), "success")
    return redirect(url_for("account.login"))


def signed_in_key() -> str:
    return f"account-id:{current_user.id}"


@bp.post("/confirmation")
@login_required
@limiter.limit("3 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=signed_in_key, methods=["POST"])
def resend_verification():
    """A new link to confirm the address (the first one may be lost, or expired)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.is_verified:
        flash(_("Your address is already confirmed."), "success")
    else:
        service.send_verification(current_user)
        flash(
            _("A new link is on its way to %(email)s.", email=current_user.email),
            "success",
        )
    return redirect(safe_next(url_for("account.profile")))


@bp.route("/confirmation/nouveau-lien", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=account_key, methods=["POST"])
def resend_by_address():
    """A new confirmation link without logging in (the first mail lost, or expired)."""
    form = ResendForm()
    if form.validate_on_submit():
        service.resend_verification(form.email.data)
        return check_mailbox(form.email.data)
    return render_site("account/resend.html", form=form)


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"], deduct_when=login_failed)
def login():
    """Five failures a minute per client address; per account, growing waits (throttle)."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            account = service.authenticate(form.email.data, form.password.data)
        except service.Throttled as exc:
            g.login_failed = True  # counts against the address: waiting is not guessing faster
            form.password.errors.append(throttled_text(exc.seconds))
            page = render_site("account/login.html", form=form)
            return page, 429, {"Retry-After": str(exc.seconds)}
        if account is not None and account.deletion_requested_at is None:
            start_session(account)
            return redirect(safe_next(url_for("account.profile")))
        g.login_failed = True  # the page answers 200: the request keeps the audit event
        form.password.errors.append(_("Wrong e-mail address or password."))
    return render_site("account/login.html", form=form)


@bp.post("/deconnexion")
def logout():
    end_session()
    return redirect("/")


@bp.post("/deconnexion-partout")
@login_required
def logout_everywhere():
    """Every session of the account ends, on every device and territory, this one included."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.log_out_everywhere(current_user)
    end_session()
    flash(_("You are logged out everywhere. Log in again here if you wish."), "success")
    return redirect(url_for("account.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
@limiter.limit("3 per 15 minutes", key_func=account_key, methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        return message(
            _("Check your mailbox"),
            _(
                "If an account uses %(email)s, a link to choose a new password is on its way.",
                email=form.email.data,
            ),
        )
    return render_site("account/forgot.html", form=form)


@bp.route("/nouveau-mot-de-passe/<token>", methods=["GET", "POST"])
def reset(token: str):
    try:
        service.account_for_reset(token)
    except service.AuthError as exc:
        return message(_("Link not valid"), error_text(exc.code)), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except service.AuthError as exc:
            form.password.errors.append(error_text(exc.code))
            return render_site("account/reset.html", form=form), 400
        flash(_("Your password is changed. Log in with it."), "success")
        return redirect(url_for("account.login"))
    return render_site("account/reset.html", form=form)


def render_profile(profile_form=None, password_form=None, delete_form=None):
    return render_site(
        "account/profile.html",
        profile_form=profile_form or ProfileForm(obj=current_user),
        password_form=password_form or PasswordForm(),
        delete_form=delete_form or DeleteForm(),
        everywhere_form=ConfirmForm(),
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data.strip()
        current_user.locale = form.locale.data
        flash(_("Your details are saved."), "success")
        return redirect(url_for("account.profile"))
    return render_profile(profile_form=form)


@bp.post("/mot-de-passe")
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.password.data)
        except service.Throttled as exc:
            form.current.errors.append(throttled_text(exc.seconds))
            return render_profile(password_form=form), 429, {"Retry-After": str(exc.seconds)}
        except service.AuthError as exc:
            form.current.errors.append(error_text(exc.code))
            # 200: the request keeps what the failure did (the owner's warning, if it is due)
            return render_profile(password_form=form), 200 if exc.code == "wrong_password" else 400
        # This session carries the new version; others end. The account itself, not the
        # proxy: Flask-Login keeps what it is given as the current user (a proxy to itself).
        start_session(current_user._get_current_object())
        flash(_("Your password is changed; your other sessions are closed."), "success")
        return redirect(url_for("account.profile"))
    return render_profile(password_form=form), 400


@bp.get("/mes-donnees.json")
@login_required
def my_data():
    payload = json.dumps(
        export_personal_data(current_user), ensure_ascii=False, indent=2, default=str
    )
    return Response(
        payload,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mes-donnees.json"'},
    )


@bp.post("/supprimer")
@login_required
def delete():
    form = DeleteForm()
    try:
        right = form.validate_on_submit() and service.confirm_password(
            current_user, form.password.data
        )
    except service.Throttled as exc:
        flash(throttled_text(exc.seconds), "error")
        return redirect(url_for("account.profile"))
    if not right:
        flash(_("Wrong password: your account is not deleted."), "error")
        return redirect(url_for("account.profile"))
    request_erasure(current_user)
    end_session()
    return message(
        _("Account deleted"),
        _("Your account and your data are being erased everywhere. Thank you for your visit."),
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    tenant = current_tenant()
    if tenant is None:
        abort(404)
    try:
        invitation = invitations.pending_invitation(token, tenant)
    except service.AuthError as exc:
        return message(_("Invitation not valid"), error_text(exc.code)), 400
    form = ConfirmForm()
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            invitations.accept_invitation(token, current_user, tenant)
        except service.AuthError as exc:
            flash(error_text(exc.code), "error")
        else:
            flash(_("Welcome to the team of %(name)s.", name=tenant.name), "success")
            return redirect(url_for("territory_console.overview"))
    return render_site("account/invitation.html", invitation=invitation, form=form)
