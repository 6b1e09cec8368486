"""A schema's objects, read from the catalogue, as DDL that recreates them (and their rows)
in another schema.

Tables are made as django-tenants' and pg-clone-schema's `clone_schema` make them, with
`CREATE TABLE … (LIKE source.table INCLUDING …)`: PostgreSQL copies columns, defaults, CHECK
constraints, identity and generated columns and every index as its stored expression trees, so
nothing is printed and re-parsed (a CHECK (x IN (…)) printed and parsed again is stored
differently). What LIKE gets wrong is then put right: it names the indexes it copies its own
way (a trial run in a savepoint tells which is which, so each gets its name back), and copied
defaults still draw on the source's sequences (they are set again). Everything else is printed
the way pg_dump prints it (pg_get_constraintdef, pg_get_viewdef, pg_get_triggerdef…), with the
source schema first on the search path: PostgreSQL then prints the source's own objects
unqualified, and the statements, run with the target first on the search path, make the target's
own objects — its foreign keys point at its own tables — while names from `public` (PostGIS,
national tables) keep resolving to `public`. Only LIKE and the row and sequence copies name the
source, on purpose. The statements do not depend on the target's name: a caller may keep them
for as long as the source does not change.
"""

from __future__ import annotations

import re
from graphlib import TopologicalSorter

from sqlalchemy import text

from core.tenancy import quote


class CloneError(RuntimeError):
    """The source schema holds something the clone cannot reproduce faithfully."""


_UNSUPPORTED = text(
    """
    SELECT format('%s %I', CASE c.relkind WHEN 'p' THEN 'partitioned table'
                  WHEN 'I' THEN 'partitioned index' WHEN 'f' THEN 'foreign table'
                  WHEN 'c' THEN 'composite type' ELSE 'relation' END, c.relname)
    FROM pg_class c WHERE c.relnamespace = :ns AND c.relkind NOT IN ('r', 'S', 'i', 'v', 'm')
    UNION ALL
    SELECT format('table %I (inheritance or row security)', c.relname)
    FROM pg_class c
    WHERE c.relnamespace = :ns AND c.relkind = 'r' AND (c.relrowsecurity OR EXISTS (
        SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid))
    UNION ALL
    SELECT format('type %I', t.typname) FROM pg_type t
    WHERE t.typnamespace = :ns
      AND (t.typtype IN ('d', 'r', 'm', 'e') OR (t.typtype = 'b' AND t.typcategory <> 'A'))
    UNION ALL
    SELECT format('aggregate or window function %I', p.proname) FROM pg_proc p
    WHERE p.pronamespace = :ns AND p.prokind IN ('a', 'w')
    UNION ALL
    SELECT format('extension %I', e.extname) FROM pg_extension e WHERE e.extnamespace = :ns
    UNION ALL
    SELECT format('policy %I', p.polname) FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = :ns
    UNION ALL
    -- what LIKE copies keeps pointing at the source's functions and sequences
    SELECT format('%s (uses %s)', pg_describe_object(d.classid, d.objid, d.objsubid),
                  pg_describe_object(d.refclassid, d.refobjid, 0))
    FROM pg_depend d
    WHERE d.deptype = 'n'
      AND ((d.classid = 'pg_constraint'::regclass AND d.objid IN (
                SELECT oid FROM pg_constraint WHERE connamespace = :ns AND contype = 'c'))
           OR (d.classid = 'pg_class'::regclass AND d.objid IN (
                SELECT oid FROM pg_class WHERE relnamespace = :ns AND relkind = 'i'))
           OR (d.classid = 'pg_attrdef'::regclass AND d.objid IN (
                SELECT ad.oid FROM pg_attrdef ad
                JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
                JOIN pg_class c ON c.oid = ad.adrelid
                WHERE c.relnamespace = :ns AND a.attgenerated <> '')))
      AND ((d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (
                SELECT oid FROM pg_proc WHERE pronamespace = :ns))
           OR (d.refclassid = 'pg_class'::regclass AND d.refobjid IN (
                SELECT oid FROM pg_class WHERE relnamespace = :ns AND relkind = 'S')))
    """
)

_FUNCTIONS = text(
    """
    SELECT pg_get_functiondef(p.oid) FROM pg_proc p
    WHERE p.pronamespace = :ns AND p.prokind IN ('f', 'p') ORDER BY p.oid
    """
)

