"""Monthly range partitions of the big time-series tables on PostgreSQL (SQLite stays one
table each): audit entries, sensor and process readings, EPCIS events.

Why partitions: a month is what retention, backup and vacuum work on, and a query over a time
range reads only its months. What PostgreSQL asks in return, and what it means here:

- every primary key and unique constraint must contain the partition key, so on PostgreSQL
  the key ``(id)`` becomes ``(id, <time>)`` and a unique ``(seq)`` becomes ``(seq, <time>)``.
  Ids still come from the one sequence of the table, so they stay unique; the audit chain's
  ``seq`` is allocated under the chain-head lock and ``audit verify`` finds a repeated or
  missing number, so the chain keeps its order without a global unique index;
- a foreign key can only point at a partitioned table through a unique key that contains the
  time column, so the keys that pointed at these tables' ``id`` are dropped on PostgreSQL (the
  rows they point at are append-only and can never go away; the services write both sides in
  one transaction) — :data:`DROPPED_REFERENCES` names them;
- the append-only triggers go on the partitioned table (PostgreSQL 13 and later clone row
  triggers to every partition); a TRUNCATE trigger is per table, so each partition gets its
  own.

Converting a table that already holds rows (:func:`convert`): the table is renamed and
attached, as it is, as the partition of everything before a month boundary; a CHECK
constraint proves its rows lie before the boundary, so ATTACH does not scan it, and a unique
index on ``(id, <time>)`` built beforehand is taken over as the partition's key.
:func:`prepare` builds both without a long lock (``CHECK … NOT VALID`` then ``VALIDATE``,
``CREATE UNIQUE INDEX CONCURRENTLY``) while the system runs; the migration then only renames
and attaches (docs/deploy.md, "Partitions"). New months are created ahead by
``pharmaqms_ensure_partitions`` (:func:`ensure`), a daily job; a DEFAULT partition takes any
row no month is ready for, so a row is never refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, text

from pharmaqms.kernel import clock

# table -> its time column; the tables partitioned by month on PostgreSQL (migration
# 0050_kernel_partitions).
MONTHLY: Final[dict[str, str]] = {
    "audit_entries": "occurred_at",
    "sensor_readings": "measured_at",
    "process_readings": "measured_at",
    "epcis_events": "event_time",
}

# Foreign keys into a partitioned table's ``id`` that PostgreSQL can't keep (see above). A
# later migration must not add one on PostgreSQL (it would fail: no unique key on ``id``
# alone); it names the row by id without a database-level key, and is listed here.
DROPPED_REFERENCES: Final[frozenset[str]] = frozenset(
    {
        "batch_step_entries.reading_id",
        "coldchain_alarms.reading_id",
        "epcis_duplicates.event_id",
        "epcis_duplicates.original_event_id",
        "epcis_error_declarations.declaration_event_id",
        "epcis_event_objects.event_id",
        "excursion_candidates.reading_id",
        "inventory_movements.epcis_event_id",
        "serialised_packs.event_id",
        "spc_alerts.reading_id",
    }
)

HISTORY: Final = "phistory"  # the partition a converted table's earlier rows stay in
DEFAULT: Final = "pdefault"
_BOUNDARY_CHECK: Final = "history_before_"  # + YYYYMM: the CHECK that proves the boundary
MAX_MONTHS_AHEAD: Final = 120


def month_start(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def add_months(at: datetime, months: int) -> datetime:
    index = at.year * 12 + at.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def _q(conn: Connection, name: str) -> str:
    quoted: str = conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()
    return quoted


def is_partitioned(conn: Connection, table: str) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = :t AND c.relnamespace = 'public'::regnamespace"
            ),
            {"t": table},
        ).scalar()
    )


def partitions(conn: Connection, table: str) -> list[tuple[str, str]]:
    """The partitions of ``table`` with their bounds, in order of name."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :t AND p.relnamespace = 'public'::regnamespace ORDER BY 1"
        ),
        {"t": table},
    )
    return [(str(name), str(bound)) for name, bound in rows]


def partition_tables(conn: Connection) -> set[str]:
    """Every table that is a partition of one of :data:`MONTHLY` (empty on SQLite)."""
    if conn.dialect.name != "postgresql":
        return set()
    return {name for table in MONTHLY for name, _ in partitions(conn, table)}


# --------------------------------------------------------------------------- preparation


