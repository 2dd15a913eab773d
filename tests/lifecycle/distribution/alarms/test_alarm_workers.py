"""The live cold-chain evaluation with several ingest workers: where a sensor's evaluation stands
is kept in the database, so a breach whose readings are stored by two workers — one after the
other (a worker killed and another taking over), or interleaved (a shared subscription deals one
sensor's readings out to both) — raises the alarms that one uninterrupted delivery raises."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.lifecycle.distribution.alarms.setup import START, alarms, deliver, seed

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import live
from pharmaqms.lifecycle.distribution.models import ColdChainAlarm
from pharmaqms.platform.ingest.deliveries import add_delivery_listener, remove_delivery_listener
from pharmaqms.platform.ingest.models import ImportRun

# 5-minute readings from 06:00: out of 2–8 °C from 06:10 to 06:40, back at 06:45. The pre-alarm
# (10 min) is due at 06:20, the alarm (30 min) at 06:40.
BREACH = [5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0]
END = datetime(2026, 3, 2, 6, 45, tzinfo=UTC)
ONE_DELIVERY = [
    ("pre_alarm", "raised", datetime(2026, 3, 2, 6, 10, tzinfo=UTC).isoformat(), END),
    ("alarm", "raised", datetime(2026, 3, 2, 6, 10, tzinfo=UTC).isoformat(), END),
]


def _triggered(db) -> list[tuple[str, datetime]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return [
            (a.kind, a.triggered_at)
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]


def _last_run(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.max(ImportRun.id))) or 0)


@pytest.mark.postgres
def test_a_breach_split_across_a_worker_restart_raises_the_alarms_of_one_delivery(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    # Worker A stores the first five readings (the breach has lasted 10 min: pre-alarm only)…
    deliver(db, people, BREACH[:5])
    assert [kind for kind, _ in _triggered(db)] == ["pre_alarm"]
    # …and is killed; worker B, a process of its own, stores the rest.
    deliver(db, people, BREACH[5:], start=START + timedelta(minutes=25))

    assert alarms(db) == ONE_DELIVERY
    assert _triggered(db) == [
        ("pre_alarm", datetime(2026, 3, 2, 6, 20, tzinfo=UTC)),
        ("alarm", datetime(2026, 3, 2, 6, 40, tzinfo=UTC)),
    ]


@pytest.mark.postgres
def test_another_workers_readings_committed_meanwhile_are_judged_in_their_place(
    db, people, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    seed(db, people)
    odd = frozenset(range(1, len(BREACH), 2))
    even = frozenset(range(0, len(BREACH), 2))
    # Worker B commits the even readings; its evaluation has not run yet…
    remove_delivery_listener("sensors", live.judge_new_readings)
    try:
        deliver(db, people, BREACH, skip=odd)
    finally:
        add_delivery_listener("sensors", live.judge_new_readings)
    late_run = _last_run(db)
    assert alarms(db) == []
    # …when worker A's delivery of the odd ones is judged: all ten, in device-time order. On
    # the odd readings alone the breach would start at 06:15 and never last 30 min.
    deliver(db, people, BREACH, skip=even)
    assert alarms(db) == ONE_DELIVERY

    # B's evaluation, late, finds its readings judged: nothing more, nothing twice.
    with unit_of_work(db) as s:
        outcome = live.evaluate_run(s, actor=people.admin, run_id=late_run)
    assert (outcome.late, outcome.raised, outcome.ended) == (5, [], 0)
    assert alarms(db) == ONE_DELIVERY


@pytest.mark.postgres
def test_two_workers_judging_one_sensor_at_once_take_turns(db, people, backend) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("concurrent evaluations need PostgreSQL (SQLite has one writer)")
    seed(db, people)
    odd = frozenset(range(1, len(BREACH), 2))
    even = frozenset(range(0, len(BREACH), 2))
    # Both workers' deliveries are committed; neither has been judged yet.
    remove_delivery_listener("sensors", live.judge_new_readings)
    try:
        deliver(db, people, BREACH, skip=odd)
        first_run = _last_run(db)
        deliver(db, people, BREACH, skip=even)
        second_run = _last_run(db)
    finally:
        add_delivery_listener("sensors", live.judge_new_readings)
    judged, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first_worker() -> None:
        try:
            with unit_of_work(db) as s:
                live.evaluate_run(s, actor=people.admin, run_id=first_run)
                judged.set()
                release.wait(30)  # still inside its transaction
        except BaseException as err:
            failures.append(err)
            judged.set()

    def second_worker() -> None:
        try:
            live.judge_new_readings(db, second_run)
        except BaseException as err:
            failures.append(err)

    one = threading.Thread(target=first_worker)
    one.start()
    assert judged.wait(30)
    two = threading.Thread(target=second_worker)
    two.start()
    two.join(1.0)
    # The second waits for the first's lock on the sensor rather than judging beside it.
    assert two.is_alive()
    release.set()
    one.join(30)
    two.join(30)
    assert not failures, failures
    assert alarms(db) == ONE_DELIVERY
