"""The listings console (`/console/annonces/`): listings, imports, API keys, activity log."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from core.auth.models import Role
from core.auth.permissions import requires
from core.extensions import csrf, db
from core.i18n import english, pick
from core.storage import StorageError, get_storage
from core.tenancy import require_tenant
from ingest.listings import queries
from ingest.listings.apikeys import create_key, revoke
from ingest.listings.console_forms import SCOPE_LABELS, ApiKeyForm, ImportForm
from ingest.listings.declaration import KINDS, fields_of, table_schema
from ingest.listings.form import build_form, error_summary, exists, kept_status, parse_form
from ingest.listings.imports import load_report, recent, report_csv, safe_filename, submit
from ingest.listings.labels import ACTION_LABELS, SOURCE_LABELS, STATUS_LABELS, kind_title, label
from ingest.listings.models import IMPORT_COUNTERS, IMPORT_RUNNING, ApiKey, Listing, ListingImport
from ingest.listings.normed import MAX_BYTES, Issue, NormedFileError
from ingest.listings.picker import picker
from ingest.listings.service import as_input, point_of, save
from ingest.listings.store import publish_or_unpublish
from ingest.listings.templates_xlsx import workbook
from ingest.listings.wording import describe
from sites.console_forms import ConfirmForm

bp = Blueprint(
    "listings_console",
    __name__,
    url_prefix="/console/annonces",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
EDITORS = (Role.admin, Role.editor)


@bp.app_context_processor
def helpers():
    return {
        "kind_title": kind_title,
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "action_labels": ACTION_LABELS,
        "listing_kinds": KINDS,
        "import_status_labels": IMPORT_STATUS_LABELS,
    }


def _listing(listing_id: int) -> Listing:
    """A listing of the bound territory (the session only sees its schema), else 404."""
    found = db.session.get(Listing, listing_id)
    if found is None:
        abort(404)
    return found


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


# --- the list ------------------------------------------------------------------------------------


@bp.get("/")
@requires(*EDITORS)
def index():
    tenant = require_tenant()
    filters = queries.Filters.from_args(request.args)
    page = queries.search(filters)
    return render_template(
        "console/listings/list.html",
        tenant=tenant,
        filters=filters,
        page=page,
        communes=queries.territory_communes(),
        confirm=ConfirmForm(),
    )


@bp.post("/statut")
@requires(*EDITORS)
def bulk_status():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action not in ("publish", "unpublish"):
        abort(400)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][: queries.PAGE_SIZE * 4]
    back = request.form.get("next", "")
    back = back if back.startswith("/console/annonces") else url_for(".index")
    if not ids:
        flash(_("Select at least one listing."), "error")
        return redirect(back)
    listings = list(db.session.execute(select(Listing).where(Listing.id.in_(ids))).scalars())
    _change_status(listings, "published" if action == "publish" else "unpublished")
    return redirect(back)


def _change_status(listings: list[Listing], status: str) -> None:
    result = publish_or_unpublish(listings, status, current_user.id)
    if result.changed:
        message = (
            _("%(n)s listing(s) published.", n=len(result.changed))
            if status == "published"
            else _("%(n)s listing(s) unpublished.", n=len(result.changed))
        )
        flash(message, "success")
    for listing in result.expired:
        flash(
            _(
                "“%(title)s” is past its expiry date: change the date before publishing it.",
                title=listing.title,
            ),
            "error",
        )
    if not result.changed and not result.expired:
        flash(_("Nothing to change."), "success")


# --- create, edit, duplicate ---------------------------------------------------------------------


def _render_form(kind, groups, *, listing=None, duplicate_of=None, status=200):
    point = None
    if listing is not None and listing.geom is not None:
        point = point_of(listing)
    commune = next(
        (i.value for g in groups for i in g.inputs if i.name == "commune_insee" and i.value), None
    )

    communes = queries.territory_communes()
    picker_map = picker(
        point if listing is not None and not listing.location_approximate else None,
        commune,
        [code for code, _name in communes],
    )
    body = render_template(
        "console/listings/form.html",
        tenant=require_tenant(),
        kind=kind,
        groups=groups,
        errors=error_summary(groups),
        listing=listing,
        duplicate_of=duplicate_of,
        point=point,
        picker=picker_map,
        communes=communes,
        form=ConfirmForm(),
        confirm=ConfirmForm(),
    )
    return body, status


@bp.route("/nouvelle/<kind>", methods=["GET", "POST"])
@requires(*EDITORS)
def create(kind: str):
    _kind(kind)
    if request.method == "GET":
        return _render_form(kind, build_form(kind))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    item = parse_form(kind, request.form)
    if exists(kind, item["external_id"]):
        errors = {"external_id": [_("A listing of this kind already has this identifier.")]}
        return _render_form(kind, build_form(kind, item, errors), status=422)
    item["status"] = kept_status(None)
    saved = save(kind, [item], source="manual", strict=False, account_id=current_user.id)
    if saved.errors:  # 422: the request's commit point rolls the refused save back
        return _render_form(kind, build_form(kind, item, saved.errors[0]), status=422)
    listing_id, _action = saved.outcome.results[item["external_id"]]
    flash(_("Listing saved as a draft."), "success")
    return redirect(url_for(".edit", listing_id=listing_id))


@bp.get("/<int:listing_id>/dupliquer")
@requires(*EDITORS)
def duplicate(listing_id: int):
    source = _listing(listing_id)
    values = as_input(source)
    values["external_id"] = None  # the editor chooses the copy's own identifier
    values.pop("status", None)
    groups = build_form(source.kind, values)
    return _render_form(source.kind, groups, duplicate_of=source)


@bp.route("/<int:listing_id>", methods=["GET", "POST"])
@requires(*EDITORS)
def edit(listing_id: int):
    listing = _listing(listing_id)
    kind, locked = listing.kind, frozenset({"external_id"})
    if request.method == "GET":
        return _render_form(
            kind, build_form(kind, as_input(listing), locked=locked), listing=listing
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    item = parse_form(kind, request.form)
    # The identifier is the upsert's key: changing it would write another listing.
    item["external_id"] = listing.external_id
    item["status"] = kept_status(listing)
    saved = save(kind, [item], source="manual", strict=False, account_id=current_user.id)
    if saved.errors:  # 422: the request's commit point rolls the refused save back
        groups = build_form(kind, item, saved.errors[0], locked=locked)
        return _render_form(kind, groups, listing=listing, status=422)
    _id, action = saved.outcome.results[listing.external_id]
    flash(_("Nothing changed.") if action == "unchanged" else _("Listing saved."), "success")
    return redirect(url_for(".edit", listing_id=listing.id))


@bp.post("/<int:listing_id>/publier")
@requires(*EDITORS)
def publish(listing_id: int):
    listing = _listing(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _change_status([listing], "published")
    return redirect(url_for(".edit", listing_id=listing.id))


@bp.post("/<int:listing_id>/depublier")
@requires(*EDITORS)
def unpublish(listing_id: int):
    listing = _listing(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _change_status([listing], "unpublished")
    return redirect(url_for(".edit", listing_id=listing.id))


# --- the activity log --------------------------------------------------------------------------


@bp.get("/activite")
@requires(*EDITORS)
def activity():
    tenant = require_tenant()
    listing_id = request.args.get("listing", type=int)
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    page = request.args.get("page", 1, type=int)
    events, page, pages = queries.activity(listing_id=listing_id, kind=kind, page=page)
    names = queries.account_names(e.account_id for e in events)
    key_ids = {e.api_key_id for e in events if e.api_key_id}
    keys = (
        dict(db.session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(key_ids))).all())
        if key_ids
        else {}
    )
    listing_ids = {e.listing_id for e in events if e.listing_id}
    titles = (
        dict(
            db.session.execute(
                select(Listing.id, Listing.title).where(Listing.id.in_(listing_ids))
            ).all()
        )
        if listing_ids
        else {}
    )
    listing = db.session.get(Listing, listing_id) if listing_id else None
    return render_template(
        "console/listings/activity.html",
        tenant=tenant,
        events=events,
        names=names,
        keys=keys,
        titles=titles,
        listing=listing,
        kind=kind,
        page=page,
        pages=pages,
        field_label=_field_label,
    )


def _field_label(kind: str, name: str) -> str:
    if name == "status":
        return _("Status")
    for f in fields_of(kind) if kind in KINDS else ():
        if f.name == name:
            return label(f)
    return name


# --- normed files: downloads, uploads, history, reports ------------------------------------------


@bp.get("/modeles")
@requires(*EDITORS)
def templates():
    return render_template("console/listings/templates.html", tenant=require_tenant())


@bp.get("/modeles/<kind>.json")
@requires(*EDITORS)
def schema_file(kind: str):
    body = json.dumps(table_schema(_kind(kind)), ensure_ascii=False, indent=2) + "\n"
    return _download(body.encode(), f"{kind}.schema.json", "application/json")


@bp.get("/modeles/<kind>.xlsx")
@requires(*EDITORS)
def template_file(kind: str):
    return _download(workbook(_kind(kind)), f"modele-{kind}.xlsx", XLSX)


@bp.get("/modeles/<kind>-exemple.xlsx")
@requires(*EDITORS)
def example_file(kind: str):
    return _download(workbook(_kind(kind), example=True), f"exemple-{kind}.xlsx", XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _import_form() -> ImportForm:
    form = ImportForm()
    form.kind.choices = [SelectChoice(k, kind_title(k)) for k in KINDS]
    return form


@bp.route("/imports", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, once the upload's own size limit is in place
@requires(*EDITORS)
def imports():
    tenant = require_tenant()
    if request.method == "POST":
        # The normed-file limit, not the app's general one, with room for the form around it.
        request.max_content_length = MAX_BYTES + 64 * 1024
    form = _import_form()
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        data = upload.read(MAX_BYTES + 1)
        record, problem = _submit(form, data, upload.filename or "fichier")
        if record is not None:
            return redirect(url_for(".import_detail", import_id=record.id))
        form.file.errors.append(problem)
    history = recent(100)
    return render_template(
        "console/listings/imports.html",
        tenant=tenant,
        form=form,
        history=history,
        names=queries.account_names(i.created_by_id for i in history),
        max_mb=MAX_BYTES // 2**20,
    )


def _submit(form, data: bytes, filename: str):
    try:
        record = submit(
            form.kind.data,
            data,
            filename,
            account=current_user,
            snapshot=form.snapshot.data,
            dry_run=form.dry_run.data,
            valid_only=form.valid_only.data,
            locale=str(get_locale()),
        )
    except NormedFileError as exc:  # refused before anything is stored
        return None, describe(Issue(exc.code, params=exc.params), str(get_locale()))
    return record, None


def _import(import_id: int) -> ListingImport:
    record = db.session.get(ListingImport, import_id)
    if record is None:
        abort(404)
    return record


PROGRESS_FIELDS = ("status", *IMPORT_COUNTERS)


@bp.get("/imports/<int:import_id>")
@requires(*EDITORS)
def import_detail(import_id: int):
    record = _import(import_id)
    report = None if record.status in IMPORT_RUNNING else _report(record, load_report)
    names = queries.account_names([record.created_by_id])
    return render_template(
        "console/listings/import.html",
        tenant=require_tenant(),
        record=record,
        report=report,
        running=record.status in IMPORT_RUNNING,
        uploader=names.get(record.created_by_id),
        locale="en" if english() else "fr",
    )


def _report(record, load_report):
    try:
        return load_report(record)
    except StorageError:
        return None


@bp.get("/imports/<int:import_id>.json")
@requires(*EDITORS)
def import_progress(import_id: int):
    record = _import(import_id)
    body = {name: getattr(record, name) for name in PROGRESS_FIELDS}
    body["running"] = record.status in IMPORT_RUNNING
    body["status_label"] = str(IMPORT_STATUS_LABELS.get(record.status, record.status))
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/imports/<int:import_id>/fichier")
@requires(*EDITORS)
def import_file(import_id: int):
    record = _import(import_id)
    try:
        data = get_storage().for_tenant(require_tenant().slug).get(record.file_key)
    except StorageError:
        abort(404)
    # Served as an opaque download whatever it claims to be: it came from outside.
    return _download(data, safe_filename(record.filename), "application/octet-stream")


@bp.get("/imports/<int:import_id>/rapport.csv")
@requires(*EDITORS)
def import_report_csv(import_id: int):
    record = _import(import_id)
    report = _report(record, load_report)
    if report is None:
        abort(404)
    locale = "en" if english() else "fr"
    name = pick(f"rapport-import-{record.id}.csv", f"import-{record.id}-report.csv")
    return _download(report_csv(report, locale), name, "text/csv; charset=utf-8")


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


IMPORT_STATUS_LABELS = {
    "queued": _l("Waiting for a worker"),
    "reading": _l("Reading and checking"),
    "applying": _l("Applying"),
    "done": _l("Done"),
    "rejected": _l("Rejected: nothing imported"),
    "failed": _l("Failed"),
}
