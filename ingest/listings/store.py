"""Writing listings: one upsert for the file, the API and the console, and every status change.

Records (typed, located by `rules.locate`) go through a temporary staging table filled by COPY,
then one `INSERT … ON CONFLICT (kind, external_id) DO UPDATE … WHERE … IS DISTINCT FROM` in the
caller's transaction (a big batch's new listings by one COPY into the table, ingest.listings.fresh):
readers see all of a batch or none of it, an identical batch changes nothing (not even
`updated_at`), and every change is written to the activity log. Status changes are in
ingest.listings.statuses, logged the same way. Each write announces `listings_changed` (and
`listing_published` for listings that became published) once its transaction commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from core.signals import announce, listing_published, listings_changed
from core.tenancy import require_tenant
from ingest.listings import copy_text, fresh
from ingest.listings.declaration import KINDS, fields_of
from ingest.listings.models import LOCATION_FIELDS

#: Statuses a writer may ask for; `expired` is set by the expiry date only.
WRITABLE_STATUSES = ("draft", "published", "unpublished")
#: Per-field diffs are kept in the log for batches up to this size (API, console, small files).
TRACKED_BATCH = 1000
_SQL = {
    "string": "text",
    "integer": "integer",
    "number": "numeric(16,2)",
    "boolean": "boolean",
    "date": "date",
}


#: A staged record's point (none without coordinates).
_POINT = "CASE WHEN lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END"


@dataclass
class Outcome:
    """What a write did; up to TRACKED_BATCH records, each one's listing id and action
    (`create|update|unchanged`) too."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    results: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Ids of the listings that became published (announced once committed).
    published: list[int] = field(default_factory=list)


def data_columns(kind: str) -> list[str]:
    """The kind's stored columns that a writer provides (location inputs become geom/cell)."""
    return [f.name for f in fields_of(kind) if f.name not in LOCATION_FIELDS]


def upsert(
    session,
    kind: str,
    records: list[dict],
    *,
    source: str,
    account_id: int | None = None,
    api_key_id: int | None = None,
    import_id: int | None = None,
    snapshot: bool = False,
) -> Outcome:
    """Create or update `records` of `kind`; with `snapshot`, unpublish the kind's published
    listings absent from them. Runs in the session's transaction; the caller commits."""
    columns = data_columns(kind)
    statuses = _statuses(
        copy_text.values(records, "status"), copy_text.values(records, "expires_on")
    )
    connection = session.connection()
    who = {
        "source": source,
        "account_id": account_id,
        "api_key_id": api_key_id,
        "import_id": import_id,
    }
    outcome = Outcome()
    events: list[tuple[int, str, str, dict]] = []
    rest, rest_statuses = records, statuses
    if len(records) > TRACKED_BATCH:
        # A big batch's new listings go in by one COPY; only those that exist take the upsert.
        _know_size(connection)
        new = fresh.new_ones(connection, kind, records)
        made = None
        if new:
            made = fresh.insert(
                connection,
                kind,
                [records[i] for i in new],
                [statuses[i] for i in new],
                columns,
                **who,
            )
        if made is not None:
            outcome.created, outcome.published = len(new), made
            taken = set(new)
            kept = [i for i in range(len(records)) if i not in taken]
            rest, rest_statuses = [records[i] for i in kept], [statuses[i] for i in kept]
    if rest:
        big = len(records) > TRACKED_BATCH
        _apply(connection, kind, rest, rest_statuses, columns, who, outcome, events, big=big)
    outcome.unchanged = len(records) - outcome.created - outcome.updated
    if snapshot:
        gone = connection.execute(
            text(
                """
                UPDATE listings SET status = 'unpublished', updated_at = now(),
                       updated_by_id = :account, source = :source
                WHERE kind = :kind AND status = 'published'
                  AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:ids AS text[])) AS f(external_id)
                                  WHERE f.external_id = listings.external_id)
                RETURNING id, external_id
                """
            ),
            {
                "kind": kind,
                "account": account_id,
                "source": source,
                "ids": copy_text.values(records, "external_id"),
            },
        ).all()
        outcome.unpublished = len(gone)
        flip = {"status": ["published", "unpublished"]}
        events.extend((i, e, "unpublish", flip) for i, e in gone)
    log(
        connection,
        kind,
        events,
        source=source,
        account_id=account_id,
        api_key_id=api_key_id,
        import_id=import_id,
    )
    announce_written(outcome.published)
    return outcome


