"""The life of a CAPA:

draft → plan_approval → implementation → effectiveness_check → closed
(plan_approval → draft when QA returns the plan; effectiveness_check → implementation when a
check fails and actions reopen; implementation → closed directly only when no effectiveness
check is required, with a justification; draft or plan_approval → cancelled)

QA approves the plan and closes the CAPA, both signed — and never the CAPA's own owner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock, tasks
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.capa import rules
from pharmaqms.quality.capa.models import ActionStatus, Capa, CapaStatus
from pharmaqms.quality.training.gate import register_signed_step

OWNERS = (
    "qa",
    "qc_analyst",
    "production_supervisor",
    "qualified_person",
    "pv_officer",
    "rd_scientist",
    "logistics",
)

grant("capa.raise", *OWNERS, "integration")
grant("capa.manage", *OWNERS)
grant("capa.approve", "qa")

# QA's signed effectiveness verdict is not a transition of its own (a failed check reopens the
# CAPA): a governing rule names it by this step.
VERIFY_EFFECTIVENESS = "verify_effectiveness"
register_signed_step("capa", VERIFY_EFFECTIVENESS)


def open_action_tasks(session: Session, capa: Any, actor: Actor) -> None:
    """Each open action lands in its owner's inbox with its own due date. Runs after a
    transition, which has closed every task of the CAPA before."""
    for action in capa.actions:
        if action.status == ActionStatus.OPEN:
            tasks.open_task(
                session,
                capa,
                actor=actor,
                kind=action.task_kind,
                title=f"{capa.audit_label()}: {action.kind} action — {action.description[:150]}",
                user_id=action.owner_id,
                due_at=action.due_at,
            )


def _open_check_task(session: Session, capa: Any, actor: Actor) -> None:
    check = capa.pending_check
    if check is not None:
        tasks.open_task(
            session,
            capa,
            actor=actor,
            kind="effectiveness_check",
            title=f"Check the effectiveness of {capa.audit_label()}",
            role="qa",
            due_at=check.due_at,
        )


def _stamp_closure(session: Session, capa: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="closed"):
        capa.closed_at = clock.now()


CAPA_WORKFLOW = Workflow(
    record_type="capa",
    states=tuple(s.value for s in CapaStatus),
    initial=CapaStatus.DRAFT,
    labels={"plan_approval": "plan approval", "effectiveness_check": "effectiveness check"},
    retired_states=frozenset({CapaStatus.CANCELLED.value}),
    transitions=(
        Transition(
            "submit_plan",
            "Submit plan for approval",
            states("draft"),
            "plan_approval",
            roles(*OWNERS),
            guards=(rules.plan_complete,),
        ),
        Transition(
            "return_plan",
            "Return plan",
            states("plan_approval"),
            "draft",
            roles("qa"),
            reason_required=True,
        ),
        Transition(
            "approve_plan",
            "Approve plan",
            states("plan_approval"),
            "implementation",
            roles("qa"),
            signature="Approved",
            forbid_holders_of=("owner_id",),
            guards=(rules.plan_complete,),
            effects=(open_action_tasks,),
        ),
        Transition(
            "start_effectiveness_check",
            "Actions done: check effectiveness",
            states("implementation"),
            "effectiveness_check",
            roles(*OWNERS),
            guards=(rules.actions_done, rules.check_required),
            effects=(_open_check_task,),
        ),
        Transition(
            "reopen",
            "Reopen actions",
            states("effectiveness_check"),
            "implementation",
            roles("qa"),
            reason_required=True,
            effects=(open_action_tasks,),
        ),
        Transition(
            "close",
            "Close",
            states("implementation", "effectiveness_check"),
            "closed",
            roles("qa"),
            signature="Closed",
            forbid_holders_of=("owner_id",),
            guards=(rules.actions_done, rules.effectiveness_shown),
            effects=(_stamp_closure,),
        ),
        Transition(
            "cancel",
            "Cancel",
            states("draft", "plan_approval"),
            "cancelled",
            roles("qa"),
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "plan_approval": TaskSpec("approve_plan", "Approve the plan of {label}", "qa", 5),
    },
)

CAPA = register(
    RecordType(
        name="capa",
        label="CAPA",
        plural="CAPAs",
        model=Capa,
        workflow=CAPA_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("due_at", "Due"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("problem_statement", "Problem statement"),
            ("due_at", "Due"),
            ("effectiveness_required", "Effectiveness check required"),
            ("effectiveness_justification", "Why no effectiveness check"),
            ("closed_at", "Closed"),
        ),
        module="capa",
        detail_url=lambda c: f"/capas/{c.id}",
        searchable=("number", "title"),
    )
)


# Actions fulfilled by records complete when document control or training says so: the
# listeners are registered wherever CAPA's workflow is known (the app, the CLI, the jobs).
from pharmaqms.quality.capa import fulfilment as _fulfilment  # noqa: E402,F401
