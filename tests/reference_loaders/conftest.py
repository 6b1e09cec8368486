"""Fixtures of the reference loaders' tests: a clean slate of the loaded sources' rows."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db


@pytest.fixture(scope="module", autouse=True)
def _close_pool(app):
    """Close the pooled connections at the end: a connection left for the garbage collector
    raises a ResourceWarning (an error here) when this file runs alone."""
    yield
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def session(ctx):
    """An app context whose reference rows of the loaded sources are removed afterwards."""

    def clean():
        db.session.rollback()
        db.session.execute(text("DELETE FROM pois WHERE source IN ('bpe', 'osm')"))
        db.session.execute(text("DELETE FROM property_sales WHERE source = 'dvf'"))
        db.session.execute(
            text("DELETE FROM cell_population WHERE source IN ('filosofi', 'synth')")
        )
        db.session.commit()

    clean()
    yield db.session
    clean()
