"""The lives of a QC specification, an OOS investigation and a certificate of analysis.

Specification: draft → in_review → approved → superseded | retired (in_review → draft when
returned). Approval is signed by QA, not by the author; approving a revision supersedes the
revision of the same family in force.

OOS investigation (FDA guidance *Investigating Out-of-Specification (OOS) Test Results for
Pharmaceutical Production*):

    phase_1 ──(assignable lab error proven; QA signs; original result invalidated)──▶ retest
    retest ──(a valid retest recorded; QA signs "Closed")──▶ closed
    phase_1 ──(no assignable lab error; signed "Reviewed")──▶ phase_2
    phase_2 ──(conclusion written)──▶ pending_approval ──(QA signs, not the one who
    concluded)──▶ closed     (pending_approval → phase_2 when QA returns it)

Closing a confirmed OOS opens a nonconforming product record for the lot; closing an
invalidated one lifts the lot's hold once nothing else holds it.

Certificate of analysis: draft → reviewed (QC signs "Reviewed") → approved (QA signs
"Approved", not the reviewer) | withdrawn. Both steps need the lot's QC verdict "passed" (no
open OOS investigation, no out-of-trend result left unassessed). Approving the certificate of a
material lot releases the lot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, object_session

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.lifecycle.production.qc.evaluation import Criterion, criterion_problems
from pharmaqms.lifecycle.production.qc.models import (
    CertificateOfAnalysis,
    CertificateStatus,
    Conclusion,
    InvestigationStatus,
    OosInvestigation,
    QcResult,
    ResultOutcome,
    Specification,
    SpecificationStatus,
)
from pharmaqms.quality.changes.affected import register_affected_lookup

grant("qc.specifications", "qc_analyst", "qa")
grant("qc.results", "qc_analyst", "qa", "integration")
grant("qc.investigate", "qc_analyst", "qa")
grant("qc.certificates", "qc_analyst", "qa")

AUTHORS = roles("qc_analyst", "qa")
QA = roles("qa")
LAB = roles("qc_analyst", "qa")


# --- specification --------------------------------------------------------------------------


def criterion_of(test: Any) -> Criterion:
    return Criterion(
        test_code=test.test_code,
        kind=test.kind,
        unit=test.unit,
        lower_limit=test.lower_limit,
        upper_limit=test.upper_limit,
        decimals=test.decimals,
        allowed_values=tuple(test.allowed_values),
        trend_rule=test.trend_rule,
        trend_window=test.trend_window,
        trend_k=test.trend_k,
        trend_run_length=test.trend_run_length,
    )


def specification_complete(spec: Any) -> list[str]:
    reasons: list[str] = []
    if not spec.tests:
        reasons.append("the specification lists no tests")
    for test in spec.tests:
        reasons.extend(criterion_problems(criterion_of(test)))
    if spec.revision > 1 and not (spec.change_summary or "").strip():
        reasons.append("a new revision needs a summary of what changed and why")
    return reasons


def _on_specification_approved(session: Session, spec: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.specifications import on_approved

    on_approved(session, spec, actor=actor)


SPECIFICATION_WORKFLOW = Workflow(
    record_type="qc_specification",
    states=tuple(s.value for s in SpecificationStatus),
    initial=SpecificationStatus.DRAFT.value,
    labels={"in_review": "in review"},
    retired_states=frozenset({"superseded", "retired"}),
    transitions=(
        Transition(
            "submit",
            "Submit for approval",
            states("draft"),
            "in_review",
            AUTHORS,
            guards=(specification_complete,),
        ),
        Transition(
            "return_to_draft",
            "Return to draft",
            states("in_review"),
            "draft",
            AUTHORS,
            reason_required=True,
        ),
        Transition(
            "approve",
            "Approve",
            states("in_review"),
            "approved",
            QA,
            signature="Approved",
            forbid_author=True,
            guards=(specification_complete,),
            effects=(_on_specification_approved,),
        ),
        Transition(
            "supersede",
            "Supersede",
            states("approved"),
            "superseded",
            roles("qa", "system"),
            reason_required=True,
        ),
        Transition(
            "retire",
            "Retire",
            states("approved", "draft"),
            "retired",
            QA,
            signature="Retired",
            reason_required=True,
        ),
    ),
    on_enter={
        "in_review": TaskSpec("approve", "Review and approve specification {label}", "qa", 10),
    },
)

SPECIFICATION = register(
    RecordType(
        name="qc_specification",
        label="QC specification",
        plural="QC specifications",
        model=Specification,
        workflow=SPECIFICATION_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("item_code", "Item"),
            ("market", "Market"),
            ("title", "Title"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("title", "Title"),
            ("status", "Status"),
            ("subject_kind", "For"),
            ("item_code", "Item"),
            ("market", "Market"),
            ("revision", "Revision"),
            ("change_summary", "Change summary"),
            ("approved_at", "Approved"),
        ),
        module="production",
        detail_url=lambda s: f"/production/qc/specifications/{s.id}",
        searchable=("number", "item_code", "market", "title"),
    )
)


# --- OOS investigation ----------------------------------------------------------------------


def phase1_recorded(inv: Any) -> list[str]:
    reasons = []
    if not (inv.phase1_findings or "").strip():
        reasons.append("the phase I laboratory findings are not recorded")
    if inv.assignable_cause is None:
        reasons.append("phase I has not decided whether there is an assignable laboratory error")
    return reasons


def lab_error_proven(inv: Any) -> list[str]:
    reasons = []
    if inv.assignable_cause is not True:
        reasons.append("no assignable laboratory error is recorded")
    if not (inv.lab_error_evidence or "").strip():
        reasons.append(
            "the evidence of the laboratory error is not recorded (an invalidation needs it)"
        )
    return reasons


def no_lab_error(inv: Any) -> list[str]:
    if inv.assignable_cause is True:
        return ["phase I found an assignable laboratory error: invalidate and retest instead"]
    return []


def not_the_analyst_who_tested(inv: Any, actor: Actor) -> list[str]:
    """Phase I is a second pair of eyes on the laboratory's work (FDA OOS guidance, phase I:
    the analyst and the supervisor; EU GMP Chapter 6.35): the one who ran the test, or recorded
    it, does not sign the review of it nor the invalidation of their own result."""
    session = object_session(inv)
    result = session.get(QcResult, inv.result_id) if session is not None else None
    if result is None:
        return []
    named = (result.analyst or "").strip().casefold()
    if actor.user_id == result.created_by_id or named in {
        actor.username.casefold(),
        actor.full_name.strip().casefold(),
    }:
        return [
            f"{actor.full_name} ran or recorded the result under investigation: another "
            "analyst or QA signs the review of it"
        ]
    return []


def conclusion_complete(inv: Any) -> list[str]:
    reasons = []
    if not (inv.phase2_manufacturing_review or "").strip():
        reasons.append("the review of manufacturing (batch record, deviations) is not recorded")
    if not (inv.root_cause or "").strip():
        reasons.append("the root cause is not stated (write 'not identified' and why)")
    if inv.conclusion not in {c.value for c in Conclusion}:
        reasons.append("the conclusion is missing: OOS confirmed or invalidated")
    if not (inv.conclusion_rationale or "").strip():
        reasons.append("the rationale of the conclusion is missing")
    if not (inv.impact_on_other_lots or "").strip():
        reasons.append("the impact on other lots is not assessed")
    if inv.conclusion == Conclusion.INVALIDATED and not (inv.lab_error_evidence or "").strip():
        reasons.append("invalidating the result needs the evidence of the laboratory error")
    return reasons


def retest_recorded(inv: Any) -> list[str]:
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from pharmaqms.lifecycle.production.qc.models import QcResult, ResultStatus

    session = object_session(inv)
    if session is None:  # pragma: no cover - a record always belongs to its session here
        return ["the investigation is not loaded"]
    retest = session.scalars(
        select(QcResult.id).where(
            QcResult.retest_of_id == inv.result_id, QcResult.status == ResultStatus.VALID
        )
    ).first()
    return [] if retest is not None else ["no valid retest result is recorded yet"]


def _invalidate_original(session: Session, inv: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.investigations import on_lab_error_proven

    on_lab_error_proven(session, inv, actor=actor)


def _on_concluded(session: Session, inv: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.investigations import on_concluded

    on_concluded(session, inv, actor=actor)


def _on_closed_after_retest(session: Session, inv: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.investigations import on_closed_after_retest

    on_closed_after_retest(session, inv, actor=actor)


def _note_concluded_by(session: Session, inv: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.investigations import note_concluded_by

    note_concluded_by(session, inv, actor=actor)


OOS_WORKFLOW = Workflow(
    record_type="oos_investigation",
    states=tuple(s.value for s in InvestigationStatus),
    initial=InvestigationStatus.PHASE_1.value,
    labels={
        "phase_1": "phase I (laboratory)",
        "phase_2": "phase II (full investigation)",
        "retest": "invalidated, retest",
        "pending_approval": "pending QA approval",
    },
    transitions=(
        Transition(
            "invalidate_lab_error",
            "Invalidate: assignable laboratory error",
            states("phase_1"),
            "retest",
            QA,
            signature="Approved",
            reason_required=True,
            actor_guards=(not_the_analyst_who_tested,),
            guards=(phase1_recorded, lab_error_proven),
            effects=(_invalidate_original,),
        ),
        Transition(
            "close_after_retest",
            "Close after retest",
            states("retest"),
            "closed",
            QA,
            signature="Closed",
            guards=(retest_recorded,),
            effects=(_on_closed_after_retest,),
        ),
        Transition(
            "escalate",
            "No laboratory error: start phase II",
            states("phase_1"),
            "phase_2",
            LAB,
            signature="Reviewed",
            actor_guards=(not_the_analyst_who_tested,),
            guards=(phase1_recorded, no_lab_error),
        ),
        Transition(
            "submit_conclusion",
            "Submit the conclusion to QA",
            states("phase_2"),
            "pending_approval",
            LAB,
            guards=(conclusion_complete,),
            effects=(_note_concluded_by,),
        ),
        Transition(
            "return_to_phase_2",
            "Return to phase II",
            states("pending_approval"),
            "phase_2",
            QA,
            reason_required=True,
        ),
        Transition(
            "approve_conclusion",
            "Approve the conclusion and close",
            states("pending_approval"),
            "closed",
            QA,
            signature="Approved",
            forbid_holders_of=("concluded_by_id",),
            guards=(conclusion_complete,),
            effects=(_on_concluded,),
        ),
    ),
    on_enter={
        "phase_1": TaskSpec(
            "investigate", "Phase I laboratory investigation of {label}", "qc_analyst", 1
        ),
        "phase_2": TaskSpec("investigate", "Phase II investigation of {label}", "qc_analyst", 20),
        "retest": TaskSpec("retest", "Retest and close {label}", "qc_analyst", 5),
        "pending_approval": TaskSpec("approve", "Approve the conclusion of {label}", "qa", 5),
    },
)

OOS_INVESTIGATION = register(
    RecordType(
        name="oos_investigation",
        label="OOS investigation",
        plural="OOS investigations",
        model=OosInvestigation,
        workflow=OOS_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("test_code", "Test"),
            ("summary", "Summary"),
            ("conclusion", "Conclusion"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("summary", "Result"),
            ("phase1_findings", "Phase I findings"),
            ("assignable_cause", "Assignable laboratory error"),
            ("lab_error_evidence", "Evidence of the laboratory error"),
            ("phase2_manufacturing_review", "Manufacturing review"),
            ("root_cause", "Root cause"),
            ("conclusion", "Conclusion"),
            ("conclusion_rationale", "Rationale"),
            ("impact_on_other_lots", "Impact on other lots"),
        ),
        module="production",
        detail_url=lambda i: f"/production/qc/investigations/{i.id}",
        searchable=("number", "test_code", "summary"),
    )
)


# --- certificate of analysis ----------------------------------------------------------------


def everything_conforms(coa: Any) -> list[str]:
    reasons = []
    if not coa.reported:
        reasons.append("the certificate reports no results")
    for line in coa.reported:
        if line.get("result_id") is None:
            reasons.append(f"{line['test_code']}: no valid result")
        elif line.get("outcome") != ResultOutcome.PASS:
            reasons.append(f"{line['test_code']}: {line.get('outcome', '?').replace('_', ' ')}")
    return reasons


def lot_passed_qc(coa: Any) -> list[str]:
    """The lot's QC standing now, beyond the lines the certificate reports: an out-of-trend
    result not assessed, an OOS investigation open, a result recorded since the certificate was
    prepared. Whatever the certificate's own lines already say is not repeated."""
    from sqlalchemy.orm import object_session

    from pharmaqms.lifecycle.production.qc.status import qc_status_of_lot

    session = object_session(coa)
    if session is None:  # pragma: no cover - a record always belongs to its session here
        return ["the certificate is not loaded"]
    status = qc_status_of_lot(session, coa.lot_id)
    if status.passed:
        return []
    said = set(everything_conforms(coa))
    return [f"{status.lot_label}: {r}" for r in status.reasons if r not in said]


