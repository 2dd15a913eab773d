"""The life of a risk assessment:

draft → in_review → approved   (in_review → draft when returned; draft → withdrawn)

Approval is signed, and not by the author.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.quality.risk import configuration as _configuration  # noqa: F401  (registers the matrix)
from pharmaqms.quality.risk.models import RiskAssessment, RiskStatus

ASSESSORS = (
    "qa",
    "qc_analyst",
    "production_supervisor",
    "qualified_person",
    "pv_officer",
    "rd_scientist",
    "logistics",
)

grant("risk.assess", *ASSESSORS)
grant("risk.approve", "qa", "qualified_person")


def live_items(assessment: Any) -> list[Any]:
    return [i for i in assessment.items if not i.retired]


def table_complete(assessment: Any) -> list[str]:
    items = live_items(assessment)
    if not items:
        return ["the FMEA table has no failure mode"]
    reasons = []
    for item in items:
        if item.risk_level != "low" and not (item.controls or "").strip():
            reasons.append(f"the {item.risk_level} risk #{item.id} has no controls")
        if item.risk_level != "low" and item.residual_level is None:
            reasons.append(f"the {item.risk_level} risk #{item.id} has no residual risk scored")
    return reasons


def residual_risk_accepted(assessment: Any) -> list[str]:
    high = [i.id for i in live_items(assessment) if i.residual_level == "high"]
    if high and not (assessment.acceptance_rationale or "").strip():
        return [
            "the residual risk stays high for items "
            f"{', '.join(f'#{i}' for i in high)}: record why it is acceptable"
        ]
    return []


def _stamp_approval(session: Session, assessment: Any, actor: Actor) -> None:
    with audit.changes(session, actor=actor, reason="approved"):
        assessment.approved_at = clock.now()


RISK_WORKFLOW = Workflow(
    record_type="risk_assessment",
    states=tuple(s.value for s in RiskStatus),
    initial=RiskStatus.DRAFT,
    labels={"in_review": "in review"},
    retired_states=frozenset({RiskStatus.WITHDRAWN.value}),
    transitions=(
        Transition(
            "submit",
            "Submit for review",
            states("draft"),
            "in_review",
            roles(*ASSESSORS),
            guards=(table_complete,),
        ),
        Transition(
            "return_to_draft",
            "Return to draft",
            states("in_review"),
            "draft",
            roles("qa", "qualified_person"),
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve",
            states("in_review"),
            "approved",
            roles("qa", "qualified_person"),
            signature="Approved",
            forbid_author=True,
            guards=(table_complete, residual_risk_accepted),
            effects=(_stamp_approval,),
        ),
        Transition(
            "withdraw",
            "Withdraw",
            states("draft"),
            "withdrawn",
            roles(*ASSESSORS),
            reason_required=True,
            withdrawable=True,
        ),
    ),
    on_enter={
        "in_review": TaskSpec("approve", "Review and approve {label}", "qa", due_in_days=10),
    },
)

RISK_ASSESSMENT = register(
    RecordType(
        name="risk_assessment",
        label="Risk assessment",
        plural="Risk assessments",
        model=RiskAssessment,
        workflow=RISK_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("title", "Title"),
            ("subject_label", "Assesses"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("subject_label", "Assesses"),
            ("scope", "Scope"),
            ("matrix_name", "Risk matrix"),
            ("acceptance_rationale", "Risk acceptance"),
        ),
        module="risk",
        detail_url=lambda r: f"/risk-assessments/{r.id}",
        searchable=("number", "title", "subject_label"),
    )
)
