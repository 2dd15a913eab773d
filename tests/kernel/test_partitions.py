"""Monthly partitions on PostgreSQL (migration 0050_kernel_partitions, kernel/partitions.py):
the tables are partitioned after the migration, rows land in the partition of their month (or
the DEFAULT one, never refused), the keyed audit chain verifies across partitions and a
tampered row in an old partition is found, the append-only triggers hold on every partition,
and creating next months' partitions is idempotent. PostgreSQL only: SQLite keeps one table
each (and the migration leaves it alone, which the migrations test checks)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from tests.conftest import People, postgres_copy
from tests.kernel.helpers import drop_append_only_triggers, entries, new_sop, raw, snapshot

from pharmaqms.kernel import audit, auth, clock, partitions
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify

pytestmark = pytest.mark.clause("part11:11.10(c)", "part11:11.10(e)", "alcoa:enduring")


@pytest.fixture
def pg(postgres_template: str) -> Iterator[Database]:
    """A database of its own copied from the migrated PostgreSQL template, for the
    application role (as ``db`` makes one, PostgreSQL only)."""
    yield from postgres_copy(postgres_template, "pqms_parts")


def boundary(db: Database) -> datetime:
    """The first month after the history partition (the migration's boundary)."""
    with db.engine.connect() as conn:
        bound = dict(partitions.partitions(conn, "audit_entries"))["audit_entries_phistory"]
    stamp = bound.split("TO ('")[1][:10]
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC)


def home_of(db: Database, seq: int) -> str:
    with db.engine.connect() as conn:
        found: str = conn.execute(
            text("SELECT tableoid::regclass::text FROM audit_entries WHERE seq = :s"), {"s": seq}
        ).scalar_one()
    return found


def report_of(db: Database) -> list[tuple[str, int | None]]:
    with unit_of_work(db, write=False) as session:
        report = verify(session)
    return [(f.kind, f.seq) for f in report.findings]


def test_the_migration_partitions_each_table_by_month(pg: Database) -> None:
    first = boundary(pg)
    with pg.engine.connect() as conn:
        for table in partitions.MONTHLY:
            assert partitions.is_partitioned(conn, table), table
            names = [name for name, _ in partitions.partitions(conn, table)]
            assert f"{table}_phistory" in names
            assert f"{table}_pdefault" in names
            assert partitions.partition_name(table, first) in names
            # the key carries the time column, as PostgreSQL requires of a partitioned table
            key = conn.execute(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'"
                ),
                {"t": table},
            ).scalar_one()
            assert key == f"PRIMARY KEY (id, {partitions.MONTHLY[table]})"


def test_rows_of_three_months_land_in_their_partitions_and_verify_across_them(
    pg: Database,
) -> None:
    people = People(pg)
    # given entries from before the boundary (the seeded people) and SOPs written in three
    # months after it, and one entry in a month no partition was made for yet
    author = people.qc
    first = boundary(pg)
    months = [first, partitions.add_months(first, 1), partitions.add_months(first, 2)]
    written: list[tuple[int, datetime]] = []
    for month in months:
        with clock.frozen_at(month.replace(day=3, hour=10)):
            vid = new_sop(pg, author, f"SOP of {month:%B %Y}")
            written.append((vid, month))
    far = partitions.add_months(first, 9)
    with clock.frozen_at(far.replace(day=5)), unit_of_work(pg) as session:
        audit.record_event(
            session,
            actor=auth.system_actor(session, Channel.CLI),
            action="test",
            record_type="partition_check",
            record_label="a month without a partition",
            details={},
        )

    # then each entry lies in its month's partition, the far one in DEFAULT (not refused)
    for vid, month in written:
        [created, *_] = entries(pg, record_type="document_version", record_id=vid)
        assert home_of(pg, created.seq) == partitions.partition_name("audit_entries", month)
    [far_entry] = entries(pg, record_type="partition_check")
    assert home_of(pg, far_entry.seq) == "audit_entries_pdefault"
    assert home_of(pg, 1) == "audit_entries_phistory"
    # and the keyed chain verifies across all of them
    assert report_of(pg) == []


