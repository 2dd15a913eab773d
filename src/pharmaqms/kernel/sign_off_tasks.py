"""Tasks for sign-offs a record already waits for: a version of ``workflow.<type>.sign_offs``
comes into force on its date, when records may already sit in the status its sign-off
precedes. Entering that status opens the task (``kernel.workflow``); for the records that were
there first, the sweep every few minutes (``schedule.sign_off_tasks``) and the daily jobs open
it — once: a record with an open task of the sign-off, or signed off on its current version,
is left alone."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import workflow_sign_offs
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.workflow import configured_transitions, open_sign_off_task


def open_waiting_sign_off_tasks(session: Session, *, actor: Actor) -> list[Task]:
    """Open the missing sign-off tasks of every record type; returns the tasks opened."""
    opened = []
    for record_type in RECORD_TYPES.values():
        workflow = record_type.workflow
        _, sign_offs = workflow_sign_offs.in_force(session, workflow)
        if not sign_offs:
            continue
        _, configured = configured_transitions(session, workflow)
        for sign_off in sign_offs:
            before = configured.get(sign_off.before)
            if before is None:
                continue
            model = record_type.model
            waiting = session.scalars(
                select(model).where(model.status.in_(sorted(before.source))).order_by(model.id)
            ).all()
            asked = set(
                session.scalars(
                    select(Task.record_id).where(
                        Task.record_type == model.__audit_type__,
                        Task.kind == sign_off.step,
                        Task.status == "open",
                    )
                )
            )
            for record in waiting:
                if record.id in asked:
                    continue
                if workflow_sign_offs.valid_signature(session, record, sign_off) is not None:
                    continue
                opened.append(open_sign_off_task(session, record, sign_off, actor))
    return opened
