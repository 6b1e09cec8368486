"""Territory names, page texts and display names are shown, never run."""

from __future__ import annotations

from core.extensions import db
from core.tenancy import tenant_scope
from sites.models import Page

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)",
    "</style><script>alert(4)</script>",
]


def test_payloads_render_inert_everywhere(app, make_tenant, make_account, visitor):
    name = "Saint-" + PAYLOADS[1]
    town = make_tenant(name=name)
    with app.app_context(), tenant_scope(town):
        db.session.add(Page(slug="infos", title=PAYLOADS[0], body=" ".join(PAYLOADS)))
        db.session.commit()
    texts = {
        f"{c}-{f}": " ".join(PAYLOADS)
        for c in ("fr", "en")
        for f in ("title", "introduction", "axis_productive", "axis_tourism", "axis_residential")
    }
    admin_email = make_account(roles=[("admin", town)], name=PAYLOADS[3])
    site = visitor(town)
    site.login(admin_email)
    assert site.post("/console/textes", texts).status_code == 302
    billing = visitor("admin.vivrau.localhost")
    billing.login(make_account(roles=[("billing_admin", None)]))
    pages = [
        site.get(p)
        for p in (
            "/",
            "/pages/infos",
            "/console/",
            "/console/equipe",
            "/console/textes",
            "/compte/",
        )
    ]
    pages.append(billing.get("/plateforme/"))
    for response in pages:
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        for payload in PAYLOADS:
            assert payload not in body
        assert "<script>" not in body and "<img src=x" not in body
        assert "&lt;script&gt;" in body or "&lt;img src=x" in body