def test_a_tampered_row_in_an_old_partition_is_found(pg: Database) -> None:
    people = People(pg)
    # given entries in the history partition and in a later month
    with clock.frozen_at(boundary(pg).replace(day=2)):
        new_sop(pg, people.qc, "Written after the boundary")
    old = [e for e in entries(pg) if home_of(pg, e.seq) == "audit_entries_phistory"]
    assert len(old) > 3
    target = old[2]
    assert report_of(pg) == []

    # when someone with every right rewrites an entry inside the old partition itself
    drop_append_only_triggers(pg, "audit_entries")
    raw(
        pg,
        "UPDATE audit_entries_phistory SET actor_name = 'someone else' WHERE seq = :seq",
        seq=target.seq,
    )

    # then verify names that entry
    assert ("entry_altered", target.seq) in report_of(pg)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 1",
        "UPDATE audit_entries_phistory SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_entries_phistory WHERE seq = 1",
        "TRUNCATE audit_entries_phistory",
        "TRUNCATE audit_entries_pdefault",
        "TRUNCATE epcis_events",
        "TRUNCATE sensor_readings_phistory",
        "TRUNCATE process_readings_pdefault",
    ],
)
def test_a_partitioned_append_only_table_refuses_change_even_to_a_superuser(
    pg: Database, statement: str
) -> None:
    # given the trail as it stands
    before = snapshot(pg)
    # when raw SQL with every right (the triggers in place) tries to rewrite it
    with pytest.raises(DatabaseError) as refused:
        raw(pg, statement)
    # then the database refuses it, and nothing changed
    assert "append-only" in str(refused.value)
    assert snapshot(pg) == before
    assert report_of(pg) == []


def test_every_partition_carries_the_append_only_triggers(pg: Database) -> None:
    # (a row trigger fires only on a row: the tables without rows here are checked in the
    # catalogue; the audit entries above are refused row by row)
    with pg.engine.connect() as conn:
        for table in partitions.MONTHLY:
            for name, _ in partitions.partitions(conn, table):
                triggers = set(
                    conn.execute(
                        text(
                            "SELECT tgname FROM pg_trigger "
                            "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"
                        ),
                        {"t": name},
                    ).scalars()
                )
                assert f"{table}_append_only" in triggers, name
                assert any(t.endswith("no_truncate") for t in triggers), name


def test_the_application_role_cannot_change_a_partition_either(pg: Database) -> None:
    with pytest.raises(DatabaseError), pg.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries_phistory WHERE seq = 1"))
    assert [e.seq for e in entries(pg)][:1] == [1]


def test_ensure_creates_the_months_ahead_once(pg: Database) -> None:
    # given the partitions the migration made
    first = boundary(pg)
    later = partitions.add_months(first, 5)
    with pg.engine.connect() as conn:
        assert partitions.partition_name("sensor_readings", later) not in dict(
            partitions.partitions(conn, "sensor_readings")
        )

    # when the application role ensures six months ahead, twice
    with pg.engine.begin() as conn:
        once = partitions.ensure(conn, 6, at=first)
    with pg.engine.begin() as conn:
        twice = partitions.ensure(conn, 6, at=first)

    # then the first run creates the missing months of every table, the second nothing
    created = {(r.parent, r.partition) for r in once if r.outcome == "created"}
    assert ("sensor_readings", partitions.partition_name("sensor_readings", later)) in created
    assert {r.parent for r in once if r.outcome == "created"} == set(partitions.MONTHLY)
    assert {r.outcome for r in twice} == {"exists"}
    with pg.engine.connect() as conn:
        names = dict(partitions.partitions(conn, "epcis_events"))
        assert partitions.partition_name("epcis_events", later) in names
        # a new month is append-only as well: its own TRUNCATE trigger, the cloned row trigger
        triggers = set(
            conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger "
                    "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"
                ),
                {"t": partitions.partition_name("epcis_events", later)},
            ).scalars()
        )
    assert triggers == {
        "epcis_events_append_only",
        f"{partitions.partition_name('epcis_events', later)}_no_truncate",
    }


