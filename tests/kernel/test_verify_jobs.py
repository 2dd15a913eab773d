"""``audit verify --jobs N``: the chain cut into runs of sequence numbers, each checked in a
process of its own, gives the verdict of one process — an intact trail passes, and a break in
any run (inside it or at its first entry, where the runs are joined) is found and named alike."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from tests.conftest import People
from tests.kernel.cli import run_cli
from tests.kernel.helpers import drop_append_only_triggers, new_sop, raw

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import VerifyReport, _splits, verify
from pharmaqms.kernel.verify_data import check_timestamps


def report_of(db: Database, jobs: int) -> VerifyReport:
    with unit_of_work(db, write=False) as s:
        return verify(s, jobs=jobs)


def second_of_three(db: Database, people: People) -> tuple[int, int]:
    """A trail long enough to cut in three; the first and last sequence number of the second
    run when it is cut in three."""
    for n in range(6):
        new_sop(db, people.qc, f"Cleaning procedure {n}")
    with db.engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(seq), max(seq) FROM audit_entries")).one()
    start, end = _splits(low, high, 3)[1]
    assert start is not None and end is not None and end - start >= 3
    return start, end - 1


def verdicts(db: Database) -> dict[int, VerifyReport]:
    return {jobs: report_of(db, jobs) for jobs in (1, 2, 3)}


def assert_alike(reports: dict[int, VerifyReport]) -> None:
    one = reports[1].as_dict()
    for jobs, report in reports.items():
        assert report.as_dict() == one, f"--jobs {jobs} differs from one process"


@pytest.mark.clause("part11:11.10(e)")
@pytest.mark.postgres
def test_an_intact_trail_verifies_intact_in_any_number_of_processes(
    db: Database, people: People
) -> None:
    # given an untouched trail of some length
    second_of_three(db, people)

    # when it is verified in one, two and three processes
    reports = verdicts(db)

    # then each says intact, with the same counts and head
    assert reports[1].intact and reports[1].entries > 10
    assert_alike(reports)


@pytest.mark.clause("part11:11.10(e)")
@pytest.mark.postgres
def test_an_entry_changed_in_the_second_of_three_runs_is_found_by_every_split(
    db: Database, people: People
) -> None:
    # given an entry in the middle of the second run changed behind the application's back
    start, end = second_of_three(db, people)
    changed = (start + end) // 2
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "UPDATE audit_entries SET reason = 'backdated' WHERE seq = :seq", seq=changed)

    # when it is verified in one, two and three processes
    reports = verdicts(db)

    # then each names that entry, and nothing else differs
    kinds = [(f.kind, f.seq) for f in reports[1].findings]
    assert ("entry_altered", changed) in kinds
    assert not reports[1].intact
    assert_alike(reports)


@pytest.mark.clause("part11:11.10(e)")
@pytest.mark.postgres
def test_a_break_at_the_first_entry_of_a_run_is_found_where_the_runs_are_joined(
    db: Database, people: People
) -> None:
    # given the first entry of the second run re-linked onto another predecessor (its own
    # hash left as it was), and the last entry of that run deleted
    start, end = second_of_three(db, people)
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "UPDATE audit_entries SET prev_hash = :h WHERE seq = :seq", h="f" * 64, seq=start)
    raw(db, "DELETE FROM audit_entries WHERE seq = :seq", seq=end)

    # when it is verified in one, two and three processes
    reports = verdicts(db)

    # then the link is found broken where the run begins, and the gap where it ends
    kinds = [(f.kind, f.seq) for f in reports[1].findings]
    assert ("entry_inserted", start) in kinds
    assert ("entry_altered", start) in kinds
    assert ("entry_missing", end) in kinds
    assert_alike(reports)


@pytest.mark.clause("part11:11.10(e)")
def test_a_whole_run_deleted_is_one_gap_in_every_split(db: Database, people: People) -> None:
    # given every entry of the second run deleted
    start, end = second_of_three(db, people)
    drop_append_only_triggers(db, "audit_entries")
    raw(db, "DELETE FROM audit_entries WHERE seq BETWEEN :a AND :b", a=start, b=end)

    # when it is verified in one, two and three processes
    reports = verdicts(db)

    # then each reports the one gap, from the run's first entry to its last
    gaps = [f for f in reports[1].findings if f.kind == "entry_missing"]
    assert [(f.seq, f.message.split(" are ")[0]) for f in gaps] == [
        (start, f"audit entries {start}–{end}")
    ]
    assert_alike(reports)


def test_the_command_verifies_with_several_processes(db: Database, people: People) -> None:
    # given an untouched trail
    second_of_three(db, people)

    # when the command checks it in one and in two processes
    one = run_cli(db, "audit", "verify", "--json")
    two = run_cli(db, "audit", "verify", "--json", "--jobs", "2")

    # then both say intact, alike
    assert one.exit_code == two.exit_code == 0, two.output
    assert json.loads(two.stdout) == json.loads(one.stdout)
    assert json.loads(two.stdout)["intact"] is True


def test_the_command_refuses_no_process_at_all(db: Database) -> None:
    result = run_cli(db, "audit", "verify", "--jobs", "0")
    assert result.exit_code == 2


def test_entry_times_not_in_canonical_text_are_found_as_the_scan_finds_them(
    db: Database, people: People
) -> None:
    # given, on SQLite, the times of every entry of the second run rewritten as ISO text with
    # an offset (the same instants), and one as a number
    start, end = second_of_three(db, people)
    drop_append_only_triggers(db, "audit_entries")
    raw(
        db,
        "UPDATE audit_entries SET occurred_at = replace(occurred_at, ' ', 'T') || '+00:00' "
        "WHERE seq BETWEEN :a AND :b",
        a=start + 1,
        b=end,
    )
    raw(db, "UPDATE audit_entries SET occurred_at = 1234 WHERE seq = :seq", seq=start)

    # when it is verified in one, two and three processes
    reports = verdicts(db)

    # then each names the first of them as the scan of the table names them ("and more")
    with unit_of_work(db, write=False) as s:
        scanned = check_timestamps(s)
    odd = [f for f in reports[1].findings if f.kind == "timestamp_not_canonical"]
    assert [(f.kind, f.message, f.seq) for f in odd] == [
        (f.kind, f.message, f.seq) for f in scanned if f.table == "audit_entries"
    ]
    assert len(odd) == 1 and odd[0].seq == start and "and more" in odd[0].message
    assert_alike(reports)
