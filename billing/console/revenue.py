"""The revenue page: MRR, ARR, amounts invoiced and received month by month, what is overdue."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_date

from billing.console import common
from billing.console.blueprints import bp
from billing.revenue import revenue_figures
from core.auth.models import Role
from core.auth.permissions import requires
from core.charts import grouped_bars


@bp.get("/")
@requires(Role.billing_admin)
def index():
    figures = revenue_figures(common.today())
    chart = grouped_bars(
        [format_date(m.first_day, "MMM") for m in figures.months],
        [[m.invoiced_cents for m in figures.months], [m.paid_cents for m in figures.months]],
        empty=100_000,  # 1 000 €: an empty year keeps a readable axis
    )
    return render_template("billing/console/revenue.html", figures=figures, chart=chart)
