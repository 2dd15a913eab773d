"""Cold-chain alarms from live readings: raised once per breach after the profile's delay,
acknowledged with a comment, assessed, closed; escalated when nobody acknowledges them; sensor
failures (silence, calibration, impossible values) as alarms of their own; refusals change
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.lifecycle.distribution.alarms.setup import START, alarms, deliver, seed, snapshot

from pharmaqms.kernel.errors import PermissionDenied, ReasonRequired, TransitionNotAllowed
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import alarms as service
from pharmaqms.lifecycle.distribution import live, profiles
from pharmaqms.lifecycle.distribution.models import ColdChainAlarm, Excursion

# 5-minute readings from 06:00: out of 2–8 °C from 06:10 to 06:40, back at 06:45.
BREACH = [5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0]


def at(hour: int, minute: int) -> str:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC).isoformat()


def _ids(db) -> list[int]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return list(s.scalars(select(ColdChainAlarm.id).order_by(ColdChainAlarm.id)))


def _open_tasks(db) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return [
            (t.kind, t.assignee_role)
            for t in s.scalars(
                select(Task)
                .where(Task.record_type == "coldchain_alarm", Task.status == "open")
                .order_by(Task.id)
            )
        ]


@pytest.mark.postgres
def test_a_breach_raises_one_pre_alarm_and_one_alarm_after_their_delays_and_an_excursion(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, BREACH)
    end = datetime(2026, 3, 2, 6, 45, tzinfo=UTC)
    assert alarms(db) == [
        ("pre_alarm", "raised", at(6, 10), end),
        ("alarm", "raised", at(6, 10), end),
    ]
    with unit_of_work(db, write=False) as s:
        alarm = s.scalars(select(ColdChainAlarm).where(ColdChainAlarm.kind == "alarm")).one()
        # Raised on the reading that made 30 min (06:40), with the profile revision in force.
        assert (alarm.triggered_at, alarm.profile_revision, alarm.delay_min) == (
            datetime(2026, 3, 2, 6, 40, tzinfo=UTC),
            1,
            30.0,
        )
        excursion = s.get(Excursion, alarm.excursion_id)
        assert excursion is not None
        # Seven readings at 9 °C, each holding 5 min: 35 min, 1 °C above → 35 °C·min.
        assert (
            excursion.status,
            excursion.started_at,
            excursion.ended_at,
            excursion.duration_min,
            excursion.min_c,
            excursion.max_c,
            excursion.degree_minutes,
        ) == ("ended", datetime(2026, 3, 2, 6, 10, tzinfo=UTC), end, 35.0, 9.0, 9.0, 35.0)
        assert excursion.mkt_c is not None and excursion.mkt_c > 9.0 * 0.7 + 5.0 * 0.3 - 1e-9
    assert _open_tasks(db) == [("coldchain_alarm", "logistics")] * 2
    # The same readings again: nothing new (one alarm per breach).
    deliver(db, people, BREACH)
    assert len(alarms(db)) == 2


def test_a_breach_shorter_than_the_delay_raises_nothing_and_a_second_breach_its_own(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, [5.0, 9.0, 9.0, 5.0, 9.0, 9.0, 9.0, 5.0])
    # 06:05–06:10 lasts 5 min (< 10): nothing; 06:20–06:30 lasts 10 min: a pre-alarm.
    assert alarms(db) == [
        ("pre_alarm", "raised", at(6, 20), datetime(2026, 3, 2, 6, 35, tzinfo=UTC))
    ]


@pytest.mark.postgres
def test_acknowledge_assess_close_each_a_verb_and_refusals_change_nothing(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, BREACH)
    alarm_id = _ids(db)[1]
    before = snapshot(db)
    for comment in ("", "   "):
        with pytest.raises(ReasonRequired), unit_of_work(db) as s:
            service.acknowledge_alarm(s, actor=people.logistics, alarm_id=alarm_id, comment=comment)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.acknowledge_alarm(s, actor=people.operator, alarm_id=alarm_id, comment="seen")
    with pytest.raises(TransitionNotAllowed), unit_of_work(db) as s:
        service.assess_alarm(s, actor=people.qa, alarm_id=alarm_id, assessment="fine")
    assert snapshot(db) == before

    with unit_of_work(db) as s:
        service.acknowledge_alarm(
            s, actor=people.logistics, alarm_id=alarm_id, comment="Door left open; closed 06:44"
        )
    with unit_of_work(db) as s:
        service.assess_alarm(
            s, actor=people.qa, alarm_id=alarm_id, assessment="Within budget, see EXA"
        )
    before = snapshot(db)
    with pytest.raises(TransitionNotAllowed), unit_of_work(db) as s:
        service.assess_alarm(s, actor=people.qa, alarm_id=alarm_id, assessment="again")
    with pytest.raises(TransitionNotAllowed), unit_of_work(db) as s:
        service.acknowledge_alarm(s, actor=people.qa, alarm_id=alarm_id, comment="again")
    with pytest.raises(ReasonRequired), unit_of_work(db) as s:
        service.close_alarm(s, actor=people.qa, alarm_id=alarm_id, comment="")
    assert snapshot(db) == before
    with unit_of_work(db) as s:
        service.close_alarm(s, actor=people.qa, alarm_id=alarm_id, comment="Door alarm fitted")
    with unit_of_work(db, write=False) as s:
        alarm = s.get(ColdChainAlarm, alarm_id)
        assert alarm is not None
        assert (alarm.status, alarm.acknowledgement, alarm.assessment, alarm.closure) == (
            "closed",
            "Door left open; closed 06:44",
            "Within budget, see EXA",
            "Door alarm fitted",
        )
    # The acknowledgement closed the alarm's task; the pre-alarm's is still open.
    assert _open_tasks(db) == [("coldchain_alarm", "logistics")]


@pytest.mark.postgres
def test_an_alarm_not_acknowledged_in_time_is_escalated_once_to_the_next_role(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people, acknowledge_within_min=20.0)
    deliver(db, people, BREACH)
    pre_id, alarm_id = _ids(db)
    with unit_of_work(db) as s:
        service.acknowledge_alarm(s, actor=people.logistics, alarm_id=pre_id, comment="seen")
    frozen_clock.advance(minutes=19)
    with unit_of_work(db) as s:
        assert service.escalate_overdue_alarms(s, actor=people.admin) == []
    frozen_clock.advance(minutes=2)
    with unit_of_work(db) as s:
        escalated = service.escalate_overdue_alarms(s, actor=people.admin)
        assert [a.id for a in escalated] == [alarm_id]
    with unit_of_work(db) as s:
        assert service.escalate_overdue_alarms(s, actor=people.admin) == []
    with unit_of_work(db, write=False) as s:
        alarm = s.get(ColdChainAlarm, alarm_id)
        assert alarm is not None
        assert (alarm.status, alarm.escalation_level, alarm.escalated_to) == ("raised", 1, "qa")
    assert _open_tasks(db) == [("coldchain_alarm", "logistics"), ("coldchain_escalation", "qa")]
    # Acknowledging closes both.
    with unit_of_work(db) as s:
        service.acknowledge_alarm(s, actor=people.qa, alarm_id=alarm_id, comment="on it")
    assert _open_tasks(db) == []


@pytest.mark.postgres
def test_a_silent_sensor_raises_its_own_alarm_and_the_gap_is_not_in_range(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    # 06:15–06:30 missing: 25 min between readings where 15 are allowed.
    deliver(db, people, [5.0] * 10, skip=frozenset({3, 4, 5, 6}))
    assert alarms(db) == [
        ("sensor_silent", "raised", at(6, 10), datetime(2026, 3, 2, 6, 35, tzinfo=UTC))
    ]
    # Then nothing for over two hours (the clock is at 09:00, the last reading 06:45).
    with unit_of_work(db) as s:
        raised = live.check_silent_sensors(s, actor=people.admin)
        assert [a.kind for a in raised] == ["sensor_silent"]
    with unit_of_work(db) as s:
        assert live.check_silent_sensors(s, actor=people.admin) == []
    # The sensor comes back: the same alarm ends; no second one for the same silence.
    deliver(db, people, [5.0], start=datetime(2026, 3, 2, 8, 55, tzinfo=UTC))
    assert alarms(db)[1] == (
        "sensor_silent",
        "raised",
        at(6, 45),
        datetime(2026, 3, 2, 8, 55, tzinfo=UTC),
    )
    assert len(alarms(db)) == 2


@pytest.mark.postgres
def test_an_out_of_calibration_logger_raises_one_alarm_for_its_readings(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    with unit_of_work(db) as s:
        profiles.set_alarm_profile(
            s, actor=people.qa, shipment_code="SHP-1", low_c=2.0, high_c=8.0, reason="lane spec"
        )
    deliver(db, people, [5.0, 5.1, 5.2], sensor="LOG-7")
    assert alarms(db) == [("out_of_calibration", "raised", at(6, 0), None)]


@pytest.mark.postgres
def test_an_impossible_value_is_quarantined_and_raises_its_own_alarm(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, [5.0, 500.0, 5.0, 600.0])
    found = alarms(db)
    assert [(kind, status) for kind, status, _s, _e in found] == [("impossible_value", "raised")]
    with unit_of_work(db, write=False) as s:
        alarm = s.scalars(select(ColdChainAlarm)).one()
        assert "500" in alarm.detail


def test_a_new_profile_revision_supersedes_and_alarms_keep_the_one_they_were_judged_by(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    deliver(db, people, BREACH)
    with unit_of_work(db) as s:
        second = profiles.set_alarm_profile(
            s,
            actor=people.qa,
            location_code="CR-1",
            low_c=2.0,
            high_c=8.0,
            alarm_delay_min=60.0,
            reason="mapping study MS-7",
        )
        assert second.revision == 2
    # Readings are judged by the revision in force at their own time: these are after it.
    frozen_clock.advance(hours=1)
    deliver(db, people, BREACH, start=START.replace(hour=9, minute=5))
    with unit_of_work(db, write=False) as s:
        revisions = [
            (a.kind, a.profile_revision)
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]
    # The two hours without readings are a silence; the second breach (35 min) stays under
    # the new 60 min: only its pre-alarm.
    assert revisions == [("pre_alarm", 1), ("alarm", 1), ("sensor_silent", 2), ("pre_alarm", 2)]


def test_a_profile_with_a_level_inside_the_condition_is_refused(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    before = snapshot(db)
    with pytest.raises(Exception, match="inside the labelled condition"), unit_of_work(db) as s:
        profiles.set_alarm_profile(
            s,
            actor=people.qa,
            location_code="CR-1",
            low_c=2.0,
            high_c=8.0,
            alarm_high_c=7.0,
            reason="typo",
        )
    assert snapshot(db) == before


def test_the_sweep_command_raises_silence_and_escalates(db, people, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    from tests.kernel.cli import run_cli

    seed(db, people)
    deliver(db, people, BREACH)
    frozen_clock.advance(minutes=31)
    result = run_cli(db, "coldchain", "sweep")
    assert result.exit_code == 0, result.output
    assert "sensors silent: 1, alarms escalated: 2" in result.output
    again = run_cli(db, "coldchain", "sweep")
    assert "sensors silent: 0, alarms escalated: 0" in again.output


def test_a_profile_takes_the_places_labelled_condition_when_none_is_given(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    from tests.platform.sensor_setup import add_shipment, cold_chain

    cold_chain(db, people.admin)
    add_shipment(db, people.admin, "SHP-2", 15.0, 25.0)
    with unit_of_work(db) as s:
        room = profiles.set_alarm_profile(s, actor=people.qa, location_code="CR-1", reason="URS")
        truck = profiles.set_alarm_profile(s, actor=people.qa, shipment_code="SHP-2", reason="lane")
        assert (room.condition, room.alarm_high_c, truck.condition, truck.pre_low_c) == (
            "2–8 °C",
            8.0,
            "15–25 °C",
            15.0,
        )
    with pytest.raises(Exception, match="no labelled condition"), unit_of_work(db) as s:
        profiles.set_alarm_profile(s, actor=people.qa, location_code="OFFICE", reason="x")