def _apply(connection, kind, records, statuses, columns, who, outcome, events, *, big) -> None:
    """The upsert of `records` through the staging table, added to `outcome`: counts, ids of
    listings that became published, and for a small batch each record's result and logged
    change (in `events`); a big batch's changes are logged here, in SQL."""
    status_of = dict(zip(copy_text.values(records, "external_id"), statuses, strict=True))
    _stage(connection, kind, records, statuses, columns)
    before = {} if big else _current(connection, kind, records)
    compared = [*columns, "status", "cell_id", "location_approximate"]
    quoted = _quoted(compared)
    _compare(connection, kind, compared, big=big)
    # The insert reads the staging table only: a query of `listings` inside it would walk, row
    # after row, the rows it has just inserted (invisible to it, yet there).
    upsert_sql = f"""
        INSERT INTO listings (kind, source, geom, created_by_id, updated_by_id, {quoted})
        SELECT :kind, :source, {_POINT}, :account, :account, {quoted}
        FROM listing_staging WHERE NOT same
        ORDER BY n
        ON CONFLICT (kind, external_id) DO UPDATE SET
            {", ".join(f'"{c}" = EXCLUDED."{c}"' for c in compared)},
            geom = EXCLUDED.geom, source = EXCLUDED.source,
            updated_by_id = EXCLUDED.updated_by_id, updated_at = now()
        WHERE ({", ".join(f'listings."{c}"' for c in compared)}, ST_AsEWKB(listings.geom))
            IS DISTINCT FROM
              ({", ".join(f'EXCLUDED."{c}"' for c in compared)}, ST_AsEWKB(EXCLUDED.geom))
        RETURNING id, external_id, (xmax = 0) AS inserted, status
    """  # noqa: S608 - column names come from the declarations, values are bound
    parameters = {"kind": kind, "source": who["source"], "account": who["account_id"]}
    if big:
        logged = {"key": who["api_key_id"], "import": who["import_id"]}
        created, updated, published = _upsert_counted(connection, upsert_sql, parameters | logged)
        outcome.created += created
        outcome.updated += updated
        outcome.published += published
        return
    rows = connection.execute(text(upsert_sql), parameters).all()
    changed = {external_id: (id_, inserted) for id_, external_id, inserted, _ in rows}
    outcome.published += [
        id_
        for id_, external_id, inserted, status in rows
        if status == "published"
        and (inserted or before.get(external_id, {}).get("status") != "published")
    ]
    untouched = [r["external_id"] for r in records if r["external_id"] not in changed]
    existing = _ids(connection, kind, untouched)
    for r in records:
        external_id = r["external_id"]
        if external_id in changed:
            listing_id, inserted = changed[external_id]
            action = "create" if inserted else "update"
            if inserted:
                outcome.created += 1
            else:
                outcome.updated += 1
            diff = _diff(before.get(external_id), r, status_of[external_id], columns)
            events.append((listing_id, external_id, action, diff))
        else:
            listing_id, action = existing[external_id], "unchanged"
        outcome.results[external_id] = (listing_id, action)


