"""PostgreSQL test databases used again instead of created for every test.

``CREATE DATABASE … TEMPLATE`` costs about 1.2 s of the server's CPU for our ~900 relations
(measured on this machine kind, idle, either strategy), and a test run asks for ~450 of them:
on 2 cores that was a fifth of ``make test``. A database a test has finished with is instead
put back as the template left it: what the test wrote is deleted, the template's rows are
copied back and every sequence is set to the template's value — well under 0.2 s.

It is only used again when its schema is the template's: a fingerprint of the relations,
columns, triggers (and whether they are enabled), functions, grants and database settings
must be equal. A test that altered any of them (the partition conversion, a tamperer that
switches a trigger off) gets its database dropped, and the next one is created afresh.

The reset runs as the superuser with ``session_replication_role = replica``: the append-only
triggers and the foreign keys' triggers do not fire, which is what lets the rows go.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

# Schemas of the application and the job queue; the system's own are not touched.
_SKIP_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

_FINGERPRINT = """
select string_agg(x, E'\\n' order by x) from (
  select 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' '
         || coalesce(c.relacl::text, '') || ' ' || c.relnatts || ' ' || c.relispartition
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%'
  union all
  select 'col ' || a.attrelid::regclass::text || '.' || a.attname || ' '
         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
  from pg_attribute a join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    and n.nspname not like 'pg_temp%' and a.attnum > 0 and not a.attisdropped
  union all
  select 'trg ' || t.tgrelid::regclass::text || '.' || t.tgname || ' ' || t.tgenabled::text
         || ' ' || t.tgfoid::regproc::text
  from pg_trigger t join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
  where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  union all
  select 'fn ' || n.nspname || '.' || p.proname || ' ' || md5(coalesce(p.prosrc, ''))
         || ' ' || coalesce(p.proacl::text, '')
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  union all
  select 'ns ' || nspname || ' ' || coalesce(nspacl::text, '') from pg_namespace
  union all
  select 'set ' || coalesce(array_to_string(s.setconfig, ','), '') || ' ' || s.setrole
  from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
  where d.datname = current_database()
  union all
  select 'pub ' || pubname from pg_publication
) fingerprint(x)
"""

_TABLES = """
select n.nspname, c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
order by 1, 2
"""

_SEQUENCES = """
select n.nspname, c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'S' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
order by 1, 2
"""


def _ident(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def fingerprint(conn: psycopg.Connection) -> str:
    text = conn.execute(_FINGERPRINT).fetchone()
    return hashlib.sha256(str(text[0] if text else "").encode()).hexdigest()


def _non_empty(conn: psycopg.Connection, tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tables holding at least one row, in one round trip."""
    if not tables:
        return []
    probes = sql.SQL(" union all ").join(
        sql.SQL("select {} where exists (select 1 from {})").format(
            sql.Literal(i), _ident(schema, name)
        )
        for i, (schema, name) in enumerate(tables)
    )
    return [tables[row[0]] for row in conn.execute(probes).fetchall()]


@dataclass
class Snapshot:
    """What the template holds: its schema's fingerprint, the rows of its non-empty tables
    (binary COPY, the stored columns only) and every sequence's state."""

    fingerprint: str
    tables: list[tuple[str, str]]
    rows: dict[tuple[str, str], tuple[list[str], bytes]] = field(default_factory=dict)
    sequences: list[tuple[str, str, int, bool]] = field(default_factory=list)


def _stored_columns(conn: psycopg.Connection, schema: str, name: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            """select a.attname from pg_attribute a
               where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
                 and a.attgenerated = '' order by a.attnum""",
            (f'"{schema}"."{name}"',),
        ).fetchall()
    ]


def snapshot(conninfo: str) -> Snapshot:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tables = [(r[0], r[1]) for r in conn.execute(_TABLES).fetchall()]
        taken = Snapshot(fingerprint(conn), tables)
        for schema, name in _non_empty(conn, tables):
            columns = _stored_columns(conn, schema, name)
            data = bytearray()
            statement = sql.SQL("copy {} ({}) to stdout (format binary)").format(
                _ident(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor().copy(statement) as copy:
                for chunk in copy:
                    data += chunk
            taken.rows[(schema, name)] = (columns, bytes(data))
        for schema, name in [(r[0], r[1]) for r in conn.execute(_SEQUENCES).fetchall()]:
            last, called = conn.execute(
                sql.SQL("select last_value, is_called from {}").format(_ident(schema, name))
            ).fetchone() or (1, False)
            taken.sequences.append((schema, name, int(last), bool(called)))
    return taken


def reset(conninfo: str, database: str, template: Snapshot) -> bool:
    """Put ``database`` back as the template left it; False (nothing done) when its schema
    is no longer the template's."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # A server or worker a test left behind must not write into the next test's data.
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            (database,),
        )
        if fingerprint(conn) != template.fingerprint:
            return False
        with conn.transaction():
            conn.execute("set local session_replication_role = replica")
            written = _non_empty(conn, template.tables)
            for schema, name in sorted(set(written) | set(template.rows)):
                conn.execute(sql.SQL("delete from {}").format(_ident(schema, name)))
            for (schema, name), (columns, data) in template.rows.items():
                statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
                    _ident(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with conn.cursor().copy(statement) as copy:
                    copy.write(data)
            if template.sequences:
                conn.execute(
                    sql.SQL("select {}").format(
                        sql.SQL(", ").join(
                            sql.SQL("setval({}, {}, {})").format(
                                sql.Literal(f'"{schema}"."{name}"'),
                                sql.Literal(last),
                                sql.Literal(called),
                            )
                            for schema, name, last, called in template.sequences
                        )
                    )
                )
    return True
