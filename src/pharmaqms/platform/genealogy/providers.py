"""Link providers: how records of any layer join a lot's genealogy without the platform knowing
them.

A provider is a function ``(session, lots, at) → links``: given our lots in the graph, it
returns the records that hang on them (a deviation on a batch, a CAPA, a complaint). Higher
layers register theirs at import time::

    from pharmaqms.platform.genealogy.providers import LinkedRecord, register_link_provider

    def deviations_of(session, lots, at):
        return [LinkedRecord(lot_id=d.lot_id, kind="deviation", key=f"deviation:{d.id}",
                             label=d.number, relation="deviation", time=d.opened_at,
                             url=f"/deviations/{d.id}") for d in ...]

    register_link_provider("deviations", deviations_of)

The platform registers its own (QC results, process readings, adverse-event reports) the same
way, below. A provider must not write, and should answer with one indexed query per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.reports.text import format_time
from pharmaqms.platform.timeseries.models import ProcessReading, TestResult
from pharmaqms.platform.traceability.models import AdverseEventLot, AdverseEventReport


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    lot_id: int
    kind: str
    """Node kind in the graph (``test_result``, ``deviation``…): also its drawing layer."""
    key: str
    """Unique in the graph, e.g. ``deviation:42``."""
    label: str
    relation: str
    time: datetime | None = None
    url: str | None = None
    detail: str = ""


LinkProvider = Callable[[Session, Sequence[int], datetime | None], Sequence[LinkedRecord]]

PROVIDERS: dict[str, LinkProvider] = {}


def register_link_provider(name: str, provider: LinkProvider) -> None:
    """Add (or replace, by name) a provider of records linked to lots."""
    PROVIDERS[name] = provider


def linked_records(
    session: Session, lot_ids: Sequence[int], at: datetime | None = None
) -> list[LinkedRecord]:
    if not lot_ids:
        return []
    found: list[LinkedRecord] = []
    for _name, provider in sorted(PROVIDERS.items()):
        found.extend(provider(session, lot_ids, at))
    return found


def _test_results(
    session: Session, lot_ids: Sequence[int], at: datetime | None
) -> list[LinkedRecord]:
    query = select(TestResult).where(TestResult.lot_id.in_(lot_ids))
    if at is not None:
        query = query.where(TestResult.tested_at <= at)
    return [
        LinkedRecord(
            lot_id=r.lot_id,
            kind="test_result",
            key=f"test_result:{r.id}",
            label=f"{r.test_code} {r.outcome}",
            relation="tested",
            time=r.tested_at,
            detail=f"sample {r.sample_id}: {r.value if r.value is not None else r.text_value}"
            f" {r.unit}".rstrip(),
        )
        for r in session.scalars(query.order_by(TestResult.tested_at, TestResult.id))
    ]


def _process_readings(
    session: Session, lot_ids: Sequence[int], at: datetime | None
) -> list[LinkedRecord]:
    # Thousands of readings per batch: one node per parameter, with the count and time span.
    query = select(
        ProcessReading.batch_id,
        ProcessReading.parameter,
        func.count(),
        func.min(ProcessReading.measured_at),
        func.max(ProcessReading.measured_at),
    ).where(ProcessReading.batch_id.in_(lot_ids))
    if at is not None:
        query = query.where(ProcessReading.measured_at <= at)
    rows = session.execute(
        query.group_by(ProcessReading.batch_id, ProcessReading.parameter).order_by(
            ProcessReading.batch_id, ProcessReading.parameter
        )
    )
    return [
        LinkedRecord(
            lot_id=batch_id,
            kind="process_data",
            key=f"process_data:{batch_id}:{parameter}",
            label=f"{parameter} ({count} readings)",
            relation="recorded",
            time=first,
            detail=f"{format_time(first)} – {format_time(last)}",
        )
        for batch_id, parameter, count, first, last in rows
    ]


def _adverse_events(
    session: Session, lot_ids: Sequence[int], at: datetime | None
) -> list[LinkedRecord]:
    rows = session.execute(
        select(AdverseEventLot.lot_id, AdverseEventReport)
        .join(AdverseEventReport, AdverseEventReport.id == AdverseEventLot.report_id)
        .where(AdverseEventLot.lot_id.in_(lot_ids))
        .order_by(AdverseEventReport.id)
    )
    found = []
    for lot_id, report in rows:
        if lot_id is None or (
            at is not None and report.received_on is not None and report.received_on > at.date()
        ):
            continue
        found.append(
            LinkedRecord(
                lot_id=lot_id,
                kind="adverse_event",
                key=f"adverse_event:{report.id}",
                label=f"AE {report.safety_report_id}" + (" (serious)" if report.serious else ""),
                relation="reported",
                detail=", ".join(str(r.get("reactionmeddrapt", "")) for r in report.reactions),
            )
        )
    return found


register_link_provider("platform.test_results", _test_results)
register_link_provider("platform.process_readings", _process_readings)
register_link_provider("platform.adverse_events", _adverse_events)
