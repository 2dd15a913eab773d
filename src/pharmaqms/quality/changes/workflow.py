"""The life of a change request:

draft → impact_assessment → approval → implementation → effectiveness_review → closed
(approval → impact_assessment when a function sends it back; approval → rejected when a
function rejects it; effectiveness_review → implementation when the change did not work;
draft or impact_assessment → cancelled)

In approval every impacted function signs for itself; the change moves on when the last one
has signed. The requester and the owner sign for no function, and nobody signs for two
functions of the same change; who carries the change out (its owner, the owners of its tasks)
neither reviews its effectiveness nor closes it. A change closes only when every closure
condition other modules registered for it is met (``closure.py``: a technology transfer's
production drafts in force).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.changes import authority, closure, rules
from pharmaqms.quality.changes.models import (
    FUNCTION_ROLE,
    ActionStatus,
    ChangeFunction,
    ChangeRequest,
    ChangeStatus,
)

REQUESTERS = (
    "qa",
    "qc_analyst",
    "production_supervisor",
    "qualified_person",
    "pv_officer",
    "rd_scientist",
    "logistics",
)
FUNCTION_ROLES = tuple(sorted(set(FUNCTION_ROLE.values())))

grant("changes.request", *REQUESTERS, "integration")
grant("changes.implement", *REQUESTERS)
grant("changes.assess", "qa")
for _role in FUNCTION_ROLES:
    grant("changes.approve", _role)


def signs_for_an_impacted_function(change: Any, actor: Actor) -> list[str]:
    """Only the functions the change impacts decide on it (by the role each function holds)."""
    impacted = [ChangeFunction(f) for f in change.functions]
    if actor.roles & {FUNCTION_ROLE[f] for f in impacted}:
        return []
    shown = ", ".join(f.value.replace("_", " ") for f in impacted) or "none chosen yet"
    return [f"only the functions {change.audit_label()} impacts decide on it ({shown})"]


def _open_round(session: Session, change: Any, actor: Actor) -> None:
    """A new approval round: earlier approvals no longer count, and every function gets a
    task to decide."""
    with audit.changes(session, actor=actor, reason="approval round opened"):
        change.approval_round += 1
    for function in change.functions:
        tasks.open_task(
            session,
            change,
            actor=actor,
            kind=f"approve:{function}",
            title=f"Approve {change.audit_label()} for {function.replace('_', ' ')}",
            role=FUNCTION_ROLE[ChangeFunction(function)],
            due_in=None,
        )


def _stamp_approval(session: Session, change: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="approved by every impacted function"):
        change.approved_at = clock.now()
    for action in change.actions:
        if action.status == ActionStatus.OPEN:
            tasks.open_task(
                session,
                change,
                actor=actor,
                kind=action.task_kind,
                title=f"{change.audit_label()}: {action.description[:180]}",
                user_id=action.owner_id,
                due_at=action.due_at,
            )


def _stamp_closure(session: Session, change: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="closed"):
        change.closed_at = clock.now()


CHANGE_WORKFLOW = Workflow(
    record_type="change_request",
    states=tuple(s.value for s in ChangeStatus),
    initial=ChangeStatus.DRAFT,
    labels={
        "impact_assessment": "impact assessment",
        "effectiveness_review": "effectiveness review",
    },
    retired_states=frozenset({ChangeStatus.REJECTED.value, ChangeStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "submit",
            "Submit for impact assessment",
            states("draft"),
            "impact_assessment",
            roles(*REQUESTERS),
            guards=(rules.request_complete,),
        ),
        Transition(
            "submit_for_approval",
            "Submit for approval",
            states("impact_assessment"),
            "approval",
            roles("qa"),
            guards=(rules.request_complete, rules.impact_assessed),
            effects=(_open_round,),
        ),
        Transition(
            "approve",
            "Approved by every function",
            states("approval"),
            "implementation",
            roles(*FUNCTION_ROLES),
            guards=(rules.all_functions_approved,),
            effects=(_stamp_approval,),
        ),
        Transition(
            "return_to_assessment",
            "Return to impact assessment",
            states("approval"),
            "impact_assessment",
            roles(*FUNCTION_ROLES),
            reason_required=True,
            actor_guards=(signs_for_an_impacted_function,),
        ),
        Transition(
            "reject",
            "Reject",
            states("approval"),
            "rejected",
            roles(*FUNCTION_ROLES),
            signature="Rejected",
            forbid_author=True,
            reason_required=True,
            actor_guards=(signs_for_an_impacted_function,),
        ),
        Transition(
            "complete_implementation",
            "Implementation done: review effectiveness",
            states("implementation"),
            "effectiveness_review",
            roles(*REQUESTERS),
            guards=(rules.implementation_done, authority.authority_approved),
        ),
        Transition(
            "reopen_implementation",
            "Reopen implementation",
            states("effectiveness_review"),
            "implementation",
            roles("qa"),
            reason_required=True,
        ),
        Transition(
            "close",
            "Close",
            states("effectiveness_review"),
            "closed",
            roles("qa"),
            signature="Closed",
            forbid_author=True,
            forbid_holders_of=("owner_id",),
            actor_guards=(rules.not_a_task_implementer,),
            guards=(
                rules.implementation_done,
                rules.effectiveness_confirmed,
                closure.closure_conditions_met,
            ),
            effects=(_stamp_closure,),
        ),
        Transition(
            "cancel",
            "Cancel",
            states("draft", "impact_assessment"),
            "cancelled",
            roles("qa", *REQUESTERS),
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "impact_assessment": TaskSpec(
            "assess", "Assess the impact of {label}", "qa", due_in_days=10
        ),
        "effectiveness_review": TaskSpec(
            "review", "Review the effectiveness of {label}", "qa", due_in_days=30
        ),
    },
)

CHANGE_REQUEST = register(
    RecordType(
        name="change_request",
        label="Change request",
        plural="Change requests",
        model=ChangeRequest,
        workflow=CHANGE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Title"),
            ("regulatory_category", "Reporting category"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("change_type", "Type"),
            ("description", "Description"),
            ("justification", "Justification"),
            ("regulatory_category", "Regulatory reporting category"),
            ("regulatory_rationale", "Rationale"),
            ("functions", "Approving functions"),
        ),
        module="changes",
        detail_url=lambda c: f"/changes/{c.id}",
        searchable=("number", "title"),
    )
)
