"""The listings console's normed files: schema and template downloads, uploads, the history of
imports, each import's progress, report and kept file."""

from __future__ import annotations

import json

from flask import (
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
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.auth.permissions import requires
from core.extensions import csrf, db
from core.forms import ConfirmForm
from core.i18n import english, pick
from core.storage import StorageError, get_storage
from core.tenancy import require_tenant
from ingest.listings import queries
from ingest.listings.console.blueprint import EDITORS, bp, kind_or_404
from ingest.listings.console.forms import ImportForm
from ingest.listings.declaration import KINDS, table_schema
from ingest.listings.imports import recent, safe_filename, submit
from ingest.listings.labels import IMPORT_STATUS_LABELS, kind_title
from ingest.listings.models import IMPORT_COUNTERS, IMPORT_RUNNING, INTERRUPTED, ListingImport
from ingest.listings.normed import MAX_BYTES, Issue, NormedFileError
from ingest.listings.recovery import can_run_again, run_again
from ingest.listings.reports import load_report, report_csv
from ingest.listings.templates_xlsx import workbook
from ingest.listings.wording import describe, warning_title

# --- normed files: downloads, uploads, history, reports ------------------------------------------


@bp.get("/modeles")
@requires(*EDITORS)
def templates():
    return render_template("console/listings/templates.html", tenant=require_tenant())


@bp.get("/modeles/<kind>.json")
@requires(*EDITORS)
def schema_file(kind: str):
    body = json.dumps(table_schema(kind_or_404(kind)), ensure_ascii=False, indent=2) + "\n"
    return _download(body.encode(), f"{kind}.schema.json", "application/json")


@bp.get("/modeles/<kind>.xlsx")
@requires(*EDITORS)
def template_file(kind: str):
    return _download(workbook(kind_or_404(kind)), f"modele-{kind}.xlsx", XLSX)


@bp.get("/modeles/<kind>-exemple.xlsx")
@requires(*EDITORS)
def example_file(kind: str):
    return _download(workbook(kind_or_404(kind), example=True), f"exemple-{kind}.xlsx", XLSX)


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
    errors, warnings = report_sections(report["issues"] if report else [])
    return render_template(
        "console/listings/import.html",
        tenant=require_tenant(),
        record=record,
        report=report,
        errors=errors,
        warnings=warnings,
        running=record.status in IMPORT_RUNNING,
        uploader=names.get(record.created_by_id),
        locale="en" if english() else "fr",
        can_run_again=can_run_again(record),
        given_up=record.status == "failed" and record.message == INTERRUPTED,
        confirm=ConfirmForm(),
    )


@bp.post("/imports/<int:import_id>/relancer")
@requires(*EDITORS)
def import_run_again(import_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _import(import_id)
    if run_again(import_id):
        flash(_("The import will run again in a moment, from the file sent."), "success")
    else:
        flash(_("This import cannot be run again: it is running or it has ended."), "error")
    return redirect(url_for(".import_detail", import_id=import_id))


#: Errors listed on the page at most (the CSV report holds them all).
SHOWN_ERRORS = 2000


def report_sections(issues: list[dict]) -> tuple[list[dict], list[tuple[str, list[dict]]]]:
    """A report as people read it: the errors first, by row then column, then the warnings
    grouped by kind (each kind's title and its issues)."""
    errors = sorted(
        (i for i in issues if i["error"]),
        key=lambda i: (i["row"] if i["row"] is not None else 0, i["column"] or ""),
    )
    groups: dict[str, list[dict]] = {}
    for issue in issues:
        if not issue["error"]:
            groups.setdefault(issue["code"], []).append(issue)
    english_reader = english()
    titled = [(warning_title(code, english_reader), found) for code, found in groups.items()]
    return errors[:SHOWN_ERRORS], titled


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
