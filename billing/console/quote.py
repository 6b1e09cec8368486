"""The quote page: the same pricing as `flask billing quote`, with today's catalogue."""

from __future__ import annotations

from flask import Response, render_template, request

from billing.catalogue import CatalogueError, price_list
from billing.console import common
from billing.console.blueprints import bp
from billing.console.forms import QuoteForm
from billing.documents.quote import quote_pdf as draw_quote
from billing.pricing import PricingError
from billing.pricing import quote as price_quote
from billing.seller import seller_identity
from core.auth.models import Role
from core.auth.permissions import requires
from core.extensions import db


def priced(form: QuoteForm):
    """The quote the form's answers ask for (None, the errors on the form, when refused)."""
    if not (request.args and form.validate()):
        return None
    umbrella = form.kind.data == "umbrella"
    members = [form.member_kind.data] * form.members.data if umbrella else []
    try:
        prices = price_list(db.session, common.today())
        return price_quote(prices, form.kind.data, form.options.data or [], members)
    except (PricingError, CatalogueError) as exc:
        form.kind.errors = [*form.kind.errors, str(exc)]
        return None


@bp.get("/devis")
@requires(Role.billing_admin)
def quote():
    form = QuoteForm(request.args)
    result = priced(form)
    page = render_template("billing/console/quote.html", form=form, quote=result, vat_rate="20")
    return page, 400 if form.errors else 200


@bp.get("/devis.pdf")
@requires(Role.billing_admin)
def quote_pdf():
    """The same quote as a PDF to send; a refused one is the page with its errors."""
    form = QuoteForm(request.args)
    result = priced(form)
    if result is None:
        return quote()
    members = form.members.data if form.kind.data == "umbrella" else 0
    pdf = draw_quote(result, form.kind.data, seller_identity(), common.today(), members or 0)
    name = f"devis-{form.kind.data}-{common.today().isoformat()}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
