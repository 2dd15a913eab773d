"""Local time at the edges: times shown in the reader's zone with its offset, times typed read
in it (the spring gap refused, the autumn overlap taken at its first occurrence), the site's
default zone validated, and each person's zone set by them or by an administrator, audited;
an unknown zone refused with nothing changed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from tests.conftest import People
from tests.kernel.cli import run_cli

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import InvalidInput, PermissionDenied
from pharmaqms.kernel.models import AuditEntry, UserTimeZone
from pharmaqms.kernel.reports.text import format_time, format_value
from pharmaqms.kernel.settings import Settings, get_settings, reset_settings_cache
from pharmaqms.kernel.timezones import (
    LocalTimeDoesNotExist,
    UnknownTimeZone,
    day_start_utc,
    from_form,
    is_ambiguous,
    local_to_utc,
    reader_zone,
    reading_in,
    site_zone,
    zone_named,
)
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.user_time_zones import set_time_zone, time_zone_of
from pharmaqms.kernel.verify import verify

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENT = datetime(2026, 12, 6, 22, 41, 5, 123456, tzinfo=UTC)


def test_a_time_is_shown_in_the_reader_s_zone_with_its_abbreviation_and_offset() -> None:
    assert format_time(MOMENT) == "2026-12-06 22:41 UTC (+00:00)"
    with reading_in("Europe/Berlin"):
        assert format_time(MOMENT) == "2026-12-06 23:41 CET (+01:00)"
        assert format_value("2026-12-06T22:41:05.123456Z") == "2026-12-06 23:41 CET (+01:00)"
    with reading_in("Asia/Shanghai"):
        assert format_time(MOMENT, seconds=True) == "2026-12-07 06:41:05 CST (+08:00)"
    # Summer time says so; a zone without an abbreviation shows its offset once.
    assert format_time(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), zone=BERLIN) == (
        "2026-07-01 14:00 CEST (+02:00)"
    )
    assert format_time(MOMENT, zone=ZoneInfo("Asia/Dubai")) == "2026-12-07 02:41 +04:00"
    assert format_time(MOMENT, zone=ZoneInfo("America/St_Johns")) == (
        "2026-12-06 19:11 NST (-03:30)"
    )
    # Outside the block, the site's zone again.
    assert reader_zone() == site_zone() == ZoneInfo("UTC")


def test_a_typed_time_is_read_in_the_reader_s_zone_and_stored_utc() -> None:
    with reading_in("Europe/Berlin"):
        assert from_form("2025-03-01T10:30", "at") == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
        assert from_form("2025-07-01T10:30", "at") == datetime(2025, 7, 1, 8, 30, tzinfo=UTC)
        # A date is its local midnight.
        assert from_form("2025-03-01", "due") == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
        # An explicit offset is taken as written.
        assert from_form("2025-03-01T10:30+05:30", "at") == datetime(2025, 3, 1, 5, 0, tzinfo=UTC)
        assert from_form("  ", "at") is None
    with reading_in("Asia/Shanghai"):
        assert from_form("2025-03-01T10:30", "at") == datetime(2025, 3, 1, 2, 30, tzinfo=UTC)
    assert from_form("2025-03-01T10:30", "at") == datetime(2025, 3, 1, 10, 30, tzinfo=UTC)


def test_a_time_the_clocks_skip_in_spring_is_refused_with_what_happened() -> None:
    with pytest.raises(LocalTimeDoesNotExist) as refused:
        local_to_utc(datetime(2025, 3, 30, 2, 30), BERLIN, field="occurred_at")
    assert refused.value.field == "occurred_at"
    assert refused.value.detail == (
        "2025-03-30 02:30 does not exist in Europe/Berlin: the clocks go forward that night "
        "from +01:00 (CET) to +02:00 (CEST), so nothing can have happened at that time; check "
        "the time and type it again"
    )
    # Either side of the gap is fine.
    assert local_to_utc(datetime(2025, 3, 30, 1, 59), BERLIN) == datetime(
        2025, 3, 30, 0, 59, tzinfo=UTC
    )
    assert local_to_utc(datetime(2025, 3, 30, 3, 0), BERLIN) == datetime(
        2025, 3, 30, 1, 0, tzinfo=UTC
    )
    with reading_in(BERLIN), pytest.raises(InvalidInput):
        from_form("2025-03-30T02:00", "occurred_at")


def test_a_time_the_clocks_pass_twice_in_autumn_is_its_first_occurrence() -> None:
    wall = datetime(2025, 10, 26, 2, 30)
    assert is_ambiguous(wall, BERLIN)
    assert not is_ambiguous(datetime(2025, 10, 26, 3, 30), BERLIN)
    assert not is_ambiguous(datetime(2025, 3, 30, 2, 30), BERLIN)  # a gap, not an overlap
    stored = local_to_utc(wall, BERLIN)
    # The first 02:30 is still summer time (+02:00): 00:30 UTC, and it shows itself so.
    assert stored == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert format_time(stored, zone=BERLIN) == "2025-10-26 02:30 CEST (+02:00)"
    assert format_time(datetime(2025, 10, 26, 1, 30, tzinfo=UTC), zone=BERLIN) == (
        "2025-10-26 02:30 CET (+01:00)"
    )


def test_a_local_day_starts_at_its_midnight_or_the_first_time_that_exists() -> None:
    assert day_start_utc(date(2025, 3, 1), SHANGHAI) == datetime(2025, 2, 28, 16, tzinfo=UTC)
    # Havana skips midnight in March: the day begins at 01:00 local.
    assert day_start_utc(date(2025, 3, 9), ZoneInfo("America/Havana")) == datetime(
        2025, 3, 9, 5, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("name", ["Berlin", "CET+1", "Europe/Atlantis", "", "../../etc/passwd"])
def test_a_zone_name_outside_the_iana_database_is_refused(name: str) -> None:
    with pytest.raises(UnknownTimeZone) as refused:
        zone_named(name)
    assert "is not a time zone name of the IANA database" in refused.value.detail


def test_the_site_s_default_zone_is_a_setting_checked_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHARMAQMS_SITE_TIME_ZONE", "Europe/Berlin")
    reset_settings_cache()
    try:
        assert get_settings().site_time_zone == "Europe/Berlin"
        assert format_time(MOMENT) == "2026-12-06 23:41 CET (+01:00)"
        with pytest.raises(ValidationError, match="PHARMAQMS_SITE_TIME_ZONE 'Mars/Olympus'"):
            Settings(site_time_zone="Mars/Olympus")
    finally:
        monkeypatch.delenv("PHARMAQMS_SITE_TIME_ZONE")
        reset_settings_cache()
    assert format_time(MOMENT) == "2026-12-06 22:41 UTC (+00:00)"


def _trail(db: Database) -> list[tuple[str, str, dict[str, Any], str | None, str]]:
    with unit_of_work(db, write=False) as s:
        return [
            (e.action, e.record_label, json.loads(e.changes), e.reason, e.actor_username)
            for e in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.record_type == "user_time_zone")
                .order_by(AuditEntry.id)
            )
        ]


def _entries(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.mark.postgres
def test_a_person_chooses_their_zone_and_an_administrator_changes_it_with_a_reason(
    db: Database, people: People
) -> None:
    qc, admin = people.qc, people.admin
    with unit_of_work(db) as s:
        set_time_zone(s, actor=qc, user_id=qc.user_id, time_zone="Europe/Berlin")
    with unit_of_work(db) as s:
        set_time_zone(
            s,
            actor=admin,
            user_id=qc.user_id,
            time_zone=" Asia/Shanghai ",
            reason="moved to the Shanghai laboratory",
        )
    with unit_of_work(db) as s:
        assert time_zone_of(s, qc.user_id) == "Asia/Shanghai"
        # The same zone again is no change and no entry.
        before = _entries(db)
        set_time_zone(s, actor=qc, user_id=qc.user_id, time_zone="Asia/Shanghai")
    assert _entries(db) == before
    with unit_of_work(db) as s:
        set_time_zone(s, actor=qc, user_id=qc.user_id, time_zone="")
        assert time_zone_of(s, qc.user_id) is None

    trail = _trail(db)
    assert [(a, label, reason, who) for a, label, _c, reason, who in trail] == [
        ("create", "time zone of qc", "time zone chosen by its owner", "qc"),
        ("set_time_zone", "time zone of qc", "moved to the Shanghai laboratory", "admin"),
        ("set_time_zone", "time zone of qc", "time zone chosen by its owner", "qc"),
    ]
    assert trail[1][2]["time_zone"] == ["Europe/Berlin", "Asia/Shanghai"], trail[1][2]
    # The rows and their trail agree: audit verify finds nothing.
    with unit_of_work(db, write=False) as s:
        report = verify(s)
    assert report.findings == [] and report.records >= 1


@pytest.mark.postgres
def test_an_unknown_zone_someone_else_s_zone_without_right_or_reason_change_nothing(
    db: Database, people: People
) -> None:
    qc, qa, admin = people.qc, people.qa, people.admin
    with unit_of_work(db) as s:
        set_time_zone(s, actor=qc, user_id=qc.user_id, time_zone="Europe/Berlin")
    before = _entries(db)

    refusals: list[tuple[type[Exception], str]] = []
    attempts = [
        (qc, qc.user_id, "Europe/Berlinn", None),
        (admin, qc.user_id, "Asia/Tokio", "typo"),
        (qa, qc.user_id, "Asia/Shanghai", "I think so"),
        (admin, qc.user_id, "Asia/Shanghai", "  "),
    ]
    for actor, user_id, zone, reason in attempts:
        with pytest.raises((InvalidInput, PermissionDenied)) as refused, unit_of_work(db) as s:
            set_time_zone(s, actor=actor, user_id=user_id, time_zone=zone, reason=reason)
        refusals.append((type(refused.value), refused.value.detail.split(":")[0]))

    assert refusals == [
        (UnknownTimeZone, "'Europe/Berlinn' is not a time zone name of the IANA database"),
        (UnknownTimeZone, "'Asia/Tokio' is not a time zone name of the IANA database"),
        (PermissionDenied, "qa may not change someone else's time zone"),
        (InvalidInput, "give the reason for changing the time zone of qc"),
    ]
    assert _entries(db) == before
    with unit_of_work(db, write=False) as s:
        rows = [(r.username, r.time_zone, r.version) for r in s.scalars(select(UserTimeZone))]
    assert rows == [("qc", "Europe/Berlin", 1)]


def test_the_command_line_sets_a_zone_and_refuses_an_unknown_one_with_one_line(
    db: Database, people: People
) -> None:
    before = _entries(db)
    refused = run_cli(db, "user", "time-zone", "qc", "Mars/Olympus", "--reason", "moved")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "error: 'Mars/Olympus' is not a time zone name of the IANA database: use a name such "
        "as 'Europe/Berlin', 'Asia/Shanghai' or 'UTC' [time_zone]"
    ]
    assert _entries(db) == before

    done = run_cli(db, "user", "time-zone", "qc", "Asia/Shanghai", "--reason", "moved")

    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == "Time zone of qc: Asia/Shanghai."
    with unit_of_work(db, write=False) as s:
        assert time_zone_of(s, people.qc.user_id) == "Asia/Shanghai"
    assert [(a, reason) for a, _l, _c, reason, _w in _trail(db)] == [("create", "moved")]
