"""Extensions of a deviation's due date: requested with a justification, decided by QA with a
reason. The requester never decides their own request, and the new due date is audited with the
decision as its reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, SegregationOfDuties
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.quality import common
from pharmaqms.quality.deviations.models import (
    OPEN_STATUSES,
    Deviation,
    DeviationExtension,
    ExtensionStatus,
)


def request_extension(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    requested_due_at: datetime,
    justification: str,
) -> DeviationExtension:
    deviation = common.get_or_404(session, Deviation, deviation_id, "deviation")
    if not (actor.can("deviations.manage") or deviation.investigator_id == actor.user_id):
        actor.require("deviations.manage", "request an extension of a deviation of someone else")
    common.require_status(deviation, OPEN_STATUSES, "an extension")
    if deviation.due_at is None:
        raise Conflict(f"{deviation.number} has no due date yet: it is not classified")
    if any(e.status == ExtensionStatus.REQUESTED for e in deviation.extensions):
        raise Conflict(f"{deviation.number} already has an extension request waiting")
    common.in_future(requested_due_at, "requested_due_at", "the new due date")
    if requested_due_at <= deviation.due_at:
        raise InvalidInput(
            f"the new due date must be later than the current one "
            f"({format_time(deviation.due_at)})",
            field="requested_due_at",
        )
    text = common.required_text(
        justification, "justification", "the justification of the extension"
    )
    extension = DeviationExtension(
        status=ExtensionStatus.REQUESTED.value,
        previous_due_at=deviation.due_at,
        requested_due_at=requested_due_at,
        justification=text,
        requested_by_id=actor.user_id,
        requested_at=clock.now(),
        decision_reason="",
    )
    with audit.changes(session, actor=actor, reason=text, action="request_extension"):
        deviation.extensions.append(extension)
    return extension


def decide_extension(
    session: Session,
    *,
    actor: Actor,
    deviation_id: int,
    extension_id: int,
    approve: bool,
    reason: str,
) -> DeviationExtension:
    actor.require("deviations.manage", "decide on extension requests")
    deviation = common.get_or_404(session, Deviation, deviation_id, "deviation")
    extension = next((e for e in deviation.extensions if e.id == extension_id), None)
    if extension is None:
        raise NotFound(f"{deviation.number} has no extension request {extension_id}")
    if extension.status != ExtensionStatus.REQUESTED:
        raise Conflict(f"the extension request {extension_id} is already {extension.status}")
    if extension.requested_by_id == actor.user_id:
        raise SegregationOfDuties("who requested an extension may not decide on it")
    why = common.required_text(reason, "reason", "the reason for the decision")
    decision = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    with audit.changes(session, actor=actor, reason=why, action=f"extension_{decision.value}"):
        extension.status = decision.value
        extension.decided_by_id = actor.user_id
        extension.decided_at = clock.now()
        extension.decision_reason = why
    if approve:
        new_due = extension.requested_due_at
        with audit.changes(
            session,
            actor=actor,
            reason=f"extension approved: {why}",
            action="extend_due_date",
        ):
            deviation.due_at = new_due
            open_tasks = session.scalars(
                select(Task).where(
                    Task.record_type == deviation.__audit_type__,
                    Task.record_id == deviation.id,
                    Task.status == "open",
                    Task.kind == "investigate",
                )
            )
            for task in open_tasks:
                task.due_at = new_due
    return extension