def _stage(connection, kind: str, records: list[dict], statuses: list[str], columns) -> None:
    """The batch into the temporary staging table by one COPY in text format."""
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS listing_staging (n integer, status text, lon float8, "
        "lat float8, cell_id text, location_approximate boolean, "
        "same boolean NOT NULL DEFAULT false, was_published boolean NOT NULL DEFAULT false, "
        + ", ".join(f'"{f.name}" {_SQL[f.type]}' for f in _all_columns())
        + ") ON COMMIT DROP"
    )
    connection.exec_driver_sql("TRUNCATE listing_staging")
    declared = {f.name: f.type for f in fields_of(kind)}
    columns = copy_text.held(records, columns)
    staged = ["n", "status", "location_approximate", "lon", "lat", "cell_id", *columns]
    typed = [("_lon", "number"), ("_lat", "number"), ("cell_id", "string")]
    typed += [(c, declared[c]) for c in columns]

    def texts(start: int, stop: int) -> list[list[str]]:
        chunk = records[start:stop]
        return [
            list(map(str, range(start, stop))),
            statuses[start:stop],
            ["t" if r.get("location_approximate") else "f" for r in chunk],
            *(copy_text.texts(copy_text.values(chunk, name), type_) for name, type_ in typed),
        ]

    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY listing_staging ({_quoted(staged)}) FROM STDIN") as copy:
            copy_text.write(copy, len(records), texts)


def _upsert_counted(connection, upsert_sql: str, parameters: dict) -> tuple[int, int, list[int]]:
    """A big batch's upsert: only counts come back (created, updated, and the ids of listings
    that became published), and the log gets one event per created or updated listing.

    The staging table is analysed first, so that the planner knows the batch's size (unknown, it
    took 100 000 rows for one and joined them row by row). The upsert's outcome goes through a
    second temporary table, so that the listings' statistics can be brought up to date before
    the log's foreign keys are checked, one per row.
    """
    connection.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS listing_upserted (id integer, external_id text, "
        "inserted boolean, published boolean) ON COMMIT DROP"
    )
    connection.exec_driver_sql("TRUNCATE listing_upserted")
    connection.execute(
        text(
            f"""
            WITH up AS ({upsert_sql})
            INSERT INTO listing_upserted (id, external_id, inserted, published)
            SELECT id, external_id, inserted, status = 'published' FROM up
            """  # noqa: S608 - column names come from the declarations, values are bound
        ),
        parameters,
    )
    connection.exec_driver_sql("ANALYZE listing_upserted")
    created, updated, published = connection.exec_driver_sql(
        "SELECT count(*) FILTER (WHERE u.inserted), count(*) FILTER (WHERE NOT u.inserted), "
        "coalesce(array_agg(u.id ORDER BY u.id) FILTER (WHERE u.published "
        "AND NOT s.was_published), '{}') "
        "FROM listing_upserted u JOIN listing_staging s ON s.external_id = u.external_id"
    ).one()
    _know_size(connection)
    connection.execute(
        text(
            """
            INSERT INTO listing_events (listing_id, external_id, action, kind, source,
                                        account_id, api_key_id, import_id)
            SELECT id, external_id, CASE WHEN inserted THEN 'create' ELSE 'update' END,
                   :kind, :source, :account, :key, :import
            FROM listing_upserted ORDER BY id
            """
        ),
        parameters,
    )
    return created, updated, list(published)


def _compare(connection, kind: str, compared: list[str], *, big: bool) -> None:
    """Mark the staged records identical to their listing (`same`: left out of the upsert,
    whose conflict path would lock and compare each row for no change) and those whose listing
    is published now (`was_published`), in one join before anything is written; a big batch's
    staging table is analysed first, so that the planner knows the batch's size."""
    if big:
        connection.exec_driver_sql("ANALYZE listing_staging (external_id)")
        _know_size(connection)
    connection.execute(
        text(
            f"""
            UPDATE listing_staging s SET was_published = l.status = 'published',
                same = ({", ".join(f'l."{c}"' for c in compared)}, ST_AsEWKB(l.geom))
                    IS NOT DISTINCT FROM
                    ({", ".join(f's."{c}"' for c in compared)}, ST_AsEWKB({_POINT}))
            FROM listings l
            WHERE l.kind = :kind AND l.external_id = s.external_id
            """  # noqa: S608 - column names come from the declarations
        ),
        {"kind": kind},
    )