_SEQUENCE_OPTIONS = """
    format('INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',
           s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
           CASE WHEN s.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
"""

# Sequences of their own (serial columns' included); identity columns make theirs.
_SEQUENCES = text(
    f"""
    SELECT format('CREATE SEQUENCE %I AS %s %s', c.relname, format_type(s.seqtypid, NULL),
                  {_SEQUENCE_OPTIONS})
    FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
    WHERE c.relnamespace = :ns AND c.relkind = 'S' AND NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
    ORDER BY c.oid
    """  # noqa: S608 - a constant fragment, no input
)

_TABLES = text(
    """
    SELECT format('CREATE %sTABLE %I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                  'INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE '
                  'INCLUDING COMPRESSION INCLUDING INDEXES)',
                  CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END,
                  c.relname, n.nspname, c.relname)
           || CASE WHEN c.reloptions IS NULL THEN ''
                   ELSE format('; ALTER TABLE %I SET (%s)', c.relname,
                               array_to_string(c.reloptions, ', ')) END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relnamespace = :ns AND c.relkind = 'r' ORDER BY c.oid
    """
)

# Defaults LIKE copied that draw on the source's own sequences or functions, set again.
_DEFAULTS = text(
    """
    SELECT format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s', c.relname, a.attname,
                  pg_get_expr(ad.adbin, ad.adrelid, true))
    FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    WHERE c.relnamespace = :ns AND c.relkind = 'r' AND a.attgenerated = '' AND EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
          AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (
                    SELECT oid FROM pg_class WHERE relnamespace = :ns AND relkind = 'S'))
               OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (
                    SELECT oid FROM pg_proc WHERE pronamespace = :ns))))
    ORDER BY c.oid, a.attnum
    """
)

# Each table's indexes, their names apart: how an index LIKE copied is told from the others.
_INDEX_SHAPES = text(
    r"""
    SELECT quote_ident(c.relname) AS tab, quote_ident(ic.relname) AS name,
           regexp_replace(pg_get_indexdef(i.indexrelid, 0, true),
                          '^(CREATE (UNIQUE )?INDEX )("([^"]|"")*"|\S+) ', '') AS shape
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = :ns AND c.relkind = 'r' ORDER BY c.oid, i.indexrelid
    """
)

# The rows (seed rows, the alembic version row): identity values kept, generated ones recomputed.
_ROWS = text(
    """
    SELECT format('INSERT INTO %I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %I.%I',
                  c.relname, cols, cols, n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL (
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
        FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    ) x
    WHERE c.relnamespace = :ns AND c.relkind = 'r' AND cols IS NOT NULL
    ORDER BY c.oid
    """
)

_SEQUENCE_VALUES = text(
    """
    SELECT format('SELECT pg_catalog.setval(%L, last_value, is_called) FROM %I.%I',
                  quote_ident(c.relname), n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relnamespace = :ns AND c.relkind = 'S' ORDER BY c.oid
    """
)

# LIKE makes identity sequences bigint whatever the column (PostgreSQL 15): their type again.
_IDENTITY_TYPES = text(
    """
    SELECT format('ALTER SEQUENCE %I AS %s', c.relname, format_type(s.seqtypid, NULL))
    FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
    WHERE c.relnamespace = :ns AND c.relkind = 'S' AND EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
    ORDER BY c.oid
    """
)

_SEQUENCE_OWNERS = text(
    """
    SELECT format('ALTER SEQUENCE %I OWNED BY %I.%I', s.relname, t.relname, a.attname)
    FROM pg_class s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
         AND d.deptype = 'a' AND d.refclassid = 'pg_class'::regclass
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE s.relnamespace = :ns AND s.relkind = 'S' ORDER BY s.oid
    """
)

_FOREIGN_KEYS = text(
    """
    SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname,
                  pg_get_constraintdef(k.oid, true))
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE c.relnamespace = :ns AND k.contype = 'f' ORDER BY k.oid
    """
)

# Tables get theirs from LIKE; materialized views' are made again.
_VIEW_INDEXES = text(
    """
    SELECT pg_get_indexdef(i.indexrelid, 0, true)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = :ns AND c.relkind = 'm' ORDER BY i.indexrelid
    """
)

