"""End to end through the real broker: readings published over MQTT are stored by the ingest
worker and judged by the live cold-chain evaluation after the worker's commit — a breach of
the cold room raises its alarm without anyone uploading anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.platform.mqtt_support import (
    Publisher,
    reading,
    require_broker,
    running_worker,
    settings_for,
    unique_site,
    wait_until,
)
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import profiles
from pharmaqms.lifecycle.distribution.models import ColdChainAlarm


def _alarms(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return [
            (a.kind, a.started_at.isoformat())
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(ColdChainAlarm)) or 0)


def test_a_breach_published_over_mqtt_raises_its_alarm_live(db, people) -> None:  # type: ignore[no-untyped-def]
    broker = require_broker()
    site = unique_site()
    cold_chain(db, people.admin, site=site)
    with unit_of_work(db) as s:
        profiles.set_alarm_profile(
            s,
            actor=people.qa,
            location_code="CR-1",
            pre_delay_min=10.0,
            alarm_delay_min=20.0,
            interval_min=5.0,
            reason="URS",
        )
    settings = settings_for(site)
    topic = f"pharmaqms/{site}/CR-1/T-100/reading"
    publisher = Publisher(f"pub-{site}")
    start = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    try:
        with running_worker(db, settings, broker):
            for i, value in enumerate([5.0, 9.0, 9.2, 9.4, 9.6, 9.8, 5.0]):
                at = (start + timedelta(minutes=5 * i)).isoformat()
                publisher.publish(topic, reading(at, value))
            publisher.wait_all_acked()
            wait_until(lambda: _count(db) == 2, 20, "2 alarms")
    finally:
        publisher.close()
    breach = (start + timedelta(minutes=5)).isoformat()
    assert _alarms(db) == [("pre_alarm", breach), ("alarm", breach)]
