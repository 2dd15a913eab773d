"""A gate's life, and who may do what with gates.

open (the team collects evidence for the phase's deliverables) → submitted (nothing changes any
more; each function named for the phase signs "Approved") → approved (by the last function's
signature: the phase is closed and the next one opens). A function that finds the review short
returns it to open with a signed "Rejected" and its reason; the next submission is a new round
and the earlier round's approvals no longer count.

The submitter never approves (segregation of duties: who presents the evidence does not judge
it), and one person signs for one function only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import DEFAULT_ROLES, grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.rnd.eln.models import RndProject
from pharmaqms.lifecycle.rnd.gates import rules
from pharmaqms.lifecycle.rnd.gates.models import (
    DevelopmentPhase,
    DevelopmentPlan,
    GateStatus,
    StageGate,
)

# Regulatory affairs: keeps the dossier and signs the gates whose decisions it must match.
DEFAULT_ROLES.setdefault(
    "regulatory_affairs", ("Regulatory affairs (registration dossiers)", {"records.read"})
)

TEAM = ("rd_scientist", "qa")
APPROVER_ROLES = tuple(sorted(set(rules.FUNCTION_ROLE.values())))
grant("rnd.gates", *TEAM)
grant("rnd.gates.approve", *APPROVER_ROLES)


def evidence_complete(gate: Any) -> list[str]:
    covered = {e.deliverable for e in gate.current_evidence()}
    return [
        f"{gate.audit_label()} has no evidence for '{d.label}' ({d.kind.replace('_', ' ')})"
        for d in rules.missing_deliverables(gate.phase, covered)
    ]


def all_functions_approved(gate: Any) -> list[str]:
    approved = {a.function for a in gate.current_approvals()}
    return [
        f"{rules.FUNCTION_LABELS[f]} has not approved {gate.audit_label()} yet"
        for f in rules.waiting_functions(gate.phase, approved)
    ]


# Effects, so that the generic transition pages and API do exactly what the gate verbs do.


def _start_round(session: Session, gate: Any, actor: Actor) -> None:
    """Each submission is a new round: who submitted (barred from approving) and when."""
    with audit.changes(session, actor=actor, reason=f"submitted for approval by {actor.username}"):
        gate.round += 1
        gate.submitted_by_id = actor.user_id
        gate.submitted_at = clock.now()


# Days each function has to sign a submitted gate (the project plan counts on the decision).
APPROVAL_DAYS = 10


def approval_task_kind(function: str) -> str:
    return f"gate_approval:{function}"


def _ask_the_functions(session: Session, gate: Any, actor: Actor) -> None:
    """A task per function named for the phase, in the inbox of who signs for it: the
    project's lead by name, the other functions by role. Each closes when its function signs;
    all close when the gate is approved or returned (the workflow closes a record's tasks on
    every transition)."""
    project = session.get(RndProject, gate.project_id)
    assert project is not None
    for function in rules.APPROVERS[DevelopmentPhase(gate.phase)]:
        label = rules.FUNCTION_LABELS[function]
        lead = function == rules.Function.PROJECT_LEAD
        tasks.open_task(
            session,
            gate,
            actor=actor,
            kind=approval_task_kind(function.value),
            title=f"Approve {gate.audit_label()} for {label}",
            role=None if lead else rules.FUNCTION_ROLE[function],
            user_id=project.lead_id if lead else None,
            due_in=timedelta(days=APPROVAL_DAYS),
        )


def _open_next_phase(session: Session, gate: Any, actor: Actor) -> None:
    """The approved gate closes its phase and opens the next (none after the last)."""
    following = rules.next_phase(gate.phase)
    plan = session.scalars(
        select(DevelopmentPlan).where(DevelopmentPlan.project_id == gate.project_id)
    ).one()
    reason = f"{gate.number} approved: {rules.phase_label(gate.phase)} closed" + (
        f", {rules.phase_label(following)} opened" if following else ", all phases passed"
    )
    with audit.changes(session, actor=actor, reason=reason):
        gate.approved_at = clock.now()
        plan.current_phase = following.value if following else None


GATE_WORKFLOW = Workflow(
    record_type="rnd_gate",
    states=tuple(s.value for s in GateStatus),
    initial=GateStatus.OPEN.value,
    transitions=(
        Transition(
            "submit",
            "Submit the gate review",
            states("open"),
            "submitted",
            roles(*TEAM),
            guards=(evidence_complete,),
            effects=(_start_round, _ask_the_functions),
        ),
        Transition(
            "return",
            "Return the gate for rework",
            states("submitted"),
            "open",
            roles(*APPROVER_ROLES),
            signature="Rejected",
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve the gate",
            states("submitted"),
            "approved",
            roles(*APPROVER_ROLES),
            forbid_holders_of=("submitted_by_id",),
            guards=(evidence_complete, all_functions_approved),
            effects=(_open_next_phase,),
        ),
    ),
)

register(
    RecordType(
        name="rnd_gate",
        label="Stage gate",
        plural="Stage gates",
        model=StageGate,
        workflow=GATE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("phase", "Phase"),
            ("round", "Round"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("phase", "Phase"),
            ("round", "Round"),
            ("summary", "Summary"),
            ("status", "Status"),
            ("approved_at", "Approved"),
        ),
        module="rnd",
        detail_url=lambda r: f"/rnd/gates/{r.id}",
    )
)