_VIEWS = text(
    """
    SELECT c.oid,
           format('CREATE %s %I%s AS %s%s',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, c.relname,
                  CASE WHEN c.reloptions IS NOT NULL
                       THEN format(' WITH (%s)', array_to_string(c.reloptions, ', ')) ELSE '' END,
                  rtrim(pg_get_viewdef(c.oid, true), E'; \n'),
                  CASE WHEN c.relkind = 'v' THEN ''
                       WHEN c.relispopulated THEN ' WITH DATA' ELSE ' WITH NO DATA' END),
           ARRAY(SELECT DISTINCT d.refobjid FROM pg_rewrite r
                 JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                 WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass
                   AND d.refobjid <> c.oid)
    FROM pg_class c WHERE c.relnamespace = :ns AND c.relkind IN ('v', 'm') ORDER BY c.oid
    """
)

_TRIGGERS = text(
    """
    SELECT pg_get_triggerdef(t.oid, true) || CASE t.tgenabled WHEN 'D'
           THEN format('; ALTER TABLE %I DISABLE TRIGGER %I', c.relname, t.tgname) ELSE '' END
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = :ns AND NOT t.tgisinternal ORDER BY t.oid
    """
)

_RULES = text(
    """
    SELECT rtrim(pg_get_ruledef(r.oid, true), ';') FROM pg_rewrite r
    JOIN pg_class c ON c.oid = r.ev_class
    WHERE c.relnamespace = :ns AND r.rulename <> '_RETURN' ORDER BY r.oid
    """
)

_COMMENTS = text(
    """
    SELECT format('COMMENT ON %s IS %L', target, description) FROM (
        SELECT CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW'
                    WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                    ELSE 'INDEX' END || ' ' || quote_ident(c.relname) AS target, d.description
        FROM pg_description d JOIN pg_class c ON d.objoid = c.oid
        WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND c.relnamespace = :ns
          AND c.relkind IN ('r', 'v', 'm', 'S', 'i')
        UNION ALL
        SELECT format('COLUMN %I.%I', c.relname, a.attname), d.description
        FROM pg_description d JOIN pg_class c ON d.objoid = c.oid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
        WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0 AND c.relnamespace = :ns
        UNION ALL
        SELECT format('CONSTRAINT %I ON %I', k.conname, c.relname), d.description
        FROM pg_description d JOIN pg_constraint k ON d.objoid = k.oid
        JOIN pg_class c ON c.oid = k.conrelid
        WHERE d.classoid = 'pg_constraint'::regclass AND c.relnamespace = :ns
        UNION ALL
        SELECT format('TRIGGER %I ON %I', t.tgname, c.relname), d.description
        FROM pg_description d JOIN pg_trigger t ON d.objoid = t.oid
        JOIN pg_class c ON c.oid = t.tgrelid
        WHERE d.classoid = 'pg_trigger'::regclass AND c.relnamespace = :ns
        UNION ALL
        SELECT format('RULE %I ON %I', r.rulename, c.relname), d.description
        FROM pg_description d JOIN pg_rewrite r ON d.objoid = r.oid
        JOIN pg_class c ON c.oid = r.ev_class
        WHERE d.classoid = 'pg_rewrite'::regclass AND c.relnamespace = :ns
          AND r.rulename <> '_RETURN'
        UNION ALL
        SELECT format('ROUTINE %I(%s)', p.proname, pg_get_function_identity_arguments(p.oid)),
               d.description
        FROM pg_description d JOIN pg_proc p ON d.objoid = p.oid
        WHERE d.classoid = 'pg_proc'::regclass AND p.pronamespace = :ns
    ) comments
    """
)


def _views(connection, ns: int) -> list[str]:
    """Views in an order where each comes after the views it reads."""
    rows = connection.execute(_VIEWS, {"ns": ns}).all()
    statements = {oid: sql for oid, sql, _ in rows}
    graph = {oid: [d for d in deps if d in statements] for oid, _, deps in rows}
    return [statements[oid] for oid in TopologicalSorter(graph).static_order()]


def _functions(connection, ns: int, source: str) -> list[str]:
    """pg_get_functiondef always names the schema: the header is made relative again."""
    names = f"(?:{re.escape(source)}|{re.escape(quote(source))})"
    header = re.compile(rf"^CREATE OR REPLACE (FUNCTION|PROCEDURE) {names}\.")
    found = connection.execute(_FUNCTIONS, {"ns": ns}).scalars()
    return [header.sub(r"CREATE \1 ", sql) for sql in found]


