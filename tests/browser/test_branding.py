"""A territory's chosen font and colours, read as Chromium computes them on its public pages."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.support import axe_violations, shot
from tests.support import PASSWORD, host

LOOK = {
    "theme": "default",
    "primary": "#7a1f1f",
    "on_primary": "#ffffff",
    "background": "#fffdf7",
    "text": "#222222",
    "font": "rounded",
}
PAGES = ("/", "/recherche", "/annonces/real_estate", "/compte/connexion", "/compte/inscription")
#: What the page's body and header compute to, and whether the font file really drew the text.
STYLE = """async () => {
  await document.fonts.ready;
  const body = getComputedStyle(document.body);
  const header = getComputedStyle(document.querySelector(".site-header"));
  return {
    family: body.fontFamily,
    color: body.color,
    background: body.backgroundColor,
    header: header.backgroundColor,
    loaded: [...document.fonts].filter((f) => f.status === "loaded").map((f) => f.family),
  };
}"""


def test_font_and_colours_apply_on_every_public_page(
    make_tenant, make_account, visitor, live_server, browser
):
    town = make_tenant(name="Murat")
    admin = visitor(town)
    admin.login(make_account(roles=[("admin", town)]))
    assert admin.post("/console/apparence", LOOK).status_code == 302
    site = f"http://{host(town)}:{live_server}"
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
        page = context.new_page()
        outside = []
        page.on("request", lambda r, seen=outside: seen.append(r.url) if site not in r.url else 0)
        try:
            for path in PAGES:
                page.goto(site + path)
                expect(page.locator("main")).to_be_visible()
                style = page.evaluate(STYLE)
                assert style["family"].startswith("Nunito"), (path, style)
                assert set(style["loaded"]) == {"Nunito"}, (path, style)  # the served file
                assert style["color"] == "rgb(34, 34, 34)", (path, style)
                assert style["background"] == "rgb(255, 253, 247)", (path, style)
                assert style["header"] == "rgb(122, 31, 31)", (path, style)
            shot(page, f"branding-{width}")
            assert outside == []
        finally:
            context.close()


def test_the_look_form_previews_colours_and_their_contrast_as_one_types(
    make_tenant, make_account, live_server, browser
):
    town = make_tenant(name="Riom")
    email = make_account(roles=[("admin", town)])
    site = f"http://{host(town)}:{live_server}"
    # axe-core is injected: the page's CSP is bypassed for it alone.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", bypass_csp=True
    )
    page = context.new_page()
    try:
        page.goto(site + "/compte/connexion")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.goto(site + "/console/apparence")
        header = page.locator('#look-preview [data-part="header"]')
        page.fill("#primary", "#7fb3d5")  # too light under white text
        expect(header).to_have_css("background-color", "rgb(127, 179, 213)")
        ratio = page.locator('#look-preview [data-ratio="header"]')
        expect(ratio).to_contain_text("2,3:1")
        expect(ratio).to_have_class("too-low")
        # The picker follows the text, and the text the picker.
        assert page.input_value('input[data-colour-for="primary"]') == "#7fb3d5"
        page.locator('input[data-colour-for="text"]').fill("#222222")
        assert page.input_value("#text") == "#222222"
        page.fill("#primary", "#1f4e79")
        expect(ratio).not_to_have_class("too-low")
        violations = axe_violations(page)
        assert violations == [], violations
        shot(page, "look-preview")
    finally:
        context.close()
