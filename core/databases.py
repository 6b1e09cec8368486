"""Whole databases: made with PostGIS when missing, dropped with their sessions."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy_utils import create_database, database_exists, drop_database

from core.config import database_url


def ensure_database(url: str) -> bool:
    """The database at `url`, made if missing, with PostGIS enabled; True when it was made."""
    url = database_url(url)
    made = not database_exists(url)
    if made:
        create_database(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()
    return made


def remove_database(url: str) -> None:
    """Drop the database at `url` if it exists, ending the sessions still open on it first (a
    benchmark's server killed mid-request may leave one)."""
    url = database_url(url)
    if not database_exists(url):
        return
    admin = create_engine(make_url(url).set(database="postgres"), poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": make_url(url).database},
            )
    finally:
        admin.dispose()
    drop_database(url)


def main(argv: list[str]) -> int:
    """`python -m core.databases ensure URL…`: what scripts/setup.sh runs for its databases."""
    if len(argv) < 2 or argv[0] != "ensure":
        print("usage: python -m core.databases ensure URL…", file=sys.stderr)
        return 2
    for url in argv[1:]:
        try:
            if ensure_database(url):
                print(f"\033[1m==> created database {make_url(url).database}\033[0m")
        except Exception as error:  # noqa: BLE001 - one clear line, not a traceback, for set-up
            print(f"setup: database {make_url(url).database}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
