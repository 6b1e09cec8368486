"""A would-be mover on the national portal in Chromium, desktop and phone: from the home page to
the France-wide search, the map zoomed from France to a département's communes then to the
squares, and on to a partner's own site; axe-core on each page, and no request leaves the
machine."""

from __future__ import annotations

import pytest

from tests.browser.support import axe_violations, shot
from tests.support import host
from tests.test_portal import PORTAL, national  # noqa: F401 - the fixture: the Cantal's matrix


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_from_the_portal_to_a_partner(
    national,  # noqa: F811 - the fixture imported above
    make_tenant,
    live_server,
    browser,
    width,
    height,  # noqa: F811
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    portal = f"http://{PORTAL}:{live_server}"
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", bypass_csp=True
    )
    page = context.new_page()
    elsewhere = []
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if ".localhost:" not in r.url.split("/")[2] else None,
    )
    try:
        page.goto(portal + "/")
        assert page.locator("h1").inner_text().startswith("Trouvez où vivre en France")
        assert axe_violations(page) == []
        shot(page, f"portal-home-{width}")

        page.get_by_role("link", name="Famille avec de jeunes enfants").click()
        page.wait_for_url("**/recherche?preset=young_family*")
        status = page.locator("#portal-map-status")
        status.filter(has_text="chaque département").wait_for()
        assert page.locator("#departement-15").is_visible()
        assert "Saint-Flour" in page.locator("#partners-holding").inner_text()
        name = page.get_attribute("#portal-map", "data-map")
        page.evaluate(f"void window['{name}'].setView([45.03, 3.09], 9)")
        status.filter(has_text="communes du département Cantal").wait_for()
        page.evaluate(f"void window['{name}'].setView([45.03, 3.09], 12)")
        status.filter(has_text="carrés de cette vue").wait_for()
        # A square under the map's centre, clicked as a person would: the panel explains it.
        box = page.locator("#portal-map .folium-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        panel = page.locator("#portal-cell")
        panel.wait_for()
        assert "Médecin généraliste" in panel.inner_text()
        assert page.evaluate("document.activeElement.id") == "portal-cell-title"
        assert axe_violations(page) == []
        page.keyboard.press("Escape")  # closed from the keyboard, as a bottom sheet on a phone
        panel.wait_for(state="hidden")
        shot(page, f"portal-search-{width}")

        link = page.locator("#partners-holding a", has_text="Voir ses carrés").first
        link.click()
        page.wait_for_url(f"http://{host(flour)}:*/recherche?*")
        assert page.locator("h1").inner_text() == "Trouvez votre lieu"
        assert page.locator("input[name=c]:checked").count() >= 3  # the same search goes on
        assert elsewhere == []
    finally:
        context.close()
