"""Bulk writes of national data: COPY from Python rows, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

from core.extensions import db


def copy_rows(table: str, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` into `table` on the session's connection (same transaction); returns count.

    Geometry columns take EWKT strings such as `SRID=4326;POINT(2.35 48.85)`; None is NULL.
    """
    connection = db.session.connection().connection.driver_connection  # psycopg 3
    quoted = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f'COPY "{table}" ({quoted}) FROM STDIN'  # noqa: S608 - names come from our models
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
