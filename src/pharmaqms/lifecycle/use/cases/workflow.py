"""The life of a pharmacovigilance case:

received → valid → medically reviewed → closed
(received → invalid when it lacks a minimum criterion and can't be completed; a follow-up to a
reviewed or closed case brings it back to valid, for the review to be done again on the new
information — its earlier signatures then no longer cover the content)

Validation needs the four minimum criteria (``rules.VALIDITY``); medical review needs the
causality with its reasoning and is signed "Reviewed"; QA signs the case off ("Approved"),
and may not be the one who reviewed it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session

from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import DEFAULT_ROLES, grant
from pharmaqms.kernel.workflow import TaskSpec, Transition, Workflow, roles, states
from pharmaqms.lifecycle.use.cases.models import CaseStatus, PVCase

# A physician (or pharmacist) who assesses cases medically: seriousness, expectedness,
# causality. Separate from the PV officer, who takes cases in and runs the clocks.
DEFAULT_ROLES.setdefault(
    "medical_reviewer", ("Medical reviewer (pharmacovigilance)", {"records.read"})
)
# The qualified person responsible for pharmacovigilance (EU GVP Module I): signs the periodic
# safety reports and closes signals; one role for the whole PV module.
DEFAULT_ROLES.setdefault(
    "qppv",
    ("Qualified person responsible for pharmacovigilance (QPPV)", {"records.read"}),
)

PROCESSORS = ("pv_officer",)
REVIEWERS = ("pv_officer", "medical_reviewer")
grant("pv.intake", "pv_officer", "integration")
grant("pv.process", *PROCESSORS)
grant("pv.review", *REVIEWERS)
grant("pv.reference", "pv_officer", "qa")
# An E2B(R3) export is what goes to an authority or a partner: those who process cases.
grant("pv.export", "pv_officer", "medical_reviewer")
# Loading the organisation's licensed MedDRA release is terminology administration for PV.
grant("pv.meddra", "pv_officer")


def minimum_criteria(case: Any) -> list[str]:
    """The four minimum criteria, judged on the case's current information."""
    from pharmaqms.lifecycle.use.cases import facts, rules

    session = object_session(case)
    if session is None:  # a case not in a session has no products or events to judge
        return ["the case is not loaded"]
    results = rules.validity(facts.of_case(session, case))
    return [r.found for r in results if not r.passed]


def assessed(case: Any) -> list[str]:
    reasons = []
    if not case.causality:
        reasons.append("the causality (WHO-UMC category) is not assessed")
    if not (case.causality_reasoning or "").strip():
        reasons.append("the reviewer's reasoning for the causality is missing")
    if not case.expectedness:
        reasons.append("the expectedness is not assessed")
    return reasons


def merge_target_named(case: Any) -> list[str]:
    if case.duplicate_of_id is None:
        return ["name the case it duplicates (the merge sets it)"]
    return []


def _on_valid(session: Any, case: Any, actor: Any) -> None:
    from pharmaqms.lifecycle.use.cases import service

    service.became_valid(session, case, actor)


def _clocks_stay(session: Any, case: Any, actor: Any) -> None:
    # Every transition closes the record's open tasks; the reporting clocks run on until the
    # case is signed off, so their tasks come back into the inbox.
    from pharmaqms.lifecycle.use.cases import service

    service.refresh_clock_tasks(session, case, actor)


PV_CASE_WORKFLOW = Workflow(
    record_type="pv_case",
    states=tuple(s.value for s in CaseStatus),
    initial=CaseStatus.RECEIVED,
    retired_states=frozenset({CaseStatus.INVALID.value, CaseStatus.DUPLICATE.value}),
    labels={"medically_reviewed": "medically reviewed"},
    transitions=(
        Transition(
            "validate",
            "Valid case: start the clocks",
            states("received"),
            "valid",
            roles(*PROCESSORS),
            guards=(minimum_criteria,),
            effects=(_on_valid,),
        ),
        Transition(
            "invalidate",
            "Not a valid case",
            states("received"),
            "invalid",
            roles(*PROCESSORS),
            reason_required=True,
        ),
        Transition(
            "medical_review",
            "Medical review done",
            states("valid"),
            "medically_reviewed",
            roles(*REVIEWERS),
            signature="Reviewed",
            guards=(assessed,),
            effects=(_clocks_stay,),
        ),
        Transition(
            "sign_off",
            "QA sign-off",
            states("medically_reviewed"),
            "closed",
            roles("qa"),
            signature="Approved",
            forbid_signers_of=frozenset({"Reviewed"}),
            guards=(assessed,),
        ),
        Transition(
            "mark_duplicate",
            "Duplicate of another case: merge",
            states("received", "valid"),
            "duplicate",
            roles(*PROCESSORS),
            reason_required=True,
            guards=(merge_target_named,),
        ),
        Transition(
            "reassess",
            "Follow-up received: assess again",
            states("medically_reviewed", "closed"),
            "valid",
            roles(*PROCESSORS),
            reason_required=True,
            effects=(_clocks_stay,),
        ),
    ),
    on_enter={
        "valid": TaskSpec("medical_review", "Medical review of {label}", "medical_reviewer", 5),
        "medically_reviewed": TaskSpec("sign_off", "QA sign-off of {label}", "qa", 3),
    },
)

PV_CASE = register(
    RecordType(
        name="pv_case",
        label="PV case",
        plural="PV cases",
        model=PVCase,
        workflow=PV_CASE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("source", "Source"),
            ("status", "Status"),
            ("first_received_at", "Received"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("status", "Status"),
            ("source", "Source"),
            ("source_reference", "Sender's reference"),
            ("first_received_at", "First received"),
            ("day_zero", "Day 0"),
            ("expectedness", "Expectedness"),
            ("causality", "Causality"),
        ),
        module="pv",
        detail_url=lambda c: f"/pv/cases/{c.id}",
        searchable=("number", "source_reference"),
    )
)