def _know_size(connection) -> None:
    """Refresh the listings' size statistics when the table is much larger than the planner
    believes (a territory's first big file, before any autovacuum ran): believing it nearly
    empty, it joined a batch to it by scanning it whole for each record, and checked each of the
    log's foreign keys by scanning a whole index, minutes for a 100 000-row file. Only the sizes
    are wanted, so only one column is analysed."""
    stale = connection.exec_driver_sql(
        "SELECT pg_relation_size(oid) / current_setting('block_size')::int > 2 * relpages + 10 "
        "FROM pg_class WHERE oid = 'listings'::regclass"
    ).scalar()
    if stale:
        connection.exec_driver_sql("ANALYZE listings (id)")


def announce_written(published: list[int]) -> None:
    """The search cache (and, for newly published listings, alerts) hear of it after commit."""
    territory = require_tenant()
    announce(listings_changed, territory)
    if published:
        announce(listing_published, territory, ids=tuple(sorted(published)))


def log(connection, kind, events, *, source, account_id=None, api_key_id=None, import_id=None):
    """Append (listing id, external id, action, changes) rows to the activity log at once."""
    if not events:
        return
    # COPY: a 100 000-row file logs as many events in a fraction of a second.
    raw = connection.connection.driver_connection
    columns = "listing_id, external_id, action, changes, kind, source, account_id, api_key_id, "
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY listing_events ({columns}import_id) FROM STDIN") as copy:
            for listing_id, external_id, action, changes in events:
                copy.write_row(
                    (
                        listing_id,
                        external_id,
                        action,
                        json.dumps(changes, default=_json) if changes else "{}",
                        kind,
                        source,
                        account_id,
                        api_key_id,
                        import_id,
                    )
                )


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _statuses(wanted: list[str | None], expires_on: list[date | None]) -> list[str]:
    """The status each record gets: the one asked for (published by default), `expired` for a
    published one past its expiry date."""
    asked = {status for status in set(wanted) if status}
    if not asked <= set(WRITABLE_STATUSES):
        unknown = sorted(asked - set(WRITABLE_STATUSES))[0]
        raise ValueError(f"status {unknown!r}: one of {', '.join(WRITABLE_STATUSES)}")
    today = date.today()
    return [
        "expired"
        if (status or "published") == "published" and until is not None and until < today
        else status or "published"
        for status, until in zip(wanted, expires_on, strict=True)
    ]


def _all_columns():
    seen = {}
    for kind in KINDS:
        for f in fields_of(kind):
            if f.name not in LOCATION_FIELDS:
                seen.setdefault(f.name, f)
    return list(seen.values())


def _ids(connection, kind: str, external_ids: list[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    return dict(
        connection.execute(
            text(
                "SELECT external_id, id FROM listings "
                "WHERE kind = :kind AND external_id = ANY(:ids)"
            ),
            {"kind": kind, "ids": external_ids},
        ).all()
    )


def _current(connection, kind: str, records: list[dict]) -> dict[str, dict]:
    """The stored values of the records' listings, to log what each change changed."""
    columns = data_columns(kind)
    rows = connection.execute(
        text(
            f"SELECT {_quoted(columns)}, status FROM listings "  # noqa: S608 - declared names
            "WHERE kind = :kind AND external_id = ANY(:ids)"
        ),
        {"kind": kind, "ids": [r["external_id"] for r in records]},
    ).mappings()
    return {row["external_id"]: dict(row) for row in rows}


def _diff(before: dict | None, record: dict, status: str, columns: list[str]) -> dict:
    if before is None:
        return {}
    after = {c: record.get(c) for c in columns} | {"status": status}
    return {
        name: [_json(before.get(name)), _json(value)]
        for name, value in after.items()
        if _json(before.get(name)) != _json(value)
    }


def _json(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value
