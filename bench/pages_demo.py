"""The resident's pages on the demo's communauté as a phone's Chromium loads them: the weight of
the home and search pages' first load (gzip as served, base map tiles aside) and, with the CPU
throttled 4× on a 390 px viewport, the time to the first contentful paint and to a coloured map.

The demo is made as `make demo-data` makes it (the Cantal's communes, synthetic equipment, the
demo territories, their generated listings and drawn photos) and served by gunicorn as
scripts/serve.sh serves it. Every URL Chromium asks for while loading a page (its HTML, styles,
scripts, fonts, images, the cell layer) is fetched again with `Accept-Encoding: gzip` and its
body counted as sent; the base map's tiles (/fond-de-carte/) are measured by bench/pages.py.
"""

from __future__ import annotations

import statistics
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import Bench, BenchError

COMMUNAUTE = "saint-flour-communaute.vivrau.localhost"
WEIGHT_BUDGET_KB = 500
PAINT_BUDGET_MS = 3000
#: The preset a visitor picks on the home page: the search page opens with it and colours the map.
PRESET = "young_family"
PHONE = {"width": 390, "height": 844}
CHROMIUM = "/usr/bin/chromium"
TILES = "/fond-de-carte/"

#: When the map's cells are drawn (data-cell-count) and coloured (data-statuses="1"), stamped
#: by the page itself: polling from outside would weigh on a throttled CPU.
STAMPS = """
window.__drawn = null; window.__coloured = null;
new MutationObserver((_, watcher) => {
  const figure = document.getElementById("search-map");
  if (!figure) return;
  if (window.__drawn === null && figure.hasAttribute("data-cell-count")) {
    window.__drawn = performance.now();
  }
  if (figure.getAttribute("data-statuses") === "1") {
    window.__coloured = performance.now();
    watcher.disconnect();
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ["data-cell-count", "data-statuses"]});
"""
FCP = """() => {
  const [entry] = performance.getEntriesByName("first-contentful-paint");
  return entry ? entry.startTime : null;
}"""


def prepare_demo(bench: Bench, env: dict[str, str], storage: Path) -> dict[str, str]:
    """The demo's territories, listings and photos on the Cantal prepared by prepare_cantal;
    the environment with files (the photos) stored in `storage`, a folder of this run."""
    env = dict(env, STORAGE_URL=f"file://{storage}")
    bench.flask(env, "tenants", "seed-demo")
    bench.flask(env, "site", "seed-demo")
    bench.flask(env, "geo", "refresh-cells")
    bench.flask(env, "ingest", "demo-listings", "--output", str(storage / "demo"))
    bench.flask(env, "site", "demo-photos")
    return env


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
              "--no-first-run"],
    )  # fmt: skip


def _gzip_size(url: str) -> int:
    """The body's bytes as the server sends them gzip-compressed (the territory's host named in
    the Host header: only Chromium resolves *.localhost names by itself)."""
    parts = urlsplit(url)
    direct = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    headers = {"Accept-Encoding": "gzip", "Host": parts.netloc}
    request = urllib.request.Request(direct, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our server
        return len(response.read())


def page_weight(browser, site: str, path: str, scrolled: bool = False) -> tuple[float, list[str]]:
    """KB sent (gzip) for everything Chromium loads with the page, tiles aside; what it loaded.
    `scrolled`: also what the page loads once scrolled to its end (lazy card photos)."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
    page = context.new_page()
    urls: list[str] = []
    posts: list[str] = []
    outside: list[str] = []

    def seen(request):
        if not request.url.startswith(site + "/"):
            if not request.url.startswith("data:"):
                outside.append(request.url)
        elif request.method != "GET":
            posts.append(request.url)
        elif TILES not in request.url and request.url not in urls:
            urls.append(request.url)

    page.on("request", seen)
    try:
        page.goto(site + path, wait_until="networkidle")
        if scrolled:
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)  # photos asked for once in view, lazily
            page.wait_for_load_state("networkidle")
    finally:
        context.close()
    if outside or posts:
        raise BenchError(f"{path}: requests outside {site} {outside} or not GET {posts}")
    return sum(_gzip_size(u) for u in urls) / 1000, [urlsplit(u).path for u in urls]


def timings(browser, site: str, path: str, coloured: bool) -> tuple[float, ...]:
    """A first visit on a phone with a CPU 4× slower: ms to the first contentful paint and, on
    the search page, to the map's cells coloured by the search and to its cells drawn (grey)."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.add_init_script(STAMPS)
        page.goto(site + path, wait_until="commit")
        page.wait_for_function(FCP, timeout=60_000)
        fcp = page.evaluate(FCP)
        done = drawn = None
        if coloured:
            page.wait_for_function("() => window.__coloured !== null", timeout=60_000)
            done, drawn = page.evaluate("[window.__coloured, window.__drawn]")
        return fcp, done, drawn
    finally:
        context.close()


def measure_demo(bench: Bench, port: int, runs: int = 5) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only this benchmark drives a browser

    site = f"http://{COMMUNAUTE}:{port}"
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            for name, path in (("home page", "/"), ("search page", "/recherche")):
                page_weight(browser, site, path)  # warm-up: the server's caches, not the browser's
                kb, loaded = page_weight(browser, site, path)
                whole, every = page_weight(browser, site, path, scrolled=True)
                bench.figure(
                    f"{name}'s first load on the communauté, gzip as served, without tiles",
                    [kb],
                    "KB",
                    at_most=WEIGHT_BUDGET_KB,
                    note=f"{len(loaded)} files: " + ", ".join(sorted({_kind(p) for p in loaded})),
                )
                bench.figure(
                    f"{name} scrolled to its end (lazy photos loaded), gzip, without tiles",
                    [whole],
                    "KB",
                    at_most=WEIGHT_BUDGET_KB,
                    note=f"{len(every)} files",
                )
            search = f"/recherche?preset={PRESET}#results-title"
            timings(browser, site, search, True)  # warm-up
            home = [timings(browser, site, "/", False)[0] for _ in range(runs)]
            found = [timings(browser, site, search, True) for _ in range(runs)]
        finally:
            browser.close()
    bench.figure(
        "home page's first contentful paint, 390 px, CPU 4× slower",
        home,
        "ms",
        at_most=PAINT_BUDGET_MS,
    )
    bench.figure(
        "search page's first contentful paint, 390 px, CPU 4× slower",
        [fcp for fcp, _, _ in found],
        "ms",
        at_most=PAINT_BUDGET_MS,
        note=f"opened with the preset {PRESET!r}, as from the home page",
    )
    bench.figure(
        "search page's map coloured (cells drawn and a search's statuses), 390 px, CPU 4× slower",
        [done for _, done, _ in found],
        "ms",
        at_most=PAINT_BUDGET_MS,
        note=f"cells drawn at {statistics.median(d for _, _, d in found):.0f} ms (median); a "
        "searched page carries its statuses, so its cells are drawn coloured",
    )


def _kind(path: str) -> str:
    """What a loaded file is, for the note: page, css, js, json, svg, woff2…"""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1] if "." in name else "page"
