"""The quote page: the same pricing as `flask billing quote`, with today's catalogue."""

from __future__ import annotations

from flask import render_template, request

from billing.catalogue import CatalogueError, price_list
from billing.console import common
from billing.console.blueprints import bp
from billing.console.forms import QuoteForm
from billing.pricing import PricingError
from billing.pricing import quote as price_quote
from core.auth.models import Role
from core.auth.permissions import requires
from core.extensions import db


@bp.get("/devis")
@requires(Role.billing_admin)
def quote():
    form = QuoteForm(request.args)
    result = None
    if request.args and form.validate():
        umbrella = form.kind.data == "umbrella"
        members = [form.member_kind.data] * form.members.data if umbrella else []
        try:
            prices = price_list(db.session, common.today())
            result = price_quote(prices, form.kind.data, form.options.data or [], members)
        except (PricingError, CatalogueError) as exc:
            form.kind.errors = [*form.kind.errors, str(exc)]
    page = render_template("billing/console/quote.html", form=form, quote=result, vat_rate="20")
    return page, 400 if form.errors else 200
