"""The national portal's engine: scoring every metropolitan cell in process, and the memory each
extra worker adds while the national matrix is shared by the machine.

Scoring
    A national matrix of 550 000 cells (the metropolitan count) × the catalogue's 30 criteria,
    synthetic (uniform around each criterion's threshold, 1 % unknown), written in the portal's
    own file layout (ingest/reference/national.py) and mapped as the portal maps it. A national
    search is what the map's answer needs: every cell's status and score, summed by département.
    The baseline is a plain numpy pass over the same mapped matrix (each of the 30 rows compared
    with its threshold, summed per cell). Each run is the median of 15 rounds; the search and its
    baseline alternate run by run after a warm-up.

Under load and page weight
    The bench's own database holds the Cantal (real communes, synthetic data, cells and profiles,
    a département territory subscribed: the portal's partner) and the synthetic national matrix
    above in its NATIONAL_DIR (the Cantal's squares lie inside it). gunicorn (one gthread worker
    of 4 threads) runs on one core, wrk (20 keep-alive connections, gzip) on the other: the
    portal's `POST /api/v1/france/search` at the national zoom (what its map asks first) against
    the territory's own `POST /api/v1/search?format=compact` for the same body, interleaved, p95
    of each run. Then, through the WSGI interface as a browser asks: the portal's search page
    with every stylesheet and script it links and the map's first answer, gzip as served
    (≤ 1.5 MB), and that answer alone (≤ 50 KB).

Memory
    Workers are forked as gunicorn forks them (from a parent that has not read the matrix). Each
    then maps the matrix and runs three national searches, all of them alive at once; the
    figure is the anonymous memory each one added (the matrix's pages are the page cache's, held
    once per machine, whichever worker reads them). The baseline loads the same files into each
    worker's own memory instead, as a per-process copy would.

    .venv/bin/python -m bench.portal
"""

from __future__ import annotations

import http.cookiejar
import json
import multiprocessing
import os
import re
import shutil
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from application import create_app
from bench.common import prepare_cantal
from bench.harness import Bench, BenchError, split_cores
from bench.search import BODY, CLIENTS, SECONDS, WRK_LUA, Load, _query, _rounds, numpy_pass
from core.auth.models import Account
from core.auth.passwords import hash_password
from core.db import utcnow
from core.extensions import db
from ingest.reference import national as files
from ingest.reference.criteria import CRITERIA
from sites.project.models import Project
from sites.search import engine
from sites.search.national import NationalMatrix, by_departement

CELLS = 550_000
COMMUNES = 35_000
DEPARTEMENTS = 96
ROUNDS = 15
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
WORKERS = 4
MB = 2**20
HTTP_RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SLUG = "bench_portal"
HOST = "bench-portal.vivrau.localhost"
PORTAL = "vivrau.localhost"
NATIONAL = "/api/v1/france/search"
TERRITORY = "/api/v1/search?format=compact"
#: A guest's search on the portal: three criteria of BODY's, its budget and household.
GUEST_BODY = {**BODY, "criteria": BODY["criteria"][:3]}
#: Distinct searches the load cycles through (more than the server keeps: each is new to it).
DISTINCT = 120
#: A view of squares around Saint-Flour, as the map asks once zoomed in.
VIEW = NATIONAL + "?level=cells&bbox=3.03,45.00,3.15,45.07"
PERSON = "bench-portal@example.org"
PASSWORD = "bench-portal-password"


