"""The leads console (`/console/prospects/`): funnel, communes, periods, list, CSV export, and on
an umbrella the figures of each member town.

Where leads live: a search on a site is recorded in that site's schema. On an umbrella's site
the leads go to the umbrella's schema, keyed by the member communes the green cells belong to;
its team (coordinators included) sees them per member town, and identities only of people who
consented to the umbrella. A member town's own console shows the leads captured on its own site;
the umbrella's member page adds those as counts only (that consent was given to the member).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from core.auth.models import Role
from core.auth.permissions import requires
from core.auth.service import audit
from core.csvexport import csv_bytes
from core.extensions import db
from core.fanout import read_in
from core.registry import members_of
from core.tenancy import require_tenant
from ingest.reference.territory import commune_codes
from sites.leads import report
from tenants.entitlements import Feature, guard

bp = Blueprint(
    "leads_console", __name__, url_prefix="/console/prospects", template_folder="templates"
)
bp.before_request(guard(Feature.base))
READERS = (Role.admin, Role.editor, Role.coordinator)


def _member(umbrella, slug: str):
    """A current member town of this umbrella, else 404 (never another territory's)."""
    found = next((m for m in members_of(db.session, umbrella.id) if m.slug == slug), None)
    if found is None:
        abort(404)
    return found


def _member_codes(member) -> tuple[str, ...]:
    return tuple(commune_codes(member.ref(), member.official_code))


def _filters(tenant):
    filters = report.Filters.from_args(request.args)
    member = None
    if filters.member:
        if tenant.kind != "umbrella":
            abort(404)
        member = _member(tenant, filters.member)
        filters = replace(filters, communes=_member_codes(member))
    return filters, member


@bp.get("/")
@requires(*READERS)
def index():
    tenant = require_tenant()
    filters, member = _filters(tenant)
    communes = report.per_commune(replace(filters, commune=None, stage=None))
    return render_template(
        "console/leads/index.html",
        tenant=tenant,
        filters=filters,
        member=member,
        funnel=report.funnel(filters),
        communes=communes,
        periods=report.over_time(filters),
        page=report.lead_page(filters),
        stage_label=report.stage_label,
    )


def _when(value: datetime | None) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def _amount(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


@bp.get("/export.csv")
@requires(*READERS)
def export():
    tenant = require_tenant()
    filters, member = _filters(tenant)
    header = (
        _("Contact"),
        _("Name"),
        _("E-mail"),
        _("INSEE code"),
        _("Commune"),
        _("Stage"),
        _("First seen"),
        _("Last seen"),
        _("Prospect since"),
        _("Criteria of the last search"),
        _("Household"),
        _("Budget (€)"),
        _("Messages to advertisers"),
        _("Last message about"),
        _("Came from"),
        _("Consent"),
    )
    identified = 0
    rows = []
    for row in report.all_rows(filters):
        consented = row.email is not None
        identified += consented
        rows.append(
            (
                row.label,
                row.name or "",
                row.email or "",
                row.commune,
                row.commune_name,
                report.stage_label(row.stage),
                _when(row.first_seen_at),
                _when(row.last_seen_at),
                _when(row.prospect_at),
                " ; ".join(row.criteria or ()),
                row.household or "",
                _amount(row.budget),
                row.messages,
                row.last_listing or "",
                report.origin_label(row.origin),
                _("yes") if consented else _("no"),
            )
        )
    body = csv_bytes(header, rows)
    # Who took people's details out of the platform, and how many: the RGPD asks for a trace.
    audit("leads.exported", actor=current_user, rows=len(rows), identified=identified)
    name = f"prospects-{tenant.slug}-{datetime.now(report.PARIS):%Y-%m-%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/membres")
@requires(Role.coordinator, Role.admin)
def members():
    """Per member town: leads of the umbrella's site in its communes, and of its own site."""
    umbrella = require_tenant()
    if umbrella.kind != "umbrella":
        abort(404)
    filters = report.Filters.from_args(request.args)
    filters = replace(filters, commune=None, stage=None, member=None, page=1)
    lines = []
    for town in members_of(db.session, umbrella.id):
        codes = _member_codes(town)
        lines.append(
            {
                "town": town.ref(),
                "here": report.funnel(replace(filters, communes=codes)),
                "communes": report.per_commune(replace(filters, communes=codes)),
            }
        )
    for line in lines:  # each member's own site, read from its own schema
        ref = line["town"]
        line["own"] = read_in(ref, lambda: report.funnel(filters)) if ref.active else None
    return render_template(
        "console/leads/members.html", tenant=umbrella, filters=filters, lines=lines
    )
