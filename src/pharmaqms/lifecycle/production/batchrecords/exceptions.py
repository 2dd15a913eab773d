"""Exceptions of a batch record: recorded the moment they happen (an out-of-limit value, a late
step, a material used under override, a deviation, a verification missed, a value typed where
the instrument should have measured, a correction), and each reviewed by QA — accepted as having
no impact, or referred to a deviation raised from it in one step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.lifecycle.production.batchrecords.models import (
    BatchRecord,
    BatchRecordException,
    BatchStep,
    ExceptionKind,
    ExceptionStatus,
    StepEntry,
)
from pharmaqms.lifecycle.production.batchrecords.workflow import BATCH_RECORD_EXCEPTION_WORKFLOW
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality import events
from pharmaqms.quality.deviations.models import Deviation

REVIEW_DAYS = 3


def record_exception(
    session: Session,
    *,
    actor: Actor,
    record: BatchRecord,
    kind: ExceptionKind,
    description: str,
    step: BatchStep | None = None,
    entry: StepEntry | None = None,
    deviation: Deviation | None = None,
) -> BatchRecordException:
    """Record an exception and give QA a task to review it."""
    exception = BatchRecordException(
        status=ExceptionStatus.OPEN.value,
        batch_record_id=record.id,
        step_id=step.id if step is not None else None,
        kind=kind.value,
        description=description[:4000],
        entry_id=entry.id if entry is not None else None,
        deviation_id=deviation.id if deviation is not None else None,
        occurred_at=clock.now(),
    )
    where = f" at step {step.position}" if step is not None else ""
    with audit.changes(session, actor=actor, reason=f"exception{where}: {kind.value}"):
        session.add(exception)
    tasks.open_task(
        session,
        exception,
        actor=actor,
        kind="review_exception",
        title=f"Review {exception.number} of {record.number}: {kind.value.replace('_', ' ')}",
        role="qa",
        due_in=timedelta(days=REVIEW_DAYS),
    )
    return exception


def get_exception(session: Session, exception_id: int) -> BatchRecordException:
    exception = session.get(BatchRecordException, exception_id)
    if exception is None:
        raise NotFound(f"no batch record exception with id {exception_id}")
    return exception


def exceptions_of(
    session: Session, record_id: int, *, status: str | None = None
) -> list[BatchRecordException]:
    query = (
        select(BatchRecordException)
        .where(BatchRecordException.batch_record_id == record_id)
        .order_by(BatchRecordException.occurred_at, BatchRecordException.id)
    )
    if status:
        query = query.where(BatchRecordException.status == status)
    return list(session.scalars(query))


def has_exception(session: Session, step_id: int, kind: ExceptionKind) -> bool:
    return (
        session.scalars(
            select(BatchRecordException.id).where(
                BatchRecordException.step_id == step_id, BatchRecordException.kind == kind.value
            )
        ).first()
        is not None
    )


def review_exception(
    session: Session,
    *,
    actor: Actor,
    exception_id: int,
    decision: str,
    reason: str,
    password: str,
    expected_version: int | None = None,
) -> TransitionResult:
    """QA's review: ``accept`` (no impact on the batch) or ``refer`` (to the linked deviation),
    with a reason and a "Reviewed" signature."""
    actor.require("batchrecords.review", "review batch record exceptions")
    if decision not in ("accept", "refer"):
        raise InvalidInput("the decision is accept or refer", field="decision")
    exception = get_exception(session, exception_id)
    return perform(
        session,
        BATCH_RECORD_EXCEPTION_WORKFLOW,
        exception,
        decision,
        actor=actor,
        reason=reason,
        password=password,
        expected_version=expected_version,
    )


def raise_deviation_for_exception(
    session: Session, *, actor: Actor, exception_id: int, title: str, description: str
) -> Deviation:
    """One step from an exception to a deviation: raised with the batch named, linked to the
    exception (which QA then refers to it)."""
    actor.require("batchrecords.review", "raise deviations from batch record exceptions")
    exception = get_exception(session, exception_id)
    if exception.status != ExceptionStatus.OPEN:
        raise Conflict(f"{exception.number} is reviewed already")
    if exception.deviation_id is not None:
        raise Conflict(f"{exception.number} is linked to a deviation already")
    record = session.get(BatchRecord, exception.batch_record_id)
    assert record is not None  # a foreign key
    lot = session.get(Lot, record.lot_id)
    assert lot is not None
    now = clock.now()
    deviation = events.raise_deviation(
        session,
        actor=actor,
        source_type="batch_record_exception",
        source_id=exception.id,
        source_label=exception.number,
        title=title,
        description=description,
        area="Production",
        occurred_at=min(exception.occurred_at, now),
        discovered_at=now,
        product=record.product_code,
        batch_ids=[lot.lot_number],
    )
    with audit.changes(session, actor=actor, reason=f"referred to {deviation.number}"):
        exception.deviation_id = deviation.id
    return deviation
