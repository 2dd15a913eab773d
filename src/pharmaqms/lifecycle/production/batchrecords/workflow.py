"""The life of an executed batch record, of its steps and of its exceptions.

Step: pending → in progress (started) → performed (operator's "Performed" signature) → verified
(a second person's "Verified" signature, where the master asks for it). Every step transition
passes the batch record gate (``service.step_gate``): steps in order, the step's entries
complete, the person trained on the step's SOPs — whether it is taken from the shop-floor page,
the API or the generic record routes.

Batch record: in progress → completed (the production supervisor's "Reviewed" signature once
every step is performed; the lot's end of manufacture is recorded).

Exception: open → accepted (no impact) | referred (to a deviation), by QA with a reason and a
"Reviewed" signature; whoever caused the exception does not review it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, register_gate, roles, states
from pharmaqms.lifecycle.production.batchrecords.models import (
    BatchRecord,
    BatchRecordException,
    BatchRecordStatus,
    BatchStep,
    ExceptionStatus,
    StepStatus,
)

grant("batchrecords.execute", "production_operator", "production_supervisor")
grant("batchrecords.open", "production_supervisor")
grant("batchrecords.masters", "production_supervisor", "qa")
grant("batchrecords.review", "qa")
grant("equipment.manage", "production_supervisor", "qa")

SHOP_FLOOR = roles("production_operator", "production_supervisor")


def verification_asked(step: Any) -> list[str]:
    if not step.verification_required:
        return ["the master batch record asks for no second-person verification of this step"]
    return []


def deviation_linked(exception: Any) -> list[str]:
    if exception.deviation_id is None:
        return ["no deviation is linked: raise one from the exception first"]
    return []


def _step_started(session: Session, step: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.batchrecords.service import on_step_started

    on_step_started(session, step, actor=actor)


def _step_performed(session: Session, step: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.batchrecords.service import on_step_performed

    on_step_performed(session, step, actor=actor)


def _step_verified(session: Session, step: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.batchrecords.service import on_step_verified

    on_step_verified(session, step, actor=actor)


def _record_completed(session: Session, record: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.batchrecords.service import on_record_completed

    on_record_completed(session, record, actor=actor)


BATCH_STEP_WORKFLOW = Workflow(
    record_type="batch_step",
    states=tuple(s.value for s in StepStatus),
    initial=StepStatus.PENDING.value,
    labels={"in_progress": "in progress"},
    transitions=(
        Transition(
            "start",
            "Start the step",
            states("pending"),
            "in_progress",
            SHOP_FLOOR,
            effects=(_step_started,),
        ),
        Transition(
            "perform",
            "Sign the step as performed",
            states("in_progress"),
            "performed",
            SHOP_FLOOR,
            signature="Performed",
            effects=(_step_performed,),
        ),
        Transition(
            "verify",
            "Verify the step (second person)",
            states("performed"),
            "verified",
            SHOP_FLOOR,
            signature="Verified",
            forbid_signers_of=frozenset({"Performed"}),
            guards=(verification_asked,),
            effects=(_step_verified,),
        ),
    ),
)

BATCH_RECORD_WORKFLOW = Workflow(
    record_type="batch_record",
    states=tuple(s.value for s in BatchRecordStatus),
    initial=BatchRecordStatus.IN_PROGRESS.value,
    labels={"in_progress": "in progress"},
    transitions=(
        Transition(
            "complete",
            "Complete the batch record (production review)",
            states("in_progress"),
            "completed",
            roles("production_supervisor"),
            signature="Reviewed",
            effects=(_record_completed,),
        ),
    ),
)

BATCH_RECORD_EXCEPTION_WORKFLOW = Workflow(
    record_type="batch_record_exception",
    states=tuple(s.value for s in ExceptionStatus),
    initial=ExceptionStatus.OPEN.value,
    transitions=(
        Transition(
            "accept",
            "Accept: no impact on the batch",
            states("open"),
            "accepted",
            roles("qa"),
            signature="Reviewed",
            reason_required=True,
            forbid_author=True,
        ),
        Transition(
            "refer",
            "Refer to the linked deviation",
            states("open"),
            "referred",
            roles("qa"),
            signature="Reviewed",
            reason_required=True,
            forbid_author=True,
            guards=(deviation_linked,),
        ),
    ),
)


def _gate(session: Session, actor: Actor, record: GxPRecord, transition: Transition) -> None:
    if isinstance(record, BatchStep | BatchRecord):
        from pharmaqms.lifecycle.production.batchrecords.service import batch_record_gate

        batch_record_gate(session, actor, record, transition)


register_gate(_gate)


def _record_url(record: Any) -> str:
    return f"/production/batch-records/{record.id}"


def _step_url(step: Any) -> str:
    return f"/production/batch-records/{step.batch_record_id}#step-{step.position}"


def _exception_url(exception: Any) -> str:
    return f"/production/batch-records/{exception.batch_record_id}/exceptions"


BATCH_RECORD = register(
    RecordType(
        name="batch_record",
        label="Batch record",
        plural="Batch records",
        model=BatchRecord,
        workflow=BATCH_RECORD_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("master_number", "Master"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("product_code", "Product"),
            ("master_number", "Master batch record"),
            ("step_count", "Steps"),
            ("started_at", "Started"),
            ("manufacturing_ended_at", "End of manufacture"),
        ),
        module="production",
        detail_url=_record_url,
        searchable=("number", "product_code", "master_number"),
    )
)

BATCH_STEP = register(
    RecordType(
        name="batch_step",
        label="Batch record step",
        plural="Batch record steps",
        model=BatchStep,
        workflow=BATCH_STEP_WORKFLOW,
        list_columns=(("number", "Number"), ("title", "Step"), ("status", "Status")),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("path", "Unit procedure / operation / phase"),
            ("title", "Step"),
            ("started_at", "Started"),
            ("performed_at", "Performed"),
            ("verified_at", "Verified"),
        ),
        module="production",
        detail_url=_step_url,
        searchable=("number", "title"),
    )
)

BATCH_RECORD_EXCEPTION = register(
    RecordType(
        name="batch_record_exception",
        label="Batch record exception",
        plural="Batch record exceptions",
        model=BatchRecordException,
        workflow=BATCH_RECORD_EXCEPTION_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("kind", "Kind"),
            ("description", "What happened"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("kind", "Kind"),
            ("description", "What happened"),
            ("occurred_at", "When"),
        ),
        module="production",
        detail_url=_exception_url,
        searchable=("number", "description"),
    )
)


# The master batch records' registrations with quality's front doors (document control's
# structured owner, change control's affected items) hold wherever this workflow is loaded.
from pharmaqms.lifecycle.production.batchrecords import masters as _masters  # noqa: E402,F401