def write_matrix(folder: Path) -> str:
    """A synthetic national matrix in the portal's layout; its version."""
    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(CELLS)))
    k = np.arange(CELLS)
    codes = np.sort((2_000 + k // side) * 10_000 + (3_200 + k % side)).astype("int64")
    thresholds = np.array([c.threshold for c in CRITERIA], dtype="float64")
    values = rng.uniform(0, 2, (len(CRITERIA), CELLS)) * thresholds[:, None]
    values[rng.random(values.shape) < 0.01] = np.nan
    communes = np.sort(rng.integers(0, COMMUNES, CELLS)).astype("int32")
    departements = (communes * DEPARTEMENTS // COMMUNES).astype("int16")
    manifest = files.Manifest("bench", CELLS, COMMUNES, DEPARTEMENTS, "", 0.0)
    arrays = {
        "codes": codes,
        "values": values.astype("float32"),
        "communes": communes,
        "departements": departements,
    }
    places = {
        "communes": files._places(
            codes, arrays["communes"], [f"{i:05d}" for i in range(COMMUNES)], {}
        ),
        "departements": files._places(
            codes, arrays["departements"], [f"{i:02d}" for i in range(DEPARTEMENTS)], {}
        ),
    }
    files._write(folder, manifest, arrays, places)
    return manifest.version


def mapped_matrix(folder: Path, version: str) -> NationalMatrix:
    mapped = files.open_version(folder, version)
    return NationalMatrix(
        ids=mapped.codes, communes=[], values=mapped.values, version=version, mapped=mapped
    )


def national_search(matrix: NationalMatrix, query) -> None:
    result = engine.score_matrix(matrix, query)
    result.scores  # noqa: B018 - computed when first read
    by_departement(result)


def bench_scoring(bench: Bench, folder: Path, version: str) -> None:
    matrix = mapped_matrix(folder, version)
    query = _query()
    values, base = bench.interleave(
        _rounds(lambda: national_search(matrix, query), ROUNDS),
        _rounds(numpy_pass(matrix, query), ROUNDS),
        runs=RUNS,
    )
    bench.figure(
        f"national search, {CELLS:,} cells × {len(query.criteria)} criteria ".replace(",", " ")
        + f"({len(query.must)} must, {len(query.nice)} nice): statuses, scores, by département",
        values,
        "ms",
        at_most=60.0,
        baseline=base,
        baseline_name="a plain numpy pass over the same mapped matrix",
        note=f"median of {ROUNDS} rounds a run, in this process, the matrix mapped from its files",
    )


def _anonymous_mb() -> float:
    """This process's anonymous memory (heap and private maps, not the page cache's files)."""
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no Anonymous line in /proc/self/smaps_rollup")


def _worker(folder: str, version: str, copy: bool, barrier, out) -> None:
    before = _anonymous_mb()
    if copy:  # the baseline: the same arrays in the worker's own memory
        loaded = {n: np.load(Path(folder) / version / f"{n}.npy") for n in files.ARRAYS}
        mapped = files.open_version(Path(folder), version)
        matrix = NationalMatrix(
            ids=loaded["codes"], communes=[], values=loaded["values"], version=version,
            mapped=mapped,
        )  # fmt: skip
    else:
        matrix = mapped_matrix(Path(folder), version)
    query = _query()
    for _ in range(3):
        national_search(matrix, query)
    barrier.wait()  # every worker holds its matrix at once, as gunicorn's do
    out.put(_anonymous_mb() - before)
    barrier.wait()


def added_per_worker(folder: Path, version: str, copy: bool) -> float:
    """The median anonymous memory each of WORKERS forked workers added (MB)."""
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(folder), version, copy, barrier, out))
        for _ in range(WORKERS)
    ]
    for w in workers:
        w.start()
    added = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    return statistics.median(added)


def bench_memory(bench: Bench, folder: Path, version: str) -> None:
    values, base = bench.interleave(
        lambda: added_per_worker(folder, version, copy=False),
        lambda: added_per_worker(folder, version, copy=True),
        runs=3,
        warmup=0,
    )
    bench.figure(
        "memory added per extra worker holding the national matrix",
        values,
        "MB",
        at_most=50.0,
        baseline=base,
        baseline_name="each worker loading its own copy of the same files",
        note=f"anonymous memory per worker, {WORKERS} forked workers alive at once, after three "
        f"national searches each; the mapped files are {_size_mb(folder / version):.0f} MB of "
        "page cache, once per machine",
    )


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / MB