def test_a_month_whose_rows_wait_in_default_is_reported_blocked(pg: Database) -> None:
    # given an entry of a month without a partition (it went to DEFAULT)
    far = partitions.add_months(boundary(pg), 8)
    with clock.frozen_at(far.replace(day=9)), unit_of_work(pg) as session:
        audit.record_event(
            session,
            actor=auth.system_actor(session, Channel.CLI),
            action="test",
            record_type="partition_check",
            record_label="early",
            details={},
        )
    # when ensure reaches that month
    with pg.engine.begin() as conn:
        found = partitions.ensure(conn, 0, at=far)
    # then that table's month is reported blocked (the row stays where it is), the others made
    outcome = {r.parent: r.outcome for r in found}
    assert outcome["audit_entries"].startswith("blocked")
    assert outcome["sensor_readings"] == "created"
    assert report_of(pg) == []


def test_months_ahead_out_of_range_is_refused(pg: Database) -> None:
    with pytest.raises(ValueError, match="between 0 and 120"), pg.engine.begin() as conn:
        partitions.ensure(conn, 121)
    with pg.engine.begin() as conn, pytest.raises(DatabaseError, match="between 0 and 120"):
        conn.execute(text("SELECT * FROM pharmaqms_ensure_partitions(-1)"))


def test_the_cli_ensures_the_months_ahead_and_a_second_run_creates_nothing(pg: Database) -> None:
    from tests.kernel.cli import run_cli

    first = run_cli(pg, "db", "partitions", "ensure", "--months-ahead", "7")
    assert first.exit_code == 0, first.output
    created = int(first.output.split("created ")[-1].split(",")[0])
    assert created == 4 * len(partitions.MONTHLY)  # months 4 to 7 after this one
    again = run_cli(pg, "db", "partitions", "ensure", "--months-ahead", "7")
    assert again.exit_code == 0, again.output
    assert "created 0," in again.output
    listed = run_cli(pg, "db", "partitions", "list")
    assert "audit_entries_phistory" in listed.output
    assert "audit_entries_pdefault" in listed.output


def test_the_cli_says_partitions_are_for_postgresql(tmp_path: Path) -> None:
    from tests.kernel.cli import run_cli_at

    result = run_cli_at(f"sqlite:///{tmp_path / 'x.db'}", "db", "partitions", "ensure")
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output
    assert not (tmp_path / "x.db").exists()


