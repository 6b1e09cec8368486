"""One account in a real browser: register in the demo and confirm through the mail catcher's
page; the account page then shows favourites and searches of two territories (desktop and
phone), with no request leaving the machine and no serious axe-core violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.auth.models import Account
from core.extensions import db
from core.mail import deliver_outbox
from tests.browser.support import axe_violations, shot
from tests.support import PASSWORD, host
from tests.test_account_everywhere import account_id, keep
from tests.test_demo_mail import catching

EMAIL = "ines.navigateur@example.org"


@pytest.fixture
def catcher(app, tmp_path):
    with catching(app, tmp_path, EMAIL) as running:
        yield running


def local_only(page, allowed):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(allowed) else 0)
    return outside


@pytest.mark.parametrize("width", [1280, 390])
def test_register_and_confirm_through_the_demos_mail_page(
    app, make_tenant, live_server, browser, catcher, width
):
    town = make_tenant(name="Murat")
    site = f"http://{host(town)}:{live_server}"
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    outside = local_only(page, (site, catcher.viewer_url))
    try:
        page.goto(site + "/compte/inscription")
        expect(page.locator(".until-confirmed")).to_contain_text("Tant que votre adresse")
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=display_name]").fill("Inès")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=confirm]").fill(PASSWORD)
        shot(page, f"account-register-{width}")
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.locator("h1")).to_have_text("Consultez votre messagerie")
        shot(page, f"account-check-mail-{width}")
        with app.app_context():
            deliver_outbox()  # what the demo's worker does when the registration commits

        page.get_by_role("link", name=catcher.viewer_url).click()
        expect(page.locator("h1")).to_have_text("Courriels de la démo")
        shot(page, f"account-mail-list-{width}")
        page.get_by_role("link", name="Confirmez votre adresse e-mail").click()
        link = page.locator("pre a").first
        expect(link).to_contain_text("/compte/verifier/")
        shot(page, f"account-mail-{width}")
        link.click()
        expect(page.locator(".flash")).to_contain_text("Votre adresse est confirmée")
        shot(page, f"account-confirmed-{width}")
        page.locator("input[name=email]").fill(EMAIL)
        page.locator("input[name=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Mon compte")
        expect(page.locator(".unverified")).to_have_count(0)
        assert outside == []
    finally:
        context.close()
    with app.app_context():
        account = db.session.execute(select(Account).where(Account.email == EMAIL)).scalar_one()
        assert account.is_verified
        db.session.rollback()


def test_the_account_page_shows_two_territories(
    app, cantal, make_tenant, make_account, live_server, browser
):
    murat = make_tenant(name="Murat")
    flour = make_tenant(name="Saint-Flour")
    email = make_account()
    person = account_id(app, email)
    keep(app, murat, person, favourites=[("M1", "Maison sur le rocher de Bonnevie")])
    keep(
        app,
        flour,
        person,
        favourites=[("F1", "Ferme de la Planèze"), ("F2", "Maison de ville")],
        searches=["Près du médecin"],
    )
    site = f"http://{host(murat)}:{live_server}"
    for width in (1280, 390):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="fr-FR", bypass_csp=True
        )
        page = context.new_page()
        outside = local_only(page, (site, f"http://{host(flour)}:{live_server}"))
        try:
            page.goto(site + "/compte/connexion")
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(PASSWORD)
            page.keyboard.press("Enter")
            expect(page.locator("h1")).to_have_text("Mon compte")
            kept = page.locator(".kept-territory")
            expect(kept).to_have_count(2)
            expect(kept.first.locator("h3")).to_contain_text("Murat (ce site)")
            expect(kept.nth(1)).to_contain_text("Ferme de la Planèze")
            expect(kept.nth(1)).to_contain_text("Près du médecin")
            shot(page, f"account-two-territories-{width}")
            assert axe_violations(page) == []
            # The other territory's favourite opens on its own site.
            kept.nth(1).get_by_role("link", name="Ferme de la Planèze").click()
            expect(page.locator("h1")).to_have_text("Ferme de la Planèze")
            assert page.url.startswith(f"http://{host(flour)}:{live_server}/")
            assert outside == []
        finally:
            context.close()
