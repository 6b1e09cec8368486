"""Start-up: building the application, or listing the `flask` commands, imports none of the heavy
libraries that only some commands and requests need (each `flask` command pays what the factory
imports)."""

import json
import os
import subprocess
import sys

import pytest
from werkzeug.routing import Map

from core.api import current_spec
from core.config import ROOT
from core.web import LazyBuildRule
from tests.private_redis import other_app

#: Imported when the work that needs them runs, never by the factory (GeoAlchemy2, which every
#: model with a geometry column needs, is loaded without Shapely: core.spatial).
HEAVY = (
    "alembic",  # `flask db …`, territory migrations
    "boto3",  # S3 storage
    "botocore",
    "croniter",  # `flask cron`
    "email_validator",  # a billing address checked
    "facturx",  # invoice documents
    "folium",  # a page's map
    "branca",
    "requests",  # (folium's)
    "frictionless",  # a normed file validated
    "lxml",  # invoice documents
    "numpy",  # a search, cells computed, reference data loaded
    "openpyxl",  # XLSX files
    "osmium",  # `flask geo load-osm`
    "PIL",  # a logo sent
    "pyproj",  # a point projected
    "rq",  # a job queued, `flask worker`
    "saxonche",  # invoice documents' schematron
    "schemathesis",
    "scipy",  # `flask geo build-profiles`
    "shapely",  # a perimeter's cells, listings placed, communes loaded
    "weasyprint",  # invoice PDFs
)

#: Runs in a fresh interpreter; its last line is the sorted names of the imported top-level modules.
REPORT = "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
FACTORY = "from application import create_app\ncreate_app()" + REPORT
FLASK_HELP = (
    "import sys\nfrom flask.cli import main\nsys.argv = ['flask', '--help']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass" + REPORT
)


def heavy_modules_after(code: str) -> list[str]:
    env = {**os.environ, "FLASK_APP": "wsgi"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return sorted(imported.intersection(HEAVY))


@pytest.mark.parametrize("code", [FACTORY, FLASK_HELP], ids=["create_app", "flask --help"])
def test_start_up_imports_no_heavy_library(code):
    found = heavy_modules_after(code)
    assert not found, f"imported at start-up: {', '.join(found)} (import it where it is needed)"


def test_the_check_sees_a_heavy_library():
    assert heavy_modules_after("import folium" + REPORT) == [
        "branca",
        "folium",
        "numpy",
        "requests",
    ]


def test_flask_db_runs_flask_migrate_with_its_group_options(app, runner):
    # Its commands read the group's options (-d, -x) from `g`: they fail unless the group ran.
    done = runner.invoke(args=["db", "-x", "unused", "current"])
    assert done.exit_code == 0, f"{done.output}{done.exception!r}"
    assert "Perform database migrations" in runner.invoke(args=["db", "--help"]).output


def test_the_collector_runs_again_once_the_application_is_loaded():
    # Paused while the modules load, then what they made is frozen out of later collections.
    code = "import gc\nimport application\nprint(gc.isenabled(), gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    enabled, frozen = done.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 10_000


def test_url_builders_compiled_when_first_used(app):
    assert all(
        isinstance(rule, LazyBuildRule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"  # added by Flask itself, before the application's class
    )
    urls = Map([LazyBuildRule("/cells/<int:cell>/<name>", endpoint="cell")]).bind("example.org")
    assert urls.build("cell", {"cell": 7, "name": "a b"}) == "/cells/7/a%20b"
    assert urls.build("cell", {"cell": 7, "name": "x", "q": "é"}) == "/cells/7/x?q=%C3%A9"
    assert urls.build("cell", {"cell": 7, "name": "x", "q": "é"}, append_unknown=False) == (
        "/cells/7/x"
    )


def test_the_api_document_is_written_when_first_read(app, tmp_path_factory):
    """The factory mounts the API's routes but leaves its document to its first reader, which
    gets it whole: every path, component and tag, in the order they were registered."""
    with other_app(app, tmp_path_factory) as fresh:
        api = fresh.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        assert api._undocumented, "the document was written by the factory"
        assert any(r.rule == "/api/v1/listings/bulk" for r in fresh.url_map.iter_rules())
        with fresh.app_context():
            spec = current_spec()
        assert not api._undocumented
    assert [t["name"] for t in spec["tags"]] == ["listings_api", "cells_api", "search_api"]
    assert {"/api/v1/listings/bulk", "/api/v1/search"} <= set(spec["paths"])
    assert {"RealEstateInput", "Problem", "SearchRequest"} <= set(spec["components"]["schemas"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
