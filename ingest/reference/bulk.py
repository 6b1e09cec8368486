"""Bulk work on the national tables: COPY, VACUUM after a rewrite, progress ticks.

COPY (text or binary) runs on the session's connection, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from core.extensions import db

if TYPE_CHECKING:
    import numpy as np

#: Told how many more items are done (rows, cells, steps); None when nobody watches.
Progress = Callable[[int], object] | None


def tick(progress: Progress, n: int = 1) -> None:
    """Tell `progress`, when there is one, that `n` more items are done."""
    if progress:
        progress(n)


def session_cursor():
    """A psycopg cursor on the session's connection (same transaction as the ORM)."""
    return db.session.connection().connection.driver_connection.cursor()


def copy_rows(table: str, columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` into `table` on the session's connection (same transaction); returns count.

    Geometry columns take EWKT strings such as `SRID=4326;POINT(2.35 48.85)`; None is NULL.
    """
    quoted = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with (
        session_cursor() as cursor,
        cursor.copy(
            f'COPY "{table}" ({quoted}) FROM STDIN'  # noqa: S608 - names come from our models
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _binary_block(columns: Sequence[tuple[str, object]]) -> bytes:
    """Rows in PostgreSQL's binary COPY format, built column-wise with numpy.

    `columns` are `("text", list of str or None)`, `("bool", bool array)` or
    `("float8", float array, NaN for NULL)`. Each field is laid out at its widest in a byte
    matrix; a mask keeps the bytes a row really has (no payload for a NULL)."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when rows are copied

    n = len(columns[0][1])
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []

    def add(data: np.ndarray, used: np.ndarray | None = None) -> None:
        parts.append((np.frombuffer(data.tobytes(), dtype=np.uint8).reshape(n, -1), used))

    add(np.full(n, len(columns), dtype=">i2"))
    for kind, data in columns:
        if kind == "text":
            null = np.array([v is None for v in data], dtype=bool)
            encoded = np.array(["" if v is None else v for v in data], dtype=object)
            encoded = np.char.encode(encoded.astype(str), "utf-8")
            length = np.char.str_len(encoded)
            add(np.where(null, -1, length).astype(">i4"))
            width = max(int(length.max(initial=0)), 1)
            add(encoded.astype(f"S{width}"), np.arange(width)[None, :] < length[:, None])
        elif kind == "bool":
            add(np.full(n, 1, dtype=">i4"))
            add(np.asarray(data, dtype=np.uint8))
        else:  # float8
            values = np.asarray(data, dtype="float64")
            null = np.isnan(values)
            add(np.where(null, -1, 8).astype(">i4"))
            add(values.astype(">f8"), np.repeat(~null[:, None], 8, axis=1))
    matrix = np.concatenate([p[0] for p in parts], axis=1)
    used = np.concatenate(
        [np.ones(p[0].shape, dtype=bool) if p[1] is None else p[1] for p in parts], axis=1
    )
    return matrix[used].tobytes()


def copy_binary(
    table: str, names: Sequence[str], columns: Sequence[tuple[str, object]], batch=100_000
) -> int:
    """COPY column arrays in binary on the session's connection; returns the row count.

    For wide numeric rows: psycopg's `write_row` adapts value by value, several times slower."""
    n = len(columns[0][1]) if columns else 0
    quoted = ", ".join(f'"{c}"' for c in names)
    with (
        session_cursor() as cursor,
        cursor.copy(
            f'COPY "{table}" ({quoted}) FROM STDIN (FORMAT BINARY)'  # noqa: S608 - our names
        ) as copy,
    ):
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))  # signature, flags, no extension
        for start in range(0, n, batch):
            block = [(kind, data[start : start + batch]) for kind, data in columns]
            copy.write(_binary_block(block))
        copy.write(b"\xff\xff")
    return n


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE after a bulk rewrite (outside the transaction): the planner gets fresh
    statistics and the next rewrite reuses the dead rows' space (autovacuum may be off)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