def _on_certificate_approved(session: Session, coa: Any, actor: Actor) -> None:
    from pharmaqms.lifecycle.production.qc.certificates import on_approved

    on_approved(session, coa, actor=actor)


CERTIFICATE_WORKFLOW = Workflow(
    record_type="certificate_of_analysis",
    states=tuple(s.value for s in CertificateStatus),
    initial=CertificateStatus.DRAFT.value,
    retired_states=frozenset({"withdrawn"}),
    transitions=(
        Transition(
            "review",
            "Review",
            states("draft"),
            "reviewed",
            LAB,
            signature="Reviewed",
            guards=(everything_conforms, lot_passed_qc),
        ),
        Transition(
            "approve",
            "Approve",
            states("reviewed"),
            "approved",
            QA,
            signature="Approved",
            forbid_signers_of=frozenset({"Reviewed"}),
            guards=(everything_conforms, lot_passed_qc),
            effects=(_on_certificate_approved,),
        ),
        Transition(
            "withdraw",
            "Withdraw",
            states("draft", "reviewed"),
            "withdrawn",
            LAB,
            reason_required=True,
        ),
    ),
    on_enter={"reviewed": TaskSpec("approve", "Approve certificate {label}", "qa", 3)},
)

CERTIFICATE_OF_ANALYSIS = register(
    RecordType(
        name="certificate_of_analysis",
        label="Certificate of analysis",
        plural="Certificates of analysis",
        model=CertificateOfAnalysis,
        workflow=CERTIFICATE_WORKFLOW,
        list_columns=(("number", "Number"), ("status", "Status"), ("approved_at", "Approved")),
        detail_fields=(("number", "Number"), ("status", "Status"), ("approved_at", "Approved")),
        module="production",
        detail_url=lambda c: f"/production/qc/lots/{c.lot_id}",
        searchable=("number",),
    )
)


__all__ = [
    "CERTIFICATE_WORKFLOW",
    "OOS_WORKFLOW",
    "SPECIFICATION_WORKFLOW",
    "Conclusion",
    "criterion_of",
]


def _specification_named_by_a_change(session: Session, family: str) -> str | None:
    """Change control names a specification by its family number (QSPEC-…): every revision."""
    from sqlalchemy import select

    latest = session.scalars(
        select(Specification)
        .where(Specification.family == family)
        .order_by(Specification.revision.desc())
    ).first()
    return f"{latest.family} {latest.title}" if latest is not None else None


register_affected_lookup("specification", _specification_named_by_a_change)