@dataclass(frozen=True)
class _Key:
    name: str
    kind: str  # p (primary key) | u (unique)
    columns: tuple[str, ...]


def _keys(conn: Connection, table: str) -> list[_Key]:
    rows = conn.execute(
        text(
            "SELECT con.conname, con.contype, array_agg(a.attname ORDER BY k.ord) "
            "FROM pg_constraint con "
            "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
            "WHERE con.conrelid = CAST(:t AS regclass) AND con.contype IN ('p', 'u') "
            "GROUP BY con.conname, con.contype ORDER BY con.conname"
        ),
        {"t": table},
    )
    return [_Key(str(n), str(k), tuple(c)) for n, k, c in rows]


def _boundary_of(conn: Connection, table: str) -> datetime | None:
    """The boundary a validated preparation proved, if any."""
    name = conn.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "AND contype = 'c' AND convalidated AND conname LIKE :p"
        ),
        {"t": table, "p": _BOUNDARY_CHECK + "%"},
    ).scalar()
    if name is None:
        return None
    stamp = str(name)[len(_BOUNDARY_CHECK) :]
    return datetime(int(stamp[:4]), int(stamp[4:6]), 1, tzinfo=UTC)


def _history_key(table: str, key: _Key) -> str:
    return f"{table}_{HISTORY}_{key.kind}_{key.columns[0]}"[:63]


