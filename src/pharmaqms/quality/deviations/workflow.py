"""The life of a deviation:

reported → investigation → pending_approval → approved → closed
(QA classifies a report to start the investigation; pending_approval → investigation when QA
returns it; reported or investigation → cancelled when it turns out not to be a deviation)

Approval and closure are signed by QA. Neither the reporter nor the investigator may approve.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.deviations import configuration as _configuration  # noqa: F401  (registers the due days)
from pharmaqms.quality.deviations import rules
from pharmaqms.quality.deviations.models import Deviation, DeviationStatus

REPORTERS = (
    "qa",
    "qc_analyst",
    "production_operator",
    "production_supervisor",
    "qualified_person",
    "pv_officer",
    "rd_scientist",
    "logistics",
    "integration",
)
INVESTIGATORS = ("qa", "qc_analyst", "production_supervisor", "rd_scientist", "logistics")

grant("deviations.report", *REPORTERS)
grant("deviations.investigate", *INVESTIGATORS)
grant("deviations.manage", "qa")
grant("deviations.disposition", "qa", "qualified_person")


def _start_investigation(session: Session, deviation: Any, actor: Actor) -> None:
    """Classification sets the clock running: the due date follows from the class, and the
    investigator gets the investigation in their inbox."""
    if deviation.due_at is None:
        rule = rules.due_days_in_force(session)
        with audit.changes(
            session, actor=actor, reason=f"due date from the classification ({rule.label})"
        ):
            deviation.due_at = rules.due_date(
                deviation.discovered_at, deviation.classification, rule.content
            )
        config_store.record_use(
            session, deviation, rule, "due date from the classification", actor=actor
        )
    if deviation.investigator_id is not None:
        tasks.open_task(
            session,
            deviation,
            actor=actor,
            kind="investigate",
            title=f"Investigate {deviation.audit_label()}: {deviation.title}",
            user_id=deviation.investigator_id,
            due_at=deviation.due_at,
        )


def _stamp_closure(session: Session, deviation: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="closed"):
        deviation.closed_at = clock.now()


DEVIATION_WORKFLOW = Workflow(
    record_type="deviation",
    states=tuple(s.value for s in DeviationStatus),
    initial=DeviationStatus.REPORTED,
    labels={"pending_approval": "pending approval"},
    retired_states=frozenset({DeviationStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "classify",
            "Classify and start investigation",
            states("reported"),
            "investigation",
            roles("qa"),
            guards=(rules.classified, rules.immediate_actions_recorded, rules.investigator_named),
            effects=(_start_investigation,),
        ),
        Transition(
            "submit",
            "Submit investigation for approval",
            states("investigation"),
            "pending_approval",
            roles(*INVESTIGATORS),
            guards=(
                rules.classified,
                rules.investigation_complete,
                rules.batches_assessed,
                rules.capa_decided,
            ),
        ),
        Transition(
            "return_to_investigation",
            "Return to investigation",
            states("pending_approval"),
            "investigation",
            roles("qa"),
            reason_required=True,
            effects=(_start_investigation,),
        ),
        Transition(
            "approve",
            "Approve",
            states("pending_approval"),
            "approved",
            roles("qa"),
            signature="Approved",
            forbid_author=True,
            forbid_holders_of=("investigator_id",),
            guards=(
                rules.classified,
                rules.investigation_complete,
                rules.batches_assessed,
                rules.capa_decided,
            ),
        ),
        Transition(
            "close",
            "Close",
            states("approved"),
            "closed",
            roles("qa"),
            signature="Closed",
            # The CAPA it was approved on may have been cancelled since: raise another first.
            guards=(rules.capa_decided, rules.batches_dispositioned, rules.no_pending_extension),
            effects=(_stamp_closure,),
        ),
        Transition(
            "cancel",
            "Cancel (not a deviation)",
            states("reported", "investigation"),
            "cancelled",
            roles("qa"),
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "pending_approval": TaskSpec(
            "approve", "Review and approve the investigation of {label}", "qa", due_in_days=5
        ),
        "approved": TaskSpec(
            "close", "Record batch dispositions and close {label}", "qa", due_in_days=5
        ),
    },
)

DEVIATION = register(
    RecordType(
        name="deviation",
        label="Deviation",
        plural="Deviations",
        model=Deviation,
        workflow=DEVIATION_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Title"),
            ("classification", "Class"),
            ("area", "Area"),
            ("status", "Status"),
            ("due_at", "Due"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("classification", "Class"),
            ("area", "Area"),
            ("product", "Product"),
            ("occurred_at", "Occurred"),
            ("discovered_at", "Discovered"),
            ("due_at", "Due"),
            ("description", "Description"),
            ("immediate_actions", "Immediate actions"),
            ("root_cause", "Root cause"),
        ),
        module="deviations",
        detail_url=lambda d: f"/deviations/{d.id}",
        searchable=("number", "title", "area", "product"),
    )
)
