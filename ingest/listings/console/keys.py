"""The listings console's API keys (admins): create one (shown once), list, revoke."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.models import Role
from core.auth.permissions import requires
from core.extensions import db
from core.forms import ConfirmForm
from core.tenancy import require_tenant
from ingest.listings import queries
from ingest.listings.apikeys import create_key, revoke
from ingest.listings.console.blueprint import bp
from ingest.listings.console.forms import SCOPE_LABELS, ApiKeyForm
from ingest.listings.models import ApiKey

# --- API keys (admins) ---------------------------------------------------------------------------


@bp.route("/cles", methods=["GET", "POST"])
@requires(Role.admin)
def keys():
    tenant = require_tenant()
    form = ApiKeyForm()
    plaintext = None
    if request.method == "POST" and form.validate_on_submit():
        _key, plaintext = create_key(form.name.data, form.scopes.data, current_user)
        form = ApiKeyForm(formdata=None)
    rows = list(db.session.execute(select(ApiKey).order_by(ApiKey.id.desc())).scalars())
    names = queries.account_names([k.created_by_id for k in rows] + [k.revoked_by_id for k in rows])
    response = Response(
        render_template(
            "console/listings/keys.html",
            tenant=tenant,
            form=form,
            keys=rows,
            names=names,
            plaintext=plaintext,
            scope_labels=SCOPE_LABELS,
            confirm=ConfirmForm(),
        )
    )
    # The page may hold a key shown once: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cles/<int:key_id>/revoquer")
@requires(Role.admin)
def revoke_key(key_id: int):
    key = db.session.get(ApiKey, key_id)
    if key is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    revoke(key, current_user)
    flash(_("The key “%(name)s” is revoked: it no longer opens the API.", name=key.name), "success")
    return redirect(url_for(".keys"))