def prepare(conn: Connection, table: str, *, concurrently: bool, months: int = 2) -> datetime:
    """Make ``table`` ready to become the history partition of its partitioned successor; the
    boundary it proved. With ``concurrently`` (an autocommit connection, the system running)
    nothing holds more than a brief lock: the CHECK is added NOT VALID and validated under a
    lock that lets reads and writes go on, the key indexes are built CONCURRENTLY. Safe to run
    again: what is done is kept. Rows dated after the boundary are refused from then until the
    table is converted, hence a boundary ``months`` ahead (run the migration before it)."""
    column = MONTHLY[table]
    boundary = _boundary_of(conn, table)
    if boundary is None:
        latest = conn.execute(text(f"SELECT max({column}) FROM {table}")).scalar()
        start = max(clock.now(), latest) if isinstance(latest, datetime) else clock.now()
        boundary = add_months(month_start(start), months)
        check = f"{_BOUNDARY_CHECK}{boundary:%Y%m}"
        literal = f"'{boundary:%Y-%m-%d} 00:00:00+00'"
        conn.execute(
            text(
                f"ALTER TABLE {table} ADD CONSTRAINT {check} "
                f"CHECK ({column} IS NOT NULL AND {column} < {literal}) NOT VALID"
            )
        )
        conn.execute(text(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}"))
    for key in _keys(conn, table):
        if column in key.columns:
            continue
        name = _history_key(table, key)
        if any(k.name == name for k in _keys(conn, table)):
            continue
        columns = ", ".join((*key.columns, column))
        how = "CONCURRENTLY " if concurrently else ""
        conn.execute(text(f"DROP INDEX {how}IF EXISTS {name}"))  # a failed CONCURRENTLY run
        conn.execute(text(f"CREATE UNIQUE INDEX {how}{name} ON {table} ({columns})"))
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"))
    return boundary


# --------------------------------------------------------------------------- conversion


def lock_for_conversion(conn: Connection, tables: list[str], *, timeout: str = "30s") -> list[str]:
    """Take, at the start of the conversion and in one fixed order, every lock it will need:
    the tables themselves, the tables their keys point at, and the tables whose keys point at
    them (ACCESS EXCLUSIVE: a rename and an attach take no less). Taken one by one as the
    conversion goes, a writer holding one table and waiting for the next deadlocked with the
    migration in every measured run (an insert into epcis_events checking its key into
    import_runs, after attaching sensor_readings had locked import_runs; bench_pg_convert.py).
    Taken first, writers queue behind the migration for its second. A lock not granted within
    ``timeout`` (a long transaction somewhere) fails the migration, which rolls back whole:
    run it again. Returns the tables locked, in order."""
    wanted = [t for t in tables if not is_partitioned(conn, t)]
    if not wanted:
        return []
    related = conn.execute(
        text(
            "SELECT DISTINCT c.relname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid IN (k.conrelid, k.confrelid) "
            "WHERE k.contype = 'f' AND (k.conrelid = ANY(CAST(:t AS regclass[])) "
            "OR k.confrelid = ANY(CAST(:t AS regclass[]))) AND c.relkind IN ('r', 'p')"
        ),
        {"t": wanted},
    ).scalars()
    locked = sorted({*wanted, *related})
    conn.execute(text(f"SET LOCAL lock_timeout = '{timeout}'"))
    conn.execute(
        text(f"LOCK TABLE {', '.join(_q(conn, t) for t in locked)} IN ACCESS EXCLUSIVE MODE")
    )
    return locked


def convert(conn: Connection, table: str, *, months_ahead: int = 3) -> None:
    """Turn ``table`` into a table partitioned by month, its rows kept where they are as the
    history partition (see the module's docstring). Runs inside the migration's transaction;
    with :func:`prepare` run beforehand it only renames, creates and attaches."""
    if is_partitioned(conn, table):
        return
    column = MONTHLY[table]
    boundary = prepare(conn, table, concurrently=False, months=1)
    history = f"{table}_{HISTORY}"
    oid = conn.execute(text("SELECT CAST(:t AS regclass)::oid"), {"t": table}).scalar_one()
    keys = [k for k in _keys(conn, table) if not k.name.startswith(f"{table}_{HISTORY}")]
    outgoing = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = :o AND contype = 'f' ORDER BY conname"
        ),
        {"o": oid},
    ).all()
    incoming = conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE confrelid = :o AND contype = 'f'"
        ),
        {"o": oid},
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = :o "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) "
            "ORDER BY 1"
        ),
        {"o": oid},
    ).all()
    append_only = bool(
        conn.execute(
            text("SELECT 1 FROM pg_trigger WHERE tgrelid = :o AND tgname = :n"),
            {"o": oid, "n": f"{table}_append_only"},
        ).scalar()
    )
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()

    # 1. The old table steps aside under a name of its own; its names free for the new one.
    for referrer, name in incoming:
        conn.execute(text(f"ALTER TABLE {referrer} DROP CONSTRAINT {_q(conn, name)}"))
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {history}"))
    for number, key in enumerate(keys):
        conn.execute(
            text(
                f"ALTER TABLE {history} RENAME CONSTRAINT {_q(conn, key.name)} "
                f"TO {history}_k{number}"
            )
        )
    for number, (name, _) in enumerate(outgoing):
        conn.execute(
            text(f"ALTER TABLE {history} RENAME CONSTRAINT {_q(conn, name)} TO {history}_f{number}")
        )
    for number, (name, _) in enumerate(indexes):
        conn.execute(text(f"ALTER INDEX {_q(conn, name)} RENAME TO {history}_i{number}"))
    if append_only:
        # The partitioned table's trigger is cloned onto every partition under this name.
        conn.execute(text(f"DROP TRIGGER {table}_append_only ON {history}"))

    # 2. The partitioned table, with the old names, keys widened by the time column.
    conn.execute(
        text(
            f"CREATE TABLE {table} (LIKE {history} INCLUDING DEFAULTS) "
            f"PARTITION BY RANGE ({column})"
        )
    )
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))
    for key in keys:
        columns = ", ".join(key.columns if column in key.columns else (*key.columns, column))
        kind = "PRIMARY KEY" if key.kind == "p" else "UNIQUE"
        conn.execute(
            text(f"ALTER TABLE {table} ADD CONSTRAINT {_q(conn, key.name)} {kind} ({columns})")
        )
    for name, definition in outgoing:
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {_q(conn, name)} {definition}"))
    for name, definition in indexes:
        unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
        body = definition.split(" USING ", 1)[1]
        conn.execute(text(f"CREATE {unique}INDEX {_q(conn, name)} ON {table} USING {body}"))

    # 3. The old rows become the partition of everything before the boundary: the validated
    # CHECK spares the scan, and its indexes and keys are taken over as the new table's.
    literal = f"'{boundary:%Y-%m-%d} 00:00:00+00'"
    conn.execute(
        text(
            f"ALTER TABLE {table} ATTACH PARTITION {history} "
            f"FOR VALUES FROM (MINVALUE) TO ({literal})"
        )
    )
    if append_only:
        conn.execute(
            text(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pharmaqms_append_only()"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pharmaqms_append_only()"
            )
        )
    default = f"{table}_{DEFAULT}"
    conn.execute(text(f"CREATE TABLE {default} PARTITION OF {table} DEFAULT"))
    if append_only:
        conn.execute(
            text(
                f"CREATE TRIGGER {default}_no_truncate BEFORE TRUNCATE ON {default} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pharmaqms_append_only()"
            )
        )


