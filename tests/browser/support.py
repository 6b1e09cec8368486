"""What browser tests share: Debian's Chromium, screenshots, axe-core's accessibility check, where
a search map's cell is on the screen."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of these impacts on the page as it is now (WCAG 2.1 A/AA rules).

    axe-core comes from the npm registry (tests/browser/package.json, `npm ci` by
    scripts/setup.sh test). It is injected as a script: the page's context must be opened with
    `bypass_csp=True`, which only an accessibility check's context should do.
    """
    assert AXE.exists(), "axe-core is installed by scripts/setup.sh test (npm ci)"
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results["violations"]
        if v["impact"] in impacts
    ]


_CENTRE = """(id) => {
  const figure = document.querySelector("#search-map");
  const map = window[figure.dataset.map];
  let found = null;
  map.eachLayer((l) => { if (l.cellId === id) found = l; });
  const p = map.latLngToContainerPoint(found.getBounds().getCenter());
  const box = figure.querySelector(".folium-map").getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""


def cell_centre(page, cell_id: str) -> tuple[float, float]:
    """Where a cell of the search map is on the screen, to click it as a person would."""
    x, y = page.evaluate(_CENTRE, cell_id)
    return x, y