def test_the_daily_job_keeps_the_setting_s_months_ahead(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pharmaqms.kernel.jobs import bind, run_now
    from pharmaqms.kernel.jobs.housekeeping import PARTITIONS_JOB
    from pharmaqms.kernel.settings import reset_settings_cache
    from pharmaqms.schedule import declare

    # the job is on the schedule, once a day
    assert declare()[PARTITIONS_JOB].endswith("* * *")
    bind(pg)
    # with the default (3 months ahead) the migration left nothing to do
    assert run_now(PARTITIONS_JOB) == {"covered": 4, "exists": 12}
    # with 5 months ahead, two more months of each table
    monkeypatch.setenv("PHARMAQMS_DB_PARTITIONS_MONTHS_AHEAD", "5")
    reset_settings_cache()
    try:
        assert run_now(PARTITIONS_JOB) == {"covered": 4, "exists": 12, "created": 8}
        assert run_now(PARTITIONS_JOB) == {"covered": 4, "exists": 20}
    finally:
        monkeypatch.delenv("PHARMAQMS_DB_PARTITIONS_MONTHS_AHEAD")
        reset_settings_cache()


def before_partitions(url: str) -> Database:
    """A database migrated up to, not including, the partitions (a site's before 0050)."""
    from alembic.script import ScriptDirectory

    from pharmaqms.kernel.migrate import alembic_config, upgrade_in

    database = Database(url)
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    with database.engine.begin() as conn:
        for head in sorted(heads):
            if head != "0050_kernel_partitions":
                upgrade_in(conn, head)
    return database


def test_the_conversion_takes_its_locks_first_so_a_writer_waits_instead_of_deadlocking(
    empty_postgres_url: str,
) -> None:
    import threading
    import uuid

    from sqlalchemy.exc import DBAPIError

    from pharmaqms.kernel.migrate import upgrade

    # given a database before the partitions, and a writer capturing EPCIS events throughout
    database = before_partitions(empty_postgres_url)
    stop, written, failed = threading.Event(), [], []

    def capture() -> None:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not stop.is_set():
                event_id = f"urn:uuid:{uuid.uuid4()}"
                try:
                    conn.execute(
                        text(
                            "INSERT INTO epcis_events (event_id, event_type, event_time, "
                            "time_zone_offset, error_declared, document) VALUES (:e, "
                            "'ObjectEvent', now(), '+00:00', false, '{}')"
                        ),
                        {"e": event_id},
                    )
                    written.append(event_id)
                except DBAPIError as failure:
                    failed.append(str(failure.orig)[:300])
                stop.wait(0.005)

    writer = threading.Thread(target=capture, daemon=True)
    writer.start()
    try:
        # when the migration converts the tables while it writes
        while len(written) < 5 and not failed:
            stop.wait(0.01)
        upgrade(database.engine)
        stop.wait(0.2)
    finally:
        stop.set()
        writer.join(10)
    # then no capture failed (in every run before the locks were taken first, one insert was
    # aborted as a deadlock with the migration) and every one is stored, in the partitions
    assert failed == []
    with database.engine.connect() as conn:
        stored = set(conn.execute(text("SELECT event_id FROM epcis_events")).scalars())
        assert partitions.is_partitioned(conn, "epcis_events")
    assert len(written) > 5 and set(written) <= stored
    database.dispose()


def test_a_prepared_database_with_rows_converts_by_attaching_what_prepare_built(
    empty_postgres_url: str,
) -> None:
    from tests.kernel.cli import run_cli_at

    from pharmaqms.kernel.migrate import upgrade

    # given a database migrated up to (not including) the partitions, with rows in the trail
    database = before_partitions(empty_postgres_url)
    with database.engine.begin() as conn:
        for seq in range(1, 201):
            conn.execute(
                text(
                    "INSERT INTO audit_entries (seq, occurred_at, actor_username, actor_name, "
                    "channel, action, record_type, record_label, changes, prev_hash, "
                    "entry_hash) VALUES (:s, now() - make_interval(days => :s), 'x', 'x', "
                    "'cli', 'create', 't', 't', '{}', 'p', 'e')"
                ),
                {"s": seq},
            )

    # when prepare runs while the system runs, then the migration
    prepared = run_cli_at(empty_postgres_url, "db", "partitions", "prepare")
    assert prepared.exit_code == 0, prepared.output
    assert prepared.output.count("ready, history before") == len(partitions.MONTHLY)
    with database.engine.connect() as conn:
        built = conn.execute(
            text("SELECT CAST('audit_entries_phistory_p_id' AS regclass)::oid")
        ).scalar_one()
    upgrade(database.engine)

    # then the rows stayed where they were, now the history partition up to prepare's
    # boundary (two months ahead), and the key index prepare built is the partition's key
    expected = partitions.add_months(partitions.month_start(clock.now()), 2)
    with database.engine.connect() as conn:
        bounds = dict(partitions.partitions(conn, "audit_entries"))
        assert f"TO ('{expected:%Y-%m-%d} 00:00:00+00')" in bounds["audit_entries_phistory"]
        homes = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM audit_entries GROUP BY 1")
        ).all()
        assert homes == [("audit_entries_phistory", 200)]
        parent = conn.execute(
            text("SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = :i"),
            {"i": built},
        ).scalar_one()
        assert parent == "pk_audit_entries"
        for table in partitions.MONTHLY:
            assert partitions.is_partitioned(conn, table)
    database.dispose()


def test_a_conversion_that_can_not_get_its_locks_in_time_fails_whole_and_can_run_again(
    empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import DBAPIError

    from pharmaqms.kernel.migrate import upgrade

    # given a database before the partitions, and an import holding its run open
    database = before_partitions(empty_postgres_url)
    monkeypatch.setattr(partitions.lock_for_conversion, "__kwdefaults__", {"timeout": "1s"})
    with database.engine.connect() as importing:
        importing.execute(text("LOCK TABLE import_runs IN ROW EXCLUSIVE MODE"))
        # when the migration can't have its locks within the timeout, then it fails whole
        with pytest.raises(DBAPIError, match="lock timeout"):
            upgrade(database.engine)
        with database.engine.connect() as conn:
            assert not any(partitions.is_partitioned(conn, t) for t in partitions.MONTHLY)
        importing.rollback()
    # and once the import is done it runs
    upgrade(database.engine)
    with database.engine.connect() as conn:
        assert all(partitions.is_partitioned(conn, t) for t in partitions.MONTHLY)
    database.dispose()
