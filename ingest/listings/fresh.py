"""A large batch's new listings written straight into the table by one COPY, their points given
as EWKT, their creation logged in the same transaction: the upsert's staging table and conflict
checks were most of a territory's first big file. A writer that creates one of the same listings
meanwhile sends the batch back to the upsert, nothing of the try kept."""

from __future__ import annotations

from psycopg import errors
from sqlalchemy import text

from ingest.listings import copy_text
from ingest.listings.declaration import fields_of


def new_ones(connection, kind: str, records: list[dict]) -> list[int]:
    """Positions of the records whose external id has no listing of the kind yet."""
    ids = copy_text.values(records, "external_id")
    taken = set(
        connection.execute(
            text(
                "SELECT b.external_id FROM unnest(CAST(:ids AS text[])) AS b(external_id) "
                "JOIN listings l ON l.kind = :kind AND l.external_id = b.external_id"
            ),
            {"ids": ids, "kind": kind},
        ).scalars()
    )
    return [i for i, external_id in enumerate(ids) if external_id not in taken]


def insert(
    connection,
    kind: str,
    records: list[dict],
    statuses: list[str],
    columns: list[str],
    *,
    source: str,
    account_id: int | None,
    api_key_id: int | None,
    import_id: int | None,
) -> list[int] | None:
    """Create the listings of `records` (none of which exists) and log their creation; the ids
    of those published, or None when another writer created one of them meanwhile (nothing is
    written then). Runs in the caller's transaction."""
    count = len(records)
    declared = {f.name: f.type for f in fields_of(kind)}
    columns = copy_text.held(records, columns)
    account = copy_text.NULL if account_id is None else str(account_id)
    constants = [kind, source, account, account]
    copied = ["kind", "source", "created_by_id", "updated_by_id"]
    copied += ["status", "location_approximate", "geom", "cell_id", *columns]

    def texts(start: int, stop: int) -> list[list[str]]:
        chunk = records[start:stop]
        return [
            *([value] * (stop - start) for value in constants),
            statuses[start:stop],
            ["t" if r.get("location_approximate") else "f" for r in chunk],
            _points(copy_text.values(chunk, "_lon"), copy_text.values(chunk, "_lat")),
            copy_text.texts(copy_text.values(chunk, "cell_id"), "string"),
            *(copy_text.texts(copy_text.values(chunk, c), declared[c]) for c in columns),
        ]

    raw = connection.connection.driver_connection
    connection.exec_driver_sql("SAVEPOINT new_listings")
    try:
        with raw.cursor() as cursor:
            names = ", ".join(f'"{name}"' for name in copied)
            with cursor.copy(f"COPY listings ({names}) FROM STDIN") as copy:
                copy_text.write(copy, count, texts)
    except errors.UniqueViolation:
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT new_listings")
        return None
    connection.exec_driver_sql("RELEASE SAVEPOINT new_listings")
    # Their ids, given by the table, are read back through its (kind, external id) index; the
    # log's rows follow the listings' order.
    return connection.execute(
        text(
            """
            WITH made AS (
                SELECT l.id, l.external_id, l.status
                FROM unnest(CAST(:external_ids AS text[])) AS b(external_id)
                JOIN listings l ON l.kind = :kind AND l.external_id = b.external_id
            ), logged AS (
                INSERT INTO listing_events (listing_id, external_id, action, kind, source,
                                            account_id, api_key_id, import_id)
                SELECT id, external_id, 'create', :kind, :source, :account, :key, :import
                FROM made ORDER BY id
            )
            SELECT coalesce(array_agg(id ORDER BY id) FILTER (WHERE status = 'published'), '{}')
            FROM made
            """
        ),
        {
            "external_ids": copy_text.values(records, "external_id"),
            "kind": kind,
            "source": source,
            "account": account_id,
            "key": api_key_id,
            "import": import_id,
        },
    ).scalar_one()


def _points(lons: list, lats: list) -> list[str]:
    """Each record's point as PostGIS reads it from text (NULL without coordinates)."""
    return [
        copy_text.NULL if lon is None or lat is None else f"SRID=4326;POINT({lon} {lat})"
        for lon, lat in zip(lons, lats, strict=True)
    ]
