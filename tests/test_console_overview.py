"""The territory console's overview: this month against the last, each figure from its own
table, and what the subscription covers today."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import text

from core.extensions import db
from core.registry import Tenant
from core.tenancy import tenant_scope
from sites.overview import month_starts
from tenants import entitlements
from tenants.entitlements import Feature
from tenants.grants import grant


def row(page: str, key: str) -> list[str]:
    found = re.search(rf'<tr id="trend-{key}">(.*?)</tr>', page, re.S)
    assert found, key
    return [
        re.sub(r"<[^>]+>|\s+", " ", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    ]


def test_the_overview_compares_this_month_with_the_last(app, make_tenant, make_account, visitor):
    town = make_tenant(name="Allanche", entitled=False)
    until = entitlements.today() + timedelta(days=40)
    with app.app_context():
        tenant = db.session.get(Tenant, town.id)
        grant(tenant, [Feature.base, Feature.site], None, until, "mise en place")
        db.session.commit()
    last, this, _next = month_starts(entitlements.today())
    with app.app_context(), tenant_scope(town):
        for account, seen, prospect in ((1, this, this), (2, this, None), (3, last, last)):
            db.session.execute(
                text(
                    "INSERT INTO leads (account_id, commune_insee, stage, first_seen_at, "
                    "prospect_at) VALUES (:a, '15001', :s, :f, :p)"
                ),
                {
                    "a": account,
                    "s": "prospect" if prospect else "contact",
                    "f": seen,
                    "p": prospect,
                },
            )
        db.session.commit()
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    page = admin.get("/console/").get_data(as_text=True)
    assert row(page, "contacts") == ["2", "1", "+1"]
    assert row(page, "prospects") == ["1", "1", "="]
    assert row(page, "listings") == ["0", "0", "="]
    subscription = re.search(r'<table id="subscription">(.*?)</table>', page, re.S).group(1)
    assert subscription.count("souscrit") == 4  # two "souscrit", two "non souscrit"
    assert subscription.count("non souscrit") == 2
    assert (until - timedelta(days=1)).strftime("%Y") in subscription
    assert 'href="/console/prospects/"' in page and 'href="/console/annonces/"' in page
