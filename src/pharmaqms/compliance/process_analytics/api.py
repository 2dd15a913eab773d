"""Process analytics API: the same figures as the page, and the records behind one."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from pharmaqms.compliance.process_analytics import drill, figures, reading
from pharmaqms.compliance.process_analytics.processes import process
from pharmaqms.compliance.process_analytics.schemas import (
    DrillDownOut,
    ProcessOut,
    drill_out,
    process_out,
)
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep

router = APIRouter(prefix="/api/v1/compliance/process-analytics", tags=["compliance"])

DAY = Query("", max_length=10, description="YYYY-MM-DD, a day of the reader's calendar")


@router.get("", response_model=list[ProcessOut])
def all_processes(
    request: Request, actor: ActorDep, since: str = DAY, until: str = DAY
) -> list[ProcessOut]:
    actor.require(reading.PERMISSION, reading.WHY)
    window = reading.Range.read(since, until).window()
    with transaction(request, write=False) as session:
        found = figures.process_figures(session, window=window)
    return [process_out(f) for f in found.values()]


@router.get("/{record_type}", response_model=ProcessOut)
def one_process(
    record_type: str, request: Request, actor: ActorDep, since: str = DAY, until: str = DAY
) -> ProcessOut:
    actor.require(reading.PERMISSION, reading.WHY)
    chosen = process(record_type)
    window = reading.Range.read(since, until).window()
    with transaction(request, write=False) as session:
        found = figures.process_figures(session, [chosen], window)
    return process_out(found[chosen.name])


@router.get("/{record_type}/records", response_model=DrillDownOut)
def records_behind(
    record_type: str,
    request: Request,
    actor: ActorDep,
    since: str = DAY,
    until: str = DAY,
    state: str = Query("", max_length=60),
    target: str = Query("", max_length=60),
    role: str = Query("", max_length=64),
    month: str = Query("", max_length=7),
) -> DrillDownOut:
    actor.require(reading.PERMISSION, reading.WHY)
    chosen = process(record_type)
    window = reading.Range.read(since, until).window()
    picked = reading.selection(state, target, role, month)
    with transaction(request, write=False) as session:
        return drill_out(drill.behind(session, chosen, picked, window))
