"""What the cold-chain alarm tests share: the platform's sensor master data (a 2–8 °C vaccine
in cold room CR-1 watched by T-100; shipment SHP-1 with the logger LOG-7, out of calibration),
an alarm profile for CR-1, and readings delivered through the platform's ingest, so the live
evaluation runs exactly as in production: after the delivery's commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from tests.platform.sensor_setup import cold_chain

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.distribution import profiles
from pharmaqms.lifecycle.distribution.models import (
    ColdChainAlarm,
    Excursion,
    ExcursionAssessment,
    ExcursionLot,
)
from pharmaqms.platform.ingest import service as ingest
from pharmaqms.platform.masterdata.hold_models import LotHold
from pharmaqms.platform.masterdata.models import Lot

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def seed(db: Database, people: Any, **profile: Any) -> None:
    cold_chain(db, people.admin)
    settings: dict[str, Any] = {
        "low_c": 2.0,
        "high_c": 8.0,
        "pre_delay_min": 10.0,
        "alarm_delay_min": 30.0,
        "interval_min": 5.0,
        "silent_intervals": 3,
        "acknowledge_within_min": 30.0,
    }
    settings.update(profile)
    with unit_of_work(db) as s:
        profiles.set_alarm_profile(
            s, actor=people.qa, location_code="CR-1", reason="URS-CR1 §4", **settings
        )


def deliver(
    db: Database,
    people: Any,
    temperatures: list[float | str],
    *,
    start: datetime = START,
    step_min: float = 5.0,
    sensor: str = "T-100",
    skip: frozenset[int] = frozenset(),
) -> None:
    """One delivery of readings ``step_min`` apart from ``start`` (indices in ``skip`` missing)."""
    lines = ["sensor,measured_at,temperature,unit"]
    for i, value in enumerate(temperatures):
        if i in skip:
            continue
        at = start + timedelta(minutes=step_min * i)
        lines.append(f"{sensor},{at.isoformat()},{value},C")
    with unit_of_work(db) as s:
        ingest.ingest(
            s,
            actor=people.logistics,
            kind="sensors",
            content="\n".join(lines).encode(),
            filename="readings.csv",
        )


def alarms(db: Database) -> list[tuple[str, str, str, datetime | None]]:
    """(kind, status, breach start, breach end) of every alarm, oldest first."""
    with unit_of_work(db, write=False) as s:
        return [
            (a.kind, a.status, a.started_at.isoformat(), a.ended_at)
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]


def snapshot(db: Database) -> dict[str, Any]:
    """Everything a refused verb must leave as it was."""
    with unit_of_work(db, write=False) as s:
        counts = {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (
                AuditEntry,
                ElectronicSignature,
                Task,
                ColdChainAlarm,
                Excursion,
                ExcursionAssessment,
                ExcursionLot,
                LotHold,
            )
        }
        states = [
            (a.status, a.version, a.acknowledgement, a.assessment, a.closure)
            for a in s.scalars(select(ColdChainAlarm).order_by(ColdChainAlarm.id))
        ]
        lots = [(lot.status, lot.version) for lot in s.scalars(select(Lot).order_by(Lot.id))]
    return {"counts": counts, "alarms": states, "lots": lots}