# --------------------------------------------------------------------------- new months

ENSURE_FUNCTION: Final = """
CREATE OR REPLACE FUNCTION pharmaqms_ensure_partitions(months_ahead integer,
    base timestamptz DEFAULT now())
RETURNS TABLE(parent text, part text, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    t record;
    first date := date_trunc('month', base AT TIME ZONE 'UTC')::date;
    m date;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 120, not %', months_ahead
            USING ERRCODE = '22023';
    END IF;
    FOR t IN SELECT c.relname::text AS name, EXISTS (SELECT 1 FROM pg_trigger g
                WHERE g.tgrelid = c.oid AND g.tgname = c.relname || '_append_only') AS frozen
             FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
             WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1 LOOP
        FOR i IN 0..months_ahead LOOP
            m := (first + make_interval(months => i))::date;
            parent := t.name;
            part := t.name || '_p' || to_char(m, 'YYYYMM');
            IF to_regclass(quote_ident(part)) IS NOT NULL THEN
                outcome := 'exists';
            ELSE
                BEGIN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                        part, t.name, m::text || ' 00:00:00+00',
                        (m + interval '1 month')::date::text || ' 00:00:00+00');
                    IF t.frozen THEN
                        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH '
                            'STATEMENT EXECUTE FUNCTION pharmaqms_append_only()',
                            part || '_no_truncate', part);
                    END IF;
                    outcome := 'created';
                EXCEPTION
                    WHEN invalid_object_definition THEN
                        outcome := 'covered';  -- an earlier partition holds this month
                    WHEN check_violation THEN
                        outcome := 'blocked: the default partition holds rows of this month';
                END;
            END IF;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$fn$
"""


@dataclass(frozen=True)
class Ensured:
    parent: str
    partition: str
    outcome: str  # created | exists | covered | blocked: …


def ensure(conn: Connection, months_ahead: int, *, at: datetime | None = None) -> list[Ensured]:
    """Create this month's and the next ``months_ahead`` months' partitions of every
    partitioned table that lacks them (nothing on SQLite). Idempotent; runs as the
    application role through the SECURITY DEFINER function the migration installed."""
    if conn.dialect.name != "postgresql":
        return []
    if not 0 <= months_ahead <= MAX_MONTHS_AHEAD:
        raise ValueError(f"months ahead must be between 0 and {MAX_MONTHS_AHEAD}")
    rows = conn.execute(
        text("SELECT parent, part, outcome FROM pharmaqms_ensure_partitions(:n, :at)"),
        {"n": months_ahead, "at": at or clock.now()},
    )
    return [Ensured(str(p), str(q), str(o)) for p, q, o in rows]


def unexplained(diffs: list[Any], partition_names: set[str]) -> list[Any]:
    """The differences Alembic finds between the models and a PostgreSQL database, less those
    partitioning makes on purpose (see the module's docstring): a partition (a table the
    models don't declare), a unique key widened by the time column (found as the declared one
    missing and the widened one present), a dropped reference. The migrations test compares
    everything else."""

    def unique(diff: Any, kind: str) -> tuple[str, tuple[str, ...]] | None:
        constraint = diff[1]
        if diff[0] != kind or type(constraint).__name__ != "UniqueConstraint":
            return None
        return str(constraint.table.name), tuple(str(c.name) for c in constraint.columns)

    widened = {found for d in diffs if (found := unique(d, "remove_constraint"))}
    left = []
    for diff in diffs:
        kind = diff[0]
        if kind == "remove_table" and str(diff[1].name) in partition_names:
            continue
        if kind == "remove_index" and str(diff[1].table.name) in partition_names:
            continue
        declared = unique(diff, "add_constraint")
        if declared and declared[0] in MONTHLY:
            table, columns = declared
            if (table, (*columns, MONTHLY[table])) in widened:
                widened.discard((table, (*columns, MONTHLY[table])))
                continue
        if kind == "add_fk":
            fk = diff[1]
            names = {f"{fk.table.name}.{c.name}" for c in fk.columns}
            if str(fk.referred_table.name) in MONTHLY and names <= DROPPED_REFERENCES:
                continue
        left.append(diff)
    # A widened key is explained only by the declared one it stands for.
    return [
        d for d in left if not ((found := unique(d, "remove_constraint")) and found not in widened)
    ]
