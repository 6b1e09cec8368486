"""`/compte/partage`: the person chooses, territory by territory, whether to share their details."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.auth.models import Account
from core.auth.service import audit
from core.extensions import db
from core.fanout import write_in
from core.forms import ConfirmForm
from core.i18n import select_locale
from core.signals import account_verified
from core.tenancy import current_tenant
from core.themes import render_site
from sites.leads import consent

bp = Blueprint("leads_account", __name__, url_prefix="/compte")


@bp.app_context_processor
def registration_box():
    """`share_wording()`: the optional consent box of the registration form (a territory's
    site only: None on the console host)."""

    def share_wording() -> tuple[str, str] | None:
        tenant = current_tenant()
        return consent.wording(tenant.name, select_locale()) if tenant is not None else None

    return {"share_wording": share_wording}


@account_verified.connect
def consent_at_registration(
    account_id: int, territory=None, share: bool = False, locale: str = "fr", **_data
) -> None:
    """A person who ticked the box when registering on a territory's site consents to it once
    their address is confirmed (an unproven address shares nothing)."""
    if territory is None or not share:
        return
    write_in(territory, lambda: consent.grant(account_id, territory.name, locale))


def _share(account_id: int, territory, wanted: bool, locale: str) -> None:
    """Grant or withdraw the person's consent on the bound territory, with its audit event."""
    actor = db.session.get(Account, account_id)
    if wanted:
        consent.grant(account_id, territory.name, locale)
        audit("lead.consent_granted", actor=actor, tenant=territory)
    else:
        consent.withdraw(account_id)
        audit("lead.consent_withdrawn", actor=actor, tenant=territory)


@bp.route("/partage", methods=["GET", "POST"])
@login_required
def sharing():
    here = current_tenant()
    account_id = current_user.id  # read once: the loop below moves between territories
    form = ConfirmForm()  # the boxes are read by territory id
    locale = str(get_locale() or "fr")
    verified = current_user.is_verified
    if form.validate_on_submit():
        ticked = set(request.form.getlist("share"))
        changed = 0
        # The boxes the person could see, recomputed: a posted id of any other territory is
        # ignored.
        for ref, granted in consent.territories_of(current_user, here):
            wanted = str(ref.id) in ticked
            if wanted == granted or (wanted and not verified):  # withdrawing is always possible
                continue
            # Each territory's consent lives in its own schema, and commits there.
            write_in(ref, lambda ref=ref, wanted=wanted: _share(account_id, ref, wanted, locale))
            changed += 1
        flash(
            _("Your choices are saved.") if changed else _("Nothing changed."),
            "success",
        )
        return redirect(url_for(".sharing"))
    rows = [
        (ref, granted, *consent.wording(ref.name, locale))
        for ref, granted in consent.territories_of(current_user, here)
    ]
    return render_site("account/sharing.html", form=form, rows=rows, verified=verified)