def _statements(connection, query, ns: int) -> list[str]:
    return list(connection.execute(query, {"ns": ns}).scalars())


_PROBE = "tenant_clone_probe"


def _index_renames(connection, ns: int, shape: list[str]) -> list[str]:
    """LIKE names the indexes it copies after their columns: run the shape once in a savepoint
    and match each copied index with the source's of the same table and definition."""
    with connection.begin_nested() as trial:
        connection.exec_driver_sql(f'CREATE SCHEMA "{_PROBE}"')
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{_PROBE}", public')
        connection.connection.driver_connection.execute(";\n".join(shape))
        probe = connection.execute(
            text("SELECT oid FROM pg_namespace WHERE nspname = :s"), {"s": _PROBE}
        ).scalar()
        copied = connection.execute(_INDEX_SHAPES, {"ns": probe}).all()
        trial.rollback()
    original: dict[tuple[str, str], list[str]] = {}
    for row in connection.execute(_INDEX_SHAPES, {"ns": ns}):
        original.setdefault((row.tab, row.shape), []).append(row.name)
    pairs = []
    for row in copied:
        names = original.get((row.tab, row.shape))
        if not names:
            raise CloneError(f"no index of {row.tab} matches the copy {row.shape}")
        pairs.append((row.name, names.pop(0)))
    pairs = [(made, wanted) for made, wanted in pairs if made != wanted]
    if not {wanted for _, wanted in pairs} & {made for made, _ in pairs}:
        return [f"ALTER INDEX {made} RENAME TO {wanted}" for made, wanted in pairs]
    # a wanted name is still held by another copy: every copy steps aside first
    return [
        f"ALTER INDEX {made} RENAME TO tenant_clone_{i}" for i, (made, _) in enumerate(pairs)
    ] + [f"ALTER INDEX tenant_clone_{i} RENAME TO {wanted}" for i, (_, wanted) in enumerate(pairs)]


def schema_ddl(connection, source: str) -> list[str]:
    """The statements that recreate `source`'s objects and rows in the schema first on the
    search path when they run (in one transaction, with `check_function_bodies` off, while
    `source` still exists as it is now).

    Changes the transaction's search path (SET LOCAL); raises CloneError for what it cannot
    reproduce.
    """
    ns = connection.execute(
        text("SELECT oid FROM pg_namespace WHERE nspname = :s"), {"s": source}
    ).scalar()
    if ns is None:
        raise CloneError(f"no schema {source!r} to clone")
    if unsupported := _statements(connection, _UNSUPPORTED, ns):
        raise CloneError(
            f"schema {source!r} holds what a clone cannot copy: {', '.join(unsupported)}"
        )
    connection.exec_driver_sql(f"SET LOCAL search_path TO {quote(source)}, public")
    printed = [
        *_functions(connection, ns, source),
        *_statements(connection, _SEQUENCES, ns),
    ]
    tables = _statements(connection, _TABLES, ns)
    fixes = [
        *_statements(connection, _DEFAULTS, ns),
        *_statements(connection, _IDENTITY_TYPES, ns),
        *_statements(connection, _SEQUENCE_OWNERS, ns),
    ]
    finish = [
        *_views(connection, ns),
        *_statements(connection, _VIEW_INDEXES, ns),
        *_statements(connection, _FOREIGN_KEYS, ns),
        *_statements(connection, _TRIGGERS, ns),
        *_statements(connection, _RULES, ns),
    ]
    comments = _statements(connection, _COMMENTS, ns)
    named = re.compile(rf"(?<![\w\"]){re.escape(source)}\.|{re.escape(quote(source))}\.")
    for statement in printed + fixes + finish:
        if named.search(statement):
            raise CloneError(
                f"schema {source!r} refers to itself by name, a clone would point back at it: "
                f"{statement[:200]}"
            )
    shape = [*printed, *tables, *fixes]
    renames = _index_renames(connection, ns, ["SET LOCAL check_function_bodies = off", *shape])
    connection.exec_driver_sql(f"SET LOCAL search_path TO {quote(source)}, public")
    copies = _statements(connection, _ROWS, ns) + _statements(connection, _SEQUENCE_VALUES, ns)
    return shape + renames + copies + finish + comments
