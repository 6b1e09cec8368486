"""A source's whole dataset replaced in one transaction, serialised per source, never by nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.extensions import db
from ingest.reference.loaders.files import LoadError, LoadReport


@contextmanager
def replacing(source: str) -> Iterator[Session]:
    """One transaction, serialised per source; rolled back on any exception."""
    session = db.session
    try:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"reference:{source}"}
        )
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def finish(report: LoadReport, paths: list[Path], table: str) -> None:
    """Refuse a load without one usable row (never replace a dataset by nothing), else
    refresh the planner's statistics of `table`, which changed wholesale."""
    if report.loaded:
        db.session.execute(text(f'ANALYZE "{table}"'))
        return
    names = ", ".join(p.name for p in paths)
    first = "; ".join(f"line {line}: {reason}" for line, reason in report.problems[:3])
    raise LoadError(
        f"no usable row in {names} ({report.read} read, {report.skipped} refused)"
        + (f"; first problems: {first}" if first else "")
        + "; nothing changed"
    )