def measure_weight(bench: Bench, app) -> None:
    """The portal's search page as a browser first loads it, and its map's first answer."""
    client = app.test_client()
    base = f"http://{PORTAL}"
    gzip = {"Accept-Encoding": "gzip"}
    page = "/recherche?preset=young_family"

    def get(path: str, compressed: bool = True) -> bytes:
        response = client.get(path, base_url=base, headers=gzip if compressed else {})
        if response.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {response.status_code}")
        return response.get_data()

    def post(compressed: bool = True) -> bytes:
        response = client.post(
            NATIONAL, base_url=base, json=GUEST_BODY, headers=gzip if compressed else {}
        )
        if response.status_code != 200:
            raise BenchError(f"POST {NATIONAL}: {response.get_data(as_text=True)[:500]}")
        return response.get_data()

    html = get(page, compressed=False).decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/[^"]+\.(?:js|css))"', html)
    sent = sum(len(get(path)) for path in [page, *assets]) + len(post())
    plain = sum(len(get(path, compressed=False)) for path in [page, *assets]) + len(post(False))
    bench.figure(
        "portal's first load (search page, styles, scripts, the map's first answer), gzip",
        [sent / 1000],
        "KB",
        at_most=1500,
        baseline=[plain / 1000],
        baseline_name="the same bytes uncompressed",
        note=f"{len(assets)} stylesheets and scripts, a guest's search of 3 criteria; base map "
        "tiles not counted",
    )
    answer, answer_plain = len(post()) / 1000, len(post(False)) / 1000
    areas = len(json.loads(post(False))["areas"])
    bench.figure(
        "portal search answer at the national zoom, gzip as served",
        [answer],
        "KB",
        at_most=50,
        baseline=[answer_plain],
        baseline_name="the same answer uncompressed",
        note=f"{areas} départements, {CELLS:,} squares scored".replace(",", " "),
    )


def complete_person(app) -> None:
    """A person whose moving project is complete: every criterion is theirs on the portal."""
    with app.app_context():
        account = Account(
            email=PERSON,
            password_hash=hash_password(PASSWORD),
            display_name="Bench",
            email_verified_at=utcnow(),
        )
        db.session.add(account)
        db.session.flush()
        db.session.add(
            Project(
                account_id=account.id, home="buy", home_budget=180_000, adults=2, children=1,
                job="no", business="no", leisure=["nature"], lives_in="Lyon", moving="1_year",
            )
        )  # fmt: skip
        db.session.commit()


def session_cookie(port: int) -> str:
    """The person's session cookie, from logging in on the portal as a browser does."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"Host": PORTAL}
    url = f"http://127.0.0.1:{port}/compte/connexion"
    page = opener.open(urllib.request.Request(url, headers=headers), timeout=30).read()
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "email": PERSON, "password": PASSWORD})
    opener.open(urllib.request.Request(url, data=form.encode(), headers=headers), timeout=30)
    cookies = {c.name: c.value for c in jar}
    if "session" not in cookies:
        raise BenchError("the bench's person could not log in on the portal")
    return f"session={cookies['session']}"


def _variant(i: int) -> dict:
    """BODY with its first must-have's threshold moved: a search of its own."""
    first = {**BODY["criteria"][0], "threshold": round(5 + i * 0.1, 1)}
    return {**BODY, "criteria": [first, *BODY["criteria"][1:]]}


def wrk_script(requests: list[tuple[str, dict]], host: str, cookie: str | None) -> str:
    """wrk sending `requests` in turn (each thread from its own start), printing its p95."""
    items = ",\n".join(
        f"  {{ {json.dumps(path)}, [[{json.dumps(body)}]] }}" for path, body in requests
    )
    head = WRK_LUA % {"body": "", "host": host}
    if cookie:
        head = head.replace('wrk.headers["Host"]', f'wrk.headers["Cookie"] = "{cookie}"\n'
                            'wrk.headers["Host"]', 1)  # fmt: skip
    return (
        head
        + f"local requests = {{\n{items}\n}}\n"
        + "local i = math.random(#requests) - 1\n"
        + "request = function()\n"
        + "  i = (i % #requests) + 1\n"
        + "  return wrk.format(nil, requests[i][1], nil, requests[i][2])\n"
        + "end\n"
    )


def bench_http(bench: Bench) -> None:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (scripts/setup.sh test installs it: Debian's wrk)")
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-http-"))
    scripts = Path(tempfile.mkdtemp(prefix="bench-portal-wrk-"))
    try:
        url = bench.database()
        started = time.perf_counter()
        env = prepare_cantal(
            bench, url, SLUG, SEARCH_RATE_LIMIT="10000000/minute", NATIONAL_DIR=str(folder)
        )
        write_matrix(folder)
        print(f"  (set-up: the Cantal and France in {time.perf_counter() - started:.0f} s)")
        app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": bench.redis_url, "LOG_LEVEL": "WARNING",
             "SEARCH_RATE_LIMIT": "10000000/minute", "NATIONAL_DIR": str(folder)}
        )  # fmt: skip
        measure_weight(bench, app)
        complete_person(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        server_cpus, load_cpus = split_cores()
        _, port = bench.serve("bench.app:app", env, cpus=server_cpus)
        cookie = session_cookie(port)  # a complete project: its 30 criteria are searched
        searches = [_variant(i) for i in range(DISTINCT)]
        # Every request a new search (none answered from the recent ones), and the territory's
        # own search of the same bodies; then the map's requests: each search at the national
        # zoom, a département's communes, a view of squares.
        scripts_of = {
            "national": [(NATIONAL, b) for b in searches],
            "territory": [(TERRITORY, b) for b in searches],
            "map": [
                (path, b)
                for b in searches
                for path in (NATIONAL, f"{NATIONAL}?level=communes&departement=15", VIEW)
            ],
        }
        loads = {}
        for name, requests in scripts_of.items():
            script = scripts / f"{name}.lua"
            host = HOST if name == "territory" else PORTAL
            script.write_text(wrk_script(requests, host, None if name == "territory" else cookie))
            loads[name] = Load(port, script, load_cpus)
        values, base = bench.interleave(
            lambda: loads["national"].p95(NATIONAL),
            lambda: loads["territory"].p95(TERRITORY),
            runs=HTTP_RUNS,
        )
        bench.figure(
            f"POST {NATIONAL} at the national zoom, p95 under {CLIENTS} clients",
            values,
            "ms",
            at_most=150.0,
            baseline=base,
            baseline_name="the Cantal's own compact search, the same searches, same run",
            note=(
                f"{CELLS:,} squares × {len(CRITERIA)} criteria (4 must), a budget and a "
                f"household, by a signed-in person with a complete project; {DISTINCT} "
                "searches in turn, each new to the server; "
                f"{SECONDS} s a run; national {loads['national'].summary(NATIONAL)}; "
                f"territory {loads['territory'].summary(TERRITORY)}"
            ).replace(",", " ", 1),
        )
        bench.figure(
            f"the map's requests (national zoom, a département's communes, a view of squares), "
            f"p95 under {CLIENTS} clients",
            bench.repeat(lambda: loads["map"].p95(NATIONAL), runs=HTTP_RUNS),
            "ms",
            note=f"the same searches, each asked at three zooms as the map asks it; "
            f"{loads['map'].summary(NATIONAL)}",
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(scripts, ignore_errors=True)


def main() -> None:
    with Bench("portal") as bench:
        folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
        try:
            version = write_matrix(folder)
            bench_scoring(bench, folder, version)
            bench_memory(bench, folder, version)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        bench_http(bench)


if __name__ == "__main__":
    main()
