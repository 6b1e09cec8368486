"""A resident's journey in a real browser (Debian's Chromium driven by Playwright).

Register on territory A, confirm the address from the mail, log in on territory B,
switch language, log out. Screenshots go to tests/artifacts/ (kept out of git).
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import text

from core.extensions import db
from tests.browser.support import shot
from tests.support import PASSWORD, host


def open_menu(page) -> None:
    """A phone folds the navigation behind its menu button: open it."""
    button = page.locator(".menu-button")
    expect(button).to_be_visible()
    if button.get_attribute("aria-expanded") != "true":
        button.click()


def test_register_verify_login_elsewhere_switch_language_logout(
    app, make_tenant, live_server, browser, smtp
):
    a, b = make_tenant(name="Mauriac"), make_tenant(name="Murat", kind="commune", code="15138")
    site_a = f"http://{host(a)}:{live_server}"
    site_b = f"http://{host(b)}:{live_server}"
    email = "camille.browser@example.org"
    # a phone whose browser asks for French
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(site_a + "/")
        expect(page.locator("h1")).to_have_text("Vivre à Mauriac")
        open_menu(page)
        page.get_by_role("link", name="Créer un compte").click()
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Nom affiché").fill("Camille")
        page.get_by_label("Mot de passe (12 caractères ou plus)").fill(PASSWORD)
        page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        shot(page, "1-register")
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.locator("h1")).to_have_text("Consultez votre messagerie")

        link = smtp.deliver().link_to(email, "/compte/verifier/")
        page.goto(link)
        expect(page.locator(".flash")).to_contain_text("confirmée")

        page.goto(site_b + "/compte/connexion")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Mon compte")
        shot(page, "2-logged-in-on-b")

        page.goto(site_b + "/")
        open_menu(page)
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        open_menu(page)
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        shot(page, "3-english")

        page.get_by_role("button", name="Log out").click()
        open_menu(page)
        expect(page.get_by_role("link", name="Log in")).to_be_visible()
        shot(page, "4-logged-out")
        assert {c["name"] for c in context.cookies()} <= {"session", "lang"}
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        context.close()
        with app.app_context():
            db.session.execute(text("DELETE FROM accounts WHERE email = :e"), {"e": email})
            db.session.commit()
