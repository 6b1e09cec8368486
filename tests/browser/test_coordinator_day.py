"""A PVD coordinator's day in Chromium, desktop and phone: the overview, the member towns side
by side, one town's listings, the CSV export; axe-core on each page."""

from __future__ import annotations

import pytest

from tests.browser.support import axe_violations, shot
from tests.support import PASSWORD, host
from tests.test_coordinator import pvd  # noqa: F401 - the fixture: an umbrella and its towns


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_coordinators_day(pvd, live_server, browser, width, height):  # noqa: F811
    umbrella, (allanche, condat, _murat), _foreign, coordinator = pvd
    site = f"http://{host(umbrella)}:{live_server}"
    # axe-core is injected: the page's CSP is bypassed for it alone.
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", bypass_csp=True
    )
    page = context.new_page()
    try:
        page.goto(site + "/compte/connexion")
        page.get_by_label("Adresse e-mail").fill(coordinator)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.goto(site + "/console/")
        assert page.locator("#trends").is_visible() and page.locator("#subscription").is_visible()
        assert axe_violations(page) == []
        shot(page, f"coordinator-overview-{width}")

        page.goto(site + "/console/membres")
        row = page.locator(f"#member-{allanche.slug}")
        assert row.is_visible() and "Allanche" in row.inner_text()
        assert page.locator("#members-total").inner_text().split()[3] == "18"
        assert page.locator("#members-chart-title").count() == 1
        assert axe_violations(page) == []
        shot(page, f"coordinator-members-{width}")
        with page.expect_download() as download:
            page.get_by_role("link", name="Télécharger le tableau (CSV)").click()
        exported = download.value.path().read_bytes()
        assert exported.startswith("\ufeff".encode()) and b"Condat" in exported

        page.get_by_role("link", name="Condat").click()
        page.wait_for_url(f"**/console/membres/{condat.slug}")
        listings = page.locator("#member-listings tbody tr")
        assert listings.count() == 6
        assert axe_violations(page) == []
        shot(page, f"coordinator-member-{width}")
    finally:
        context.close()
